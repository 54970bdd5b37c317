from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import PreferencesForm, ResendVerificationForm
from accounts.services import user_update_preferences, verification_resend


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


@require_http_methods(["GET", "POST"])
def resend_verification(request):
    """Anyone may ask for a new confirmation link; the answer never says whether the
    address has an account (see ``verification_resend``)."""
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verification_resend(request=request, email=form.cleaned_data["email"])
        messages.info(
            request,
            "If an account with that address is waiting for confirmation, a new link is on its way. "
            "Links sent earlier keep working until they expire.",
        )
        return redirect("account_email_verification_sent")
    return render(request, "account/resend_verification.html", {"form": form})
