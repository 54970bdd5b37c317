"""Server-rendered SVG charts: CSP-safe, no CDN, readable without JavaScript.

Pages embed the returned markup inline. Numbers may be Decimal or int; they
are only converted to float for pixel coordinates, never for money. Axis and
bar labels are written by ``config.formatting`` (the pages' own rules).

    line_chart([Series("APY", points)], y_kind="percent")

where ``points`` is a list of (x, y) with x a date/datetime/number and y a
number or None (a gap).

Values on hover and tap: every x column (bucketed to at most ``MAX_HITS``) is a
focusable ``<g class="chart-hit">`` whose ``<title>`` names the values of all
series there — browsers show it on hover, screen readers read it on focus, and
``static/js/charts.js`` copies it into a caption under the chart on tap/focus.
Axes: ticks are round numbers (1, 2, 2.5, 5 × 10ⁿ); a series that never goes
below zero never gets a negative tick; ``y_max`` caps the top (impermanent loss
never rises above 0); ``x_scale="log"`` spaces price ratios so 0.5× and 2× sit
equally far from 1×.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from config import formatting

PALETTE = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#a16207", "#be123c"]
MAX_HITS = 120  # hover/focus targets per chart; longer series are bucketed
LOG_TICKS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
             2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]


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
    if kind == "ratio":
        return f"{float(value):.3g}×"
    if abs(float(value)) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _fmt_value(value: float | Decimal, kind: str) -> str:
    """A hover value: as precise as the page shows it elsewhere."""
    if kind == "percent":
        return formatting.percent(value, 2)
    if kind == "usd":
        return formatting.money_compact(value, "USD") if abs(float(value)) >= 1e6 else formatting.money(value, "USD")
    return _fmt_tick(value, kind)


def nice_step(span: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) splitting ``span`` into about ``count`` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power * (1 + 1e-9):
            return m * power
    return 10 * power


def y_axis(lo: float, hi: float, *, floor_zero: bool, cap: float | None = None) -> tuple[float, float, list[float]]:
    """Axis bounds and round ticks covering [lo, hi]. ``floor_zero`` (the data never goes
    below 0) keeps every tick at or above 0; ``cap`` is where the axis ends at the top."""
    if cap is not None:
        hi, lo = cap, min(lo, cap)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi if cap is not None else hi + pad
    step = nice_step(hi - lo)
    top = cap if cap is not None else math.ceil(hi / step - 1e-9) * step
    bottom = math.floor(lo / step + 1e-9) * step
    if floor_zero:
        bottom = max(bottom, 0.0)
    ticks, n = [], 0
    while bottom + n * step <= top + step * 1e-6:
        ticks.append(round(bottom + n * step, 12) + 0.0)  # + 0.0: no "-0"
        n += 1
    return bottom, top, ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Round price ratios within [lo, hi] for a log axis: 1-2-5 steps (0.5× and 2× sit
    equally far from 1×), or only powers of ten when that would be more than 7 ticks."""
    inside = [t for t in LOG_TICKS if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if len(inside) > 7:
        inside = [t for t in inside if math.log10(t) == round(math.log10(t))]
    return inside or [lo, hi]


def line_chart(
    series: list[Series],
    *,
    title: str = "",
    width: int = 720,
    height: int = 280,
    x_kind: str = "date",
    y_kind: str = "number",
    y_zero: bool = False,
    y_max: float | None = None,
    x_scale: str = "linear",
    markers: list[tuple[object, str]] | None = None,
) -> SafeString:
    """An accessible SVG line chart (role=img with a text title/description)."""
    left, right, top, bottom = 84, 16, 16, 48
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
    log_x = x_scale == "log" and min(xs) > 0
    fx = math.log if log_x else (lambda v: v)
    x_lo, x_hi = fx(min(xs)), fx(max(xs))
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    data_lo, data_hi = min(ys), max(ys)
    if y_zero:
        data_lo, data_hi = min(data_lo, 0.0), max(data_hi, 0.0)
    y_lo, y_hi, y_ticks = y_axis(data_lo, data_hi, floor_zero=min(ys) >= 0, cap=y_max)

    def px(x: float) -> float:
        return left + (fx(x) - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{desc}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">'
    ]
    parts.append(f"<title>{desc}</title>")
    for yv in y_ticks:
        yp = py(yv)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yp:.1f}" y2="{yp:.1f}" stroke="#e2e7ec"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yp + 4:.1f}" text-anchor="end" fill="#4a5866">'
            f"{escape(_fmt_tick(yv, y_kind))}</text>"
        )
    if y_lo < 0 <= y_hi:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#8a96a3"/>')
    if log_x:
        x_ticks = log_ticks(min(xs), max(xs))
    else:
        # Four labels: a date is ten characters, and phones get larger type (site.css).
        x_ticks = [min(xs) + (max(xs) - min(xs)) * i / 3 for i in range(4)] if max(xs) > min(xs) else [xs[0]]
    for xv in x_ticks:
        xp = px(xv)
        anchor = "start" if xp - left < 30 else "end" if width - right - xp < 30 else "middle"
        parts.append(
            f'<text x="{xp:.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" fill="#4a5866">'
            f"{escape(_fmt_tick(xv, x_kind))}</text>"
        )
        if log_x:
            parts.append(f'<line x1="{xp:.1f}" x2="{xp:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eef1f4"/>')
    for m_x, m_label in markers or []:
        mx = px(_x_value(m_x))
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#a16207" '
            f'stroke-dasharray="4 3"/><text x="{mx + 3:.1f}" y="{top + 10}" fill="#a16207">'
            f"{escape(m_label)}</text>"
        )
    colors = [s.color or PALETTE[idx % len(PALETTE)] for idx, s in enumerate(series)]
    for s, color in zip(series, colors, strict=True):
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
                base = py(min(max(y_lo, 0.0), y_hi))
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
    parts.extend(_hit_targets(series, colors, px=px, py=py, top=top, plot_h=plot_h, x_kind=x_kind, y_kind=y_kind))
    # Legend: spaced for the larger type phones get (site.css), so labels never overlap.
    lx = left
    for s, color in zip(series, colors, strict=True):
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{height - 9}" fill="#16202a">{escape(s.label)}</text>'
        )
        lx += 32 + 11 * len(s.label)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped


def _hit_targets(series, colors, *, px, py, top, plot_h, x_kind, y_kind) -> list[str]:
    """One focusable column per x (bucketed to MAX_HITS) titled with every series' value there."""
    columns: dict[float, dict[int, float]] = {}
    raw_x: dict[float, object] = {}
    for idx, s in enumerate(series):
        for x, y in s.points:
            if y is None:
                continue
            key = _x_value(x)
            columns.setdefault(key, {})[idx] = y
            raw_x.setdefault(key, x)
    keys = sorted(columns)
    if len(keys) > MAX_HITS:
        stride = math.ceil(len(keys) / MAX_HITS)
        keys = keys[::-1][::stride][::-1]  # keep the latest point
    centres = [px(k) for k in keys]
    parts = []
    for i, key in enumerate(keys):
        x0 = (centres[i - 1] + centres[i]) / 2 if i else centres[i] - 4
        x1 = (centres[i] + centres[i + 1]) / 2 if i + 1 < len(keys) else centres[i] + 4
        values = "; ".join(
            f"{series[idx].label} {_fmt_value(y, y_kind)}" for idx, y in sorted(columns[key].items())
        )
        label = f"{_fmt_tick(key, x_kind)}: {values}"
        dots = "".join(
            f'<circle cx="{centres[i]:.1f}" cy="{py(float(y)):.1f}" r="4" fill="{colors[idx]}"/>'
            for idx, y in sorted(columns[key].items())
        )
        parts.append(
            f'<g class="chart-hit" tabindex="0"><title>{escape(label)}</title>'
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" fill="transparent"/>'
            f"{dots}</g>"
        )
    return parts


def bar_chart(
    items: list[tuple[str, Decimal | float | int]], *, title: str = "", width: int = 480, value_kind: str = "usd"
) -> SafeString:
    """Horizontal bars (allocation breakdowns). Negative values are drawn from zero."""
    # Room for 20-odd characters of label and the value at the larger type phones get (site.css).
    row_h, left, right = 28, 190, 90
    height = max(row_h * len(items) + 8, 40)
    desc = escape(title or "bar chart")
    if not items:
        return mark_safe(
            f'<svg class="chart" viewBox="0 0 {width} 40" role="img" aria-label="{desc}">'
            f'<text x="10" y="24" fill="#4a5866">No data yet</text></svg>'
        )
    peak = max(abs(float(v)) for _, v in items) or 1.0
    parts = [
        f'<svg class="chart" data-chart="bars" viewBox="0 0 {width} {height}" role="img" aria-label="{desc}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{desc}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = abs(float(value)) / peak * (width - left - right)
        color = PALETTE[0] if float(value) >= 0 else "#a4161a"
        parts.append(
            f'<g class="chart-hit" tabindex="0"><title>{escape(label)}: {escape(_fmt_value(value, value_kind))}</title>'
            f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="transparent"/>'
            f'<text x="{left - 8}" y="{y + row_h / 2}" dominant-baseline="central" text-anchor="end" '
            f'fill="#16202a">{escape(label[:24])}</text>'
            f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{color}" rx="2"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + row_h / 2}" dominant-baseline="central" fill="#4a5866">'
            f"{escape(_fmt_tick(value, value_kind))}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped
