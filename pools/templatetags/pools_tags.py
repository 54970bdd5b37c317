"""Formatting for pool pages: percentages, compact dollars, risk grade badges, pool names.

Any app may use ``{% load pools_tags %}`` and ``{{ pool|pool_name }}`` ("USDC-WETH 0.05 % ·
Uniswap V3 · Ethereum"; select_related the pool's chain and protocol) or
``{{ pool|pool_label }}`` ("USDC-WETH 0.05 %") wherever a pool is named."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.http import QueryDict

register = template.Library()


def _dec(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def pool_name(pool) -> str:
    """A pool's full name: symbol, fee tier or meta, protocol, chain."""
    return pool.display_name if pool is not None else ""


@register.filter
def pool_label(pool) -> str:
    """A pool's own name: symbol and fee tier or meta (or a short contract address)."""
    return pool.label if pool is not None else ""


@register.filter
def pct(value, places: int = 2) -> str:
    """``Decimal('5.1234')`` -> ``5.12%``; unknown -> an en dash."""
    number = _dec(value)
    if number is None:
        return "–"
    return f"{number:,.{int(places)}f}%"


@register.filter
def usd(value) -> str:
    """Compact dollars: $1.23bn, $45.6M, $789.0k, $512.30."""
    number = _dec(value)
    if number is None:
        return "–"
    for limit, suffix in ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if abs(number) >= limit:
            return f"${number / limit:,.1f}{suffix}"
    return f"${number:,.2f}"


@register.filter
def price(value) -> str:
    number = _dec(value)
    if number is None:
        return "–"
    if abs(number) >= 1:
        return f"${number:,.2f}"
    return f"${number:.6g}"


@register.filter
def grade_class(grade: str) -> str:
    return {"A": "badge-ok", "B": "badge-ok", "C": "badge-warn", "D": "badge-warn"}.get(grade or "", "badge-danger"
                                                                                         if grade else "")


@register.filter
def yes_no(value) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


@register.simple_tag
def with_query(query: str, **params) -> str:
    """``?<query>&key=value`` with ``params`` replacing existing keys."""
    qd = QueryDict(query, mutable=True)
    for key, value in params.items():
        qd[key] = value
    return "?" + qd.urlencode()
