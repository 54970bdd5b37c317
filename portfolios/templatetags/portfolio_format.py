"""Number formatting for the portfolio pages.

Money stays ``Decimal`` until it becomes text here; nothing is converted to
float. ``None`` (unknown: no price, no history) renders as an em dash so a
missing number is never shown as 0.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from portfolios.analytics import to_decimal

register = template.Library()

DASH = "—"
MINUS = "−"  # U+2212, lines up with digits in tabular figures


def _dec(value) -> Decimal | None:
    """Template input as Decimal; blank and non-numbers show as a dash."""
    return None if value == "" else to_decimal(value)
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _group(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


@register.filter
def usd(value, places: int = 2) -> str:
    """``Decimal("-1234.5")`` → ``−$1,234.50``; below a cent keeps 2 significant digits."""
    d = _dec(value)
    if d is None:
        return DASH
    places = int(places)
    sign = MINUS if d < 0 else ""
    magnitude = abs(d)
    if 0 < magnitude < Decimal("0.01"):
        return f"{sign}${magnitude:.2g}" if magnitude >= Decimal("1e-6") else f"{sign}<$0.000001"
    text = _group(magnitude, places)
    if text.strip("0.,") == "":
        sign = ""
    return f"{sign}${text}"


@register.filter
def usd_signed(value) -> str:
    """Like ``usd`` with an explicit ``+`` for gains."""
    d = _dec(value)
    if d is None:
        return DASH
    text = usd(d)
    return f"+{text}" if d > 0 and text != "$0.00" else text


@register.filter
def pct(value, places: int = 2) -> str:
    """A percentage already in percent units (``5`` → ``5.00 %``)."""
    d = _dec(value)
    if d is None:
        return DASH
    text = _group(abs(d), int(places))
    sign = MINUS if d < 0 and text.strip("0.,") else ""
    return f"{sign}{text} %"


@register.filter
def ratio_pct(value, places: int = 2) -> str:
    """A fraction as a percentage (``Decimal("-0.0572")`` → ``−5.72 %``)."""
    d = _dec(value)
    if d is None:
        return DASH
    return pct(d * 100, places)


@register.filter
def qty(value) -> str:
    """A token quantity without trailing zeros, grouped: ``1234.500000`` → ``1,234.5``."""
    d = _dec(value)
    if d is None:
        return DASH
    if d == 0:
        return "0"
    sign = MINUS if d < 0 else ""
    magnitude = abs(d)
    places = 2 if magnitude >= 1000 else 6 if magnitude >= 1 else 10
    text = _group(magnitude, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", ""):
        text = f"{magnitude:.3g}"
    return f"{sign}{text}"


@register.filter
def sign_class(value) -> str:
    """CSS class for a gain/loss: ``positive``, ``negative`` or ``""``."""
    d = _dec(value)
    if d is None or d == 0:
        return ""
    return "positive" if d > 0 else "negative"


@register.filter
def asset_label(asset: str) -> str:
    """A leg's asset for people: the synthetic receipt ``LP#12`` reads "position units"."""
    if isinstance(asset, str) and asset.startswith("LP#"):
        return "position units"
    return asset


@register.filter
def txn_kind(kind: str) -> str:
    """``"lp_deposit"`` → ``"LP deposit"`` (the model's label)."""
    from portfolios.models import Transaction

    return dict(Transaction.Kind.choices).get(kind, kind)


@register.filter
def income_type_label(income_type: str) -> str:
    from portfolios.models import Transaction

    return dict(Transaction.IncomeType.choices).get(income_type, income_type)
