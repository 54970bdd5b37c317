from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts.forms import PreferencesForm
from accounts.services import user_update_preferences


@login_required
def overview(request):
    """/account/: who you are signed in as, your choices at a glance, where to change them."""
    emails = list(request.user.emailaddress_set.order_by("-primary", "email"))
    return render(request, "accounts/overview.html", {"emails": emails})


@login_required
def settings_view(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_preferences(user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Your settings were saved.")
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})
