"""Writes to accounts."""

import logging

from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.db import transaction

from accounts.models import User

logger = logging.getLogger(__name__)

PREFERENCE_FIELDS = ("name", "fiat_currency", "tax_jurisdiction", "cost_basis_method", "lp_treatment", "timezone")


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
