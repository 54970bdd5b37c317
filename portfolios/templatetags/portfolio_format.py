"""Number and label filters of the portfolio (and tax) pages.

The formatting itself is ``config.formatting`` (one rule for dashes, minus
signs and rounding, shared with the pool pages, charts and exports); these
filters only adapt it to templates. Money stays ``Decimal`` until it becomes
text; ``None`` (no price, no history) shows as an em dash, never as 0.
"""

from __future__ import annotations

from django import template

from config import formatting
from portfolios.ledger import IncomeType, TxKind, is_lp_asset

register = template.Library()

_KIND_LABELS = {k.value: k.label for k in TxKind}
_INCOME_LABELS = {t.value: t.label for t in IncomeType}


@register.filter
def money(value: object, currency: str = "USD") -> str:
    """``{{ value|money:"EUR" }}`` → ``€1,234.50`` (``−`` for losses)."""
    return formatting.money(value, currency)


@register.filter
def money_signed(value: object, currency: str = "USD") -> str:
    """Like ``money`` with an explicit ``+`` for gains."""
    return formatting.money(value, currency, signed=True)


@register.filter
def usd(value: object, places: int | None = None) -> str:
    """``Decimal("-1234.5")`` → ``−$1,234.50``; below a cent keeps 2 significant digits."""
    return formatting.money(value, "USD", places=places)


@register.filter
def usd_signed(value: object) -> str:
    """Like ``usd`` with an explicit ``+`` for gains."""
    return formatting.money(value, "USD", signed=True)


@register.filter
def pct(value: object, places: int = 2) -> str:
    """A percentage already in percent units (``5`` → ``5.00%``)."""
    return formatting.percent(value, int(places))


@register.filter
def ratio_pct(value: object, places: int = 2) -> str:
    """A fraction as a percentage (``Decimal("-0.0572")`` → ``−5.72%``)."""
    return formatting.ratio_percent(value, int(places))


@register.filter
def qty(value: object) -> str:
    """A token quantity without trailing zeros, grouped: ``1234.500000`` → ``1,234.5``."""
    return formatting.quantity(value)


@register.filter
def sign_class(value: object) -> str:
    """CSS class for a gain/loss: ``positive``, ``negative`` or ``""``."""
    d = formatting.to_decimal(value)
    if d is None or d == 0:
        return ""
    return "positive" if d > 0 else "negative"


@register.filter
def asset_label(asset: object) -> object:
    """A leg's asset for people: the synthetic receipt ``LP#12`` reads "position units"."""
    if isinstance(asset, str) and is_lp_asset(asset):
        return "position units"
    return asset


@register.filter
def txn_kind(kind: str) -> str:
    """``"lp_deposit"`` → ``"LP deposit"`` (the ledger's label)."""
    return _KIND_LABELS.get(kind, kind)


@register.filter
def income_type_label(income_type: str) -> str:
    return _INCOME_LABELS.get(income_type, income_type)
