"""The user: email is the login; preferences that later features read."""

import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models


class Currency(models.TextChoices):
    USD = "USD", "US dollar (USD)"


class Jurisdiction(models.TextChoices):
    US = "us", "United States"
    UK = "uk", "United Kingdom"
    OTHER = "other", "Other"


class CostBasisMethod(models.TextChoices):
    FIFO = "fifo", "FIFO (first in, first out)"
    LIFO = "lifo", "LIFO (last in, first out)"
    HIFO = "hifo", "HIFO (highest cost first)"
    AVERAGE = "average", "Average cost"
    UK = "uk", "UK share pooling (same-day, 30-day, Section 104)"


class LpTreatment(models.TextChoices):
    NONTAXABLE = "nontaxable", "LP deposits/withdrawals move cost basis (no gain)"
    DISPOSAL = "disposal", "LP deposits/withdrawals are disposals (stricter)"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/London).")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    name = models.CharField("display name", max_length=150, blank=True)
    email = models.EmailField("email address", unique=True)

    fiat_currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    tax_jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices, default=Jurisdiction.US)
    cost_basis_method = models.CharField(
        max_length=8, choices=CostBasisMethod.choices, default=CostBasisMethod.FIFO
    )
    lp_treatment = models.CharField(
        "DeFi LP treatment", max_length=12, choices=LpTreatment.choices, default=LpTreatment.NONTAXABLE
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    lots_per_wallet_from = models.DateField(
        "track tax lots per wallet from",
        null=True,
        blank=True,
        help_text="From this date, cost basis is tracked wallet by wallet (US rules: 1 January 2025); "
        "empty: one pool for all your wallets. Not used with UK share pooling.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            # UK users always use UK share pooling, and only UK users do.
            models.CheckConstraint(
                condition=(
                    models.Q(tax_jurisdiction="uk", cost_basis_method="uk")
                    | (~models.Q(tax_jurisdiction="uk") & ~models.Q(cost_basis_method="uk"))
                ),
                name="user_uk_pooling_iff_uk",
                violation_error_message="UK share pooling applies to, and only to, the UK jurisdiction.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = (self.email or "").strip().lower()
        if self.tax_jurisdiction == Jurisdiction.UK:
            self.cost_basis_method = CostBasisMethod.UK
        elif self.cost_basis_method == CostBasisMethod.UK:
            raise ValidationError(
                {"cost_basis_method": "UK share pooling is only available for the UK jurisdiction."}
            )
