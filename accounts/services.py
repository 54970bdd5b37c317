"""Writes to accounts."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User

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
