from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import PreferencesForm
from accounts.selectors import legacy_token_get, user_session_get, user_sessions_list
from accounts.services import legacy_tokens_revoke, user_update_preferences


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
    return render(request, "accounts/settings.html", {
        "form": form,
        "sessions": user_sessions_list(user=request.user),
        "current_session_key": request.session.session_key,
        "legacy_token": legacy_token_get(user=request.user),
    })


@login_required
@require_POST
def session_end_view(request, session_id: int):
    """Sign a session out (a browser, or an app: its tokens stop working at once)."""
    session = user_session_get(user=request.user, session_id=session_id)
    current = session.session_key == request.session.session_key
    session.end()
    if current:
        return redirect("account_login")
    messages.success(request, "That session was signed out; its tokens no longer work.")
    return redirect("accounts:settings")


@login_required
@require_POST
def legacy_token_revoke_view(request):
    if legacy_tokens_revoke(user=request.user):
        messages.success(request, "Your legacy API token was revoked.")
    return redirect("accounts:settings")
