"""``{{ when|price_date }}``: the date of the price behind a "now" figure, and a
"stale" badge beside it when that price is older than ``PRICE_STALE_AFTER_HOURS``.

The date is shown in the user's time zone (the active one), labelled with it.
Nothing is shown when there is no dated price (a stablecoin at its peg, amounts
the user gave, or no price at all - those have their own labels)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portfolios.selectors.tokens import price_is_stale

register = template.Library()


def age_words(priced_at: datetime, now: datetime) -> str:
    age = now - priced_at
    days = age.days
    if days >= 60:
        return f"{days // 30} months old"
    if days >= 2:
        return f"{days} days old"
    return f"{int(age.total_seconds() // 3600)} hours old"


@register.filter
def price_date(priced_at: datetime | None) -> SafeString | str:
    if not isinstance(priced_at, datetime):
        return ""
    now = timezone.now()
    local = timezone.localtime(priced_at)
    zone = timezone.get_current_timezone_name()
    label = format_html('<span class="sub price-date" data-testid="price-date">price of {} ({})</span>',
                        local.strftime("%Y-%m-%d %H:%M"), zone)
    if not price_is_stale(priced_at=priced_at, now=now):
        return label
    return format_html('{}<span class="badge badge-warn" data-testid="stale-price" title="{}">stale price: {}</span>',
                       label, f"No newer price than this: older than {settings.PRICE_STALE_AFTER_HOURS} hours.",
                       age_words(priced_at, now))
