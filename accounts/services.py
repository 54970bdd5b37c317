"""Writes to accounts."""

import logging
from datetime import datetime

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from accounts.api.authentication import legacy_token_expires_at
from accounts.models import User

logger = logging.getLogger(__name__)

PREFERENCE_FIELDS = ("name", "fiat_currency", "tax_jurisdiction", "cost_basis_method", "lp_treatment", "timezone",
                     "lots_per_wallet_from")


@transaction.atomic
def user_update_preferences(*, user: User, data: dict) -> User:
    """Apply preference changes; UK jurisdiction implies UK share pooling.

    Raises ``django.core.exceptions.ValidationError`` naming the field.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    for field in PREFERENCE_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    # Leaving the UK: UK pooling no longer applies, fall back to FIFO unless
    # the caller chose another method.
    if user.tax_jurisdiction != "uk" and user.cost_basis_method == "uk" and "cost_basis_method" not in data:
        user.cost_basis_method = "fifo"
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_ensure_demo(*, email: str, password: str) -> User:
    """Create (or reset the password of) a verified demo user. Idempotent."""
    user, _ = User.objects.get_or_create(email=email.lower())
    user.set_password(password)
    user.name = user.name or "Demo user"
    user.full_clean()
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


class LoginRefused(Exception):
    """Wrong credentials, or an account that may not log in yet (unverified email)."""


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check email and password through allauth, so that a failure counts against the same
    brute-force limits as every other login (accounts/limits.py)."""
    user = get_adapter(request).authenticate(request, email=email.lower(), password=password)
    if user is None:
        raise LoginRefused("Unable to log in with these credentials.")
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise LoginRefused("Verify your email address first.")
    return user


@transaction.atomic
def legacy_token_issue(*, user: User) -> tuple[str, datetime]:
    """A fresh legacy API token for ``user``, replacing (revoking) any previous one."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    return token.key, legacy_token_expires_at(token.created)


def legacy_tokens_revoke(*, user: User) -> int:
    """Delete the user's legacy API token(s); returns how many there were."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """End the user's sessions (web and app: an app's tokens die with its session) except
    ``keep_session_key``; returns how many ended."""
    sessions = [s for s in UserSession.objects.purge_and_list(user) if s.session_key != keep_session_key]
    for session in sessions:
        session.end()
    return len(sessions)


RESEND_COOLDOWN_SECONDS = 180  # as allauth's own "confirm_email" limit: one link per address per 3 minutes


def verification_resend(*, request, email: str) -> bool:
    """Email a fresh confirmation link to an address still waiting for one.

    Returns whether a link was sent; callers must not tell the visitor which (the
    same answer for unknown, confirmed and cooling-down addresses keeps accounts
    private). Earlier links stay valid (allauth's HMAC keys) until they expire.
    If the cache is down the cooldown fails open: a person still gets their link.
    """
    address = (
        EmailAddress.objects.filter(email__iexact=email.strip(), verified=False, user__is_active=True)
        .select_related("user")
        .first()
    )
    if address is None:
        return False
    try:
        if not cache.add(f"accounts:verification-resend:{address.pk}", 1, timeout=RESEND_COOLDOWN_SECONDS):
            return False
    except Exception:  # noqa: BLE001 - a cache outage must not block signing up
        logger.warning("verification resend: cache unavailable, cooldown skipped", exc_info=True)
    address.send_confirmation(request)
    return True
