"""Server-rendered SVG charts: no JavaScript, no CDN, CSP-safe.

Pages embed the returned markup inline. Numbers may be Decimal or int; they
are only converted to float for pixel coordinates, never for money. Axis and
bar labels are written by ``config.formatting`` (the pages' own rules).

    line_chart([Series("APY", points)], y_label="%")

where ``points`` is a list of (x, y) with x a date/datetime/number and y a
number or None (a gap).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from config import formatting

PALETTE = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#a16207", "#be123c"]


@dataclass
class Series:
    label: str
    points: list[tuple[Any, Any]]  # x: date, datetime or number; y: number or None
    color: str | None = None
    dashed: bool = False
    kind: str = "line"  # "line" or "area"
    extra: dict = field(default_factory=dict)


def _x_value(x) -> float:
    if isinstance(x, dt.datetime):
        return x.timestamp()
    if isinstance(x, dt.date):
        return dt.datetime(x.year, x.month, x.day, tzinfo=dt.UTC).timestamp()
    return float(x)


def _fmt_tick(value: float | Decimal, kind: str) -> str:
    if kind == "date":
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).strftime("%Y-%m-%d")
    if kind == "percent":
        return formatting.percent(value, 1)
    if kind == "usd":
        return formatting.money_compact(value, "USD")
    if abs(float(value)) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _nice_range(lo: float, hi: float) -> tuple[float, float]:
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def line_chart(
    series: list[Series],
    *,
    title: str = "",
    width: int = 720,
    height: int = 280,
    x_kind: str = "date",
    y_kind: str = "number",
    y_zero: bool = False,
    markers: list[tuple[object, str]] | None = None,
) -> SafeString:
    """An accessible SVG line chart (role=img with a text title/description)."""
    left, right, top, bottom = 64, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    xs, ys = [], []
    for s in series:
        for x, y in s.points:
            if y is None:
                continue
            xs.append(_x_value(x))
            ys.append(float(y))
    desc = escape(title or ", ".join(s.label for s in series))
    if not xs:
        return mark_safe(
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{desc}">'
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#4a5866">No data yet</text></svg>'
        )
    x_lo, x_hi = min(xs), max(xs)
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = _nice_range(min(ys + ([0.0] if y_zero else [])), max(ys + ([0.0] if y_zero else [])))

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{desc}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">'
    ]
    parts.append(f"<title>{desc}</title>")
    # grid + y ticks
    for i in range(5):
        yv = y_lo + (y_hi - y_lo) * i / 4
        yp = py(yv)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yp:.1f}" y2="{yp:.1f}" stroke="#e2e7ec"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yp + 4:.1f}" text-anchor="end" fill="#4a5866">'
            f"{escape(_fmt_tick(yv, y_kind))}</text>"
        )
    if y_lo < 0 < y_hi:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#8a96a3"/>')
    for i in range(5):
        xv = x_lo + (x_hi - x_lo) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text x="{px(xv):.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" fill="#4a5866">'
            f"{escape(_fmt_tick(xv, x_kind))}</text>"
        )
    for m_x, m_label in markers or []:
        mx = px(_x_value(m_x))
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#a16207" '
            f'stroke-dasharray="4 3"/><text x="{mx + 3:.1f}" y="{top + 10}" fill="#a16207">'
            f"{escape(m_label)}</text>"
        )
    # series
    for idx, s in enumerate(series):
        color = s.color or PALETTE[idx % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for x, y in s.points:
            if y is None:
                segments.append([])
                continue
            segments[-1].append(f"{px(_x_value(x)):.1f},{py(float(y)):.1f}")
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for seg in segments:
            if not seg:
                continue
            if s.kind == "area" and len(seg) > 1:
                base = py(max(y_lo, 0.0)) if y_lo < 0 else py(y_lo)
                first_x, last_x = seg[0].split(",")[0], seg[-1].split(",")[0]
                parts.append(
                    f'<polygon points="{first_x},{base:.1f} {" ".join(seg)} {last_x},{base:.1f}" '
                    f'fill="{color}" fill-opacity="0.15" stroke="none"/>'
                )
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
            else:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
                )
    # legend
    lx = left
    for idx, s in enumerate(series):
        color = s.color or PALETTE[idx % len(PALETTE)]
        label = escape(s.label)
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{height - 9}" fill="#16202a">{label}</text>'
        )
        lx += 28 + 7 * len(s.label)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped


def bar_chart(
    items: list[tuple[str, Decimal | float | int]], *, title: str = "", width: int = 480, value_kind: str = "usd"
) -> SafeString:
    """Horizontal bars (allocation breakdowns). Negative values are drawn from zero."""
    row_h, left, right = 24, 150, 90
    height = max(row_h * len(items) + 8, 40)
    desc = escape(title or "bar chart")
    if not items:
        return mark_safe(
            f'<svg class="chart" viewBox="0 0 {width} 40" role="img" aria-label="{desc}">'
            f'<text x="10" y="24" fill="#4a5866">No data yet</text></svg>'
        )
    peak = max(abs(float(v)) for _, v in items) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{desc}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{desc}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = abs(float(value)) / peak * (width - left - right)
        color = PALETTE[0] if float(value) >= 0 else "#a4161a"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="#16202a">{escape(label[:24])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{color}" rx="2"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" fill="#4a5866">'
            f"{escape(_fmt_tick(value, value_kind))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped
