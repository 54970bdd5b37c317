"""The user: email is the login; preferences that later features read."""

import zoneinfo
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models


class Currency(models.TextChoices):
    """The user's currency: the euro and every currency the ECB publishes a daily
    euro reference rate for (``pools.fx`` converts between them; a test keeps
    this list equal to the currencies the ECB still publishes). Money is shown,
    and reports outside the UK and US are made, in it."""

    USD = "USD", "US dollar (USD)"
    EUR = "EUR", "Euro (EUR)"
    GBP = "GBP", "Pound sterling (GBP)"
    CHF = "CHF", "Swiss franc (CHF)"
    CAD = "CAD", "Canadian dollar (CAD)"
    AUD = "AUD", "Australian dollar (AUD)"
    JPY = "JPY", "Japanese yen (JPY)"
    SEK = "SEK", "Swedish krona (SEK)"
    NOK = "NOK", "Norwegian krone (NOK)"
    DKK = "DKK", "Danish krone (DKK)"
    NZD = "NZD", "New Zealand dollar (NZD)"
    ISK = "ISK", "Icelandic krona (ISK)"
    CZK = "CZK", "Czech koruna (CZK)"
    HUF = "HUF", "Hungarian forint (HUF)"
    PLN = "PLN", "Polish zloty (PLN)"
    RON = "RON", "Romanian leu (RON)"
    TRY = "TRY", "Turkish lira (TRY)"
    BRL = "BRL", "Brazilian real (BRL)"
    CNY = "CNY", "Chinese yuan renminbi (CNY)"
    HKD = "HKD", "Hong Kong dollar (HKD)"
    IDR = "IDR", "Indonesian rupiah (IDR)"
    ILS = "ILS", "Israeli new shekel (ILS)"
    INR = "INR", "Indian rupee (INR)"
    KRW = "KRW", "South Korean won (KRW)"
    MXN = "MXN", "Mexican peso (MXN)"
    MYR = "MYR", "Malaysian ringgit (MYR)"
    PHP = "PHP", "Philippine peso (PHP)"
    SGD = "SGD", "Singapore dollar (SGD)"
    THB = "THB", "Thai baht (THB)"
    ZAR = "ZAR", "South African rand (ZAR)"


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
    # Removing inherited fields with None is Django's documented way; django-stubs types them as str.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    name = models.CharField("display name", max_length=150, blank=True)
    email = models.EmailField("email address", unique=True)

    fiat_currency = models.CharField(
        "currency", max_length=3, choices=Currency.choices, default=Currency.USD,
        help_text="Amounts are shown in it; UK tax reports are in GBP and US ones in USD whatever it is.",
    )
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
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # An email-login manager in place of the username one that django-stubs expects on AbstractUser.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

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
