"""Formatting for pool pages (numbers through ``config.formatting``): percentages, compact
dollars, risk grade badges, pool names.

Any app may use ``{% load pools_tags %}`` and ``{{ pool|pool_name }}`` ("USDC-WETH 0.05 % ·
Uniswap V3 · Ethereum"; select_related the pool's chain and protocol) or
``{{ pool|pool_label }}`` ("USDC-WETH 0.05 %") wherever a pool is named."""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from config import formatting
from pools.naming import pool_label as pool_label_text
from pools.naming import short_address

register = template.Library()


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


@register.filter
def select_html(bound_field) -> SafeString:
    """A ``<select>`` rendered straight from the widget's choices (value, label).

    Django renders each option through the template engine, which costs milliseconds
    per select on every explorer page; the markup here is the same (``id``, ``name``,
    ``selected``) and every value is escaped by ``format_html``."""
    widget = bound_field.field.widget
    value = bound_field.value()
    current = "" if value is None else str(value)
    options = format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((str(v), mark_safe(" selected") if str(v) == current else "", label) for v, label in widget.choices),  # noqa: S308
    )
    return format_html('<select name="{}" id="{}">{}</select>', bound_field.html_name, bound_field.id_for_label,
                       options)


_ROW = (
    '<tr><td>{}<a href="{}">{}</a>{}{}{}<span class="pools-meta-phone small muted">{} · {}</span></td>'
    '<td class="pools-col-protocol">{} <span class="muted small">· {}</span><br>'
    '<span class="muted small">{}</span></td>'
    '<td class="num pools-col-tvl">{}</td><td class="num pools-col-apy"><strong>{}</strong></td>'
    '<td class="num pools-col-apy_base">{}</td><td class="num pools-col-apy_reward">{}</td>'
    '<td class="num pools-col-apy_mean_30d">{}</td><td class="num pools-col-risk">{}</td></tr>'
)
def _address_note(pool) -> SafeString:
    """Without meta, the short contract address (muted) tells same-symbol pools apart."""
    if pool.meta or not pool.address:
        return _NONE
    return format_html(' <span class="muted small" title="Pool contract {}">{}</span>', pool.address,
                       short_address(pool.address))


_STABLE = mark_safe(' <span class="badge">stable</span>')  # noqa: S308 - constant markup
_IL = mark_safe(' <span class="badge badge-warn" title="Impermanent-loss risk">IL</span>')  # noqa: S308
_NONE = mark_safe("")  # noqa: S308


_STAR = ('<button type="submit" name="pool" value="{}" class="link-button pools-star" aria-pressed="{}" '
         'title="{}">{}<span class="visually-hidden"> {}</span></button> ')


def _star(pool, starred) -> SafeString:
    """A watch toggle for a signed-in user (``starred``: the ids they watch); the page wraps
    the table in the form it submits to."""
    if starred is None:
        return _NONE
    on = pool.pk in starred
    title = f"Stop watching {pool.symbol}" if on else f"Watch {pool.symbol}"
    return format_html(_STAR, pool.pk, "true" if on else "false", title, "★" if on else "☆", title)


@register.simple_tag
def pool_rows(pools, starred=None) -> SafeString:
    """The explorer's table rows, built in Python (50 rows through template tags and
    filters were most of the page's time). Every value is escaped by ``format_html``.
    ``starred``: ids of the pools the user watches, to draw watch toggles (None: none)."""
    detail = reverse("pools:detail", args=[0])[:-2]  # "/pools/"
    rows = []
    for pool in pools:
        grade = pool.risk_grade
        risk = (format_html('<span class="badge {}" title="Risk score {}/100">{} · {}</span>', grade_class(grade),
                            pool.risk_score, grade, pool.risk_score) if grade else "–")
        rows.append(format_html(
            _ROW, _star(pool, starred), f"{detail}{pool.pk}/", pool_label_text(pool.symbol, pool.meta),
            _address_note(pool),
            _STABLE if pool.stablecoin else _NONE,
            _IL if pool.il_risk else _NONE, pool.protocol.name, pool.chain.name, pool.protocol.name, pool.chain.name,
            pool.get_kind_display(), usd(pool.tvl_usd), pct(pool.apy), pct(pool.apy_base), pct(pool.apy_reward),
            pct(pool.apy_mean_30d), risk,
        ))
    return mark_safe("".join(rows))  # noqa: S308 - each row is format_html output
