"""What the portfolio forms share: date-time and amount fields, the token lookup,
and putting a service's error back on a form."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from pools.models import Token
from portfolios import validation
from portfolios.selectors import token_for_symbol
from portfolios.services.errors import MissingPrice, PortfolioError

# FUTURE_TOLERANCE: a clock a little ahead of the server's is not "the future" (same rule as the services).
from portfolios.services.legs import FUTURE_TOLERANCE

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def now_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class PastDateTimeField(forms.DateTimeField):
    """A moment that already happened, entered in the user's time zone."""

    widget = DateTimeLocalInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime | None:
        moment = super().clean(value)
        if moment is not None and moment > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationError(
                "%(when)s is in the future: enter when it happened.",
                code="future",
                params={"when": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")},
            )
        if moment is not None:
            try:
                validation.check_moment(moment, "occurred_at", now=timezone.now())  # the shared rule: not before 2009
            except validation.InputProblem as problem:
                raise ValidationError(problem.message[:1].upper() + problem.message[1:] + ".", code="date") from None
        return moment


def amount_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=48,
        decimal_places=18,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


def usd_field(label: str = "Value in USD then", help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=38,
        decimal_places=18,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


def resolve_token(symbol: str, *, chain_slug: str | None = None) -> Token:
    """The listed token a symbol means (on the chain when given), or a ValidationError
    that says so. The lookup is the shared selector (also used by the CSV import)."""
    symbol = symbol.strip()
    token = token_for_symbol(symbol=symbol, chain=chain_slug)
    if token is None:
        raise ValidationError(
            "Unknown token “%(symbol)s”: we list no token with this symbol. Check the spelling "
            "(the token's symbol, e.g. ETH or USDC).",
            code="unknown_token",
            params={"symbol": symbol.upper()},
        )
    return token


def clean_fiat_value(value: Decimal | None) -> Decimal | None:
    """An optional USD value entered beside an amount: absolute, so never negative."""
    if value is not None and value < 0:
        raise ValidationError("A value in USD is an absolute amount: it cannot be negative.", code="negative")
    return value


def _token_label(token: object) -> str:
    return getattr(token, "symbol", None) or str(token)


def missing_price_message(exc: MissingPrice) -> str:
    return f"No price for {_token_label(exc.token)} on {exc.when:%Y-%m-%d}: enter the value in USD"


def apply_service_error(
    exc: Exception, form: forms.Form, formset: forms.BaseFormSet | None = None, *, leg_field: str = "fiat_value"
) -> None:
    """Put a service's error back on the form: a ``MissingPrice`` on the leg row of
    that token (its USD value field), a ``ValidationError`` on the named fields it
    carries (the rest, and any other ``PortfolioError``, above the form)."""
    if isinstance(exc, MissingPrice):
        message = missing_price_message(exc)
        if formset is not None:
            for row in formset.forms:
                if getattr(row, "is_blank", True) or not hasattr(row, "cleaned_data"):
                    continue
                token = row.cleaned_data.get("token_obj")
                if token is not None and (token == exc.token or _token_label(token) == _token_label(exc.token)):
                    row.add_error(leg_field, message)
                    return
        if leg_field in form.fields:
            form.add_error(leg_field, message)
        else:
            form.add_error(None, message)
        return
    if isinstance(exc, PortfolioError) and getattr(exc, "field", None) in form.fields:
        form.add_error(exc.field, str(exc))
        return
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error)
        else:
            form.add_error(None, exc)
        return
    form.add_error(None, str(exc))
