"""Filters of the pool pages: percentages, compact dollars, risk grade badges (``config.formatting``)."""

from __future__ import annotations

from django import template
from django.http import QueryDict

from config import formatting

register = template.Library()


@register.filter
def pct(value, places: int = 2) -> str:
    """``Decimal('5.1234')`` -> ``5.12%``; unknown -> a dash (``config.formatting``)."""
    return formatting.percent(value, int(places))


@register.filter
def usd(value) -> str:
    """Compact dollars: $1.2bn, $45.6M, $789.0k, $512.30."""
    return formatting.money_compact(value, "USD")


@register.filter
def price(value) -> str:
    return formatting.price(value, "USD")


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
