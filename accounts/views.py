from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import PreferencesForm, ResendVerificationForm
from accounts.selectors import legacy_token_get, user_session_get, user_sessions_list
from accounts.services import legacy_tokens_revoke, user_update_preferences, verification_resend


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
