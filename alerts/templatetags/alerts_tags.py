"""Template tags: the dashboard's watchlist (a page of another app) and the opportunities rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from alerts.models import WatchedPool
from alerts.opportunities import Line
from alerts.selectors import Change, watch_changes, watchlist_for_user
from config import formatting

register = template.Library()


@register.simple_tag(takes_context=True)
def watchlist_rows(context: Any) -> list[tuple[WatchedPool, list[Change]]]:
    """The user's watched pools with what changed since they last looked (two queries)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return [(w, watch_changes(w)) for w in watchlist_for_user(user=user)]


_LINE = ('<tr data-testid="opportunity"><td><a href="{}">{}</a>{}'
         '<div class="small muted">spot APY {} · TVL {}</div></td>'
         '<td class="num">{}</td><td class="num">{} · {}/100</td><td class="num">{}</td>'
         '<td class="num">{}</td><td class="small">{}</td></tr>')
_BRIDGE = mark_safe(' <span class="badge badge-warn">needs a bridge</span>')  # noqa: S308 - constant markup
_RISK = '<p>{} <a href="/learn/articles/{}/">Learn: {}</a></p>'
_NO_RISK = mark_safe('<span class="muted">none of those we check</span>')  # noqa: S308 - constant markup


def _signed(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "–"
    return f"{'+' if amount > 0 else ''}{amount:,} {currency}"


@register.simple_tag
def opportunity_rows(lines: list[Line], currency: str) -> SafeString:
    """The rows of one token's opportunities table, built in Python (a user with 50 tokens
    has up to 200 rows: template loops over them were most of the page's time). Every
    value is escaped by ``format_html``."""
    detail = reverse("pools:detail", args=[0])[:-2]
    rows = []
    for line in lines:
        risks = format_html_join("", _RISK, ((r.text, r.learn_slug, r.learn_title) for r in line.risks))
        rows.append(format_html(
            _LINE, f"{detail}{line.pool_id}/", line.name, _BRIDGE if line.needs_bridge else "",
            formatting.percent(line.apy, 2), formatting.money_compact(line.tvl_usd, "USD"),
            formatting.percent(line.apy_mean_30d, 2), line.risk_grade, line.risk_score,
            formatting.percent(line.adjusted_yield, 2), _signed(line.income_difference, currency),
            risks or _NO_RISK,
        ))  # fmt: skip
    return mark_safe("".join(rows))  # noqa: S308 - each row is format_html output
