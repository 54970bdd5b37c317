"""Learn calculators: GET forms, numbers rendered by the server (no JavaScript needed).

Each page binds its form to the query string (so a result is a link) or, with no query, to a
worked example. Library errors (:class:`~pools.amm.InvalidParameter`) go next to the field
they name; a solver that cannot finish (``ConvergenceError`` and other ``ArithmeticError``)
becomes a message above the form, never a 500.
"""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlencode

from django.shortcuts import render

from config import formatting
from config.charts import Series, line_chart
from pools.calculators import inputs
from pools.calculators.forms import (
    COMPOUNDING_CHOICES,
    ApyForm,
    BreakEvenForm,
    CalculatorForm,
    ImpermanentLossForm,
)
from pools.calculators.inputs import InvalidParameter

IL_ARTICLE_URL = "/learn/articles/impermanent-loss/"
APY_ARTICLE_URL = "/learn/articles/apr-vs-apy-and-real-yield/"
CONCENTRATED_ARTICLE_URL = "/learn/articles/concentrated-liquidity/"
STABLE_ARTICLE_URL = "/learn/articles/stablecoin-pools/"

NOT_COMPUTABLE = (
    "These inputs could not be computed: the pool solver did not settle on an answer. "
    "Try a price change closer to 1 or a smaller amplification."
)
BREAK_EVEN_HORIZONS = (7, 30, 90, 365)
#: Smallest distance between two labelled chart markers, as a fraction of the x axis.
MARKER_LABEL_GAP = Decimal("0.1")
MODEL_NAMES = {
    "constant_product": "constant-product pool",
    "weighted": "weighted pool",
    "concentrated": "concentrated range",
    "stableswap": "StableSwap pool",
}


# --- display helpers (numbers are computed in Decimal; these only format) ------------------


def percent(value: Decimal, places: int = 4) -> str:
    """A fraction as a percentage, the house way (``config.formatting.ratio_percent``):
    ``Decimal("-0.0571909")`` -> ``"−5.7191%"``. What fixed decimals cannot show (below
    10^-places %, or from 10^12 %) keeps its digits in scientific notation, same sign rule."""
    pct = value * 100
    magnitude = abs(pct)
    if not pct.is_zero() and (magnitude >= Decimal("1e12") or magnitude < Decimal(10) ** -places):
        digits = 4 if magnitude >= 1 else 3
        return (formatting.MINUS if pct < 0 else "") + f"{magnitude:.{digits}e}%"
    return formatting.ratio_percent(value, places)


def number(value: Decimal, places: int = 4) -> str:
    if abs(value) >= Decimal("1e12"):
        return f"{value:.4e}"
    return f"{value:,.{places}f}"


def ratio_label(value: Decimal) -> str:
    """``Decimal("2")`` -> ``"2×"``, ``Decimal("0.123456789")`` -> ``"0.123457×"``."""
    return f"{value.normalize():f}×" if len(f"{value.normalize():f}") <= 10 else f"{value:.6g}×"


def compounding_label(compounding) -> str:
    labels = dict(COMPOUNDING_CHOICES)
    return labels.get(str(compounding), f"{compounding}× a year").split(" (")[0].lower()


def _form_for(form_class: type[CalculatorForm], request) -> CalculatorForm:
    return form_class.for_request(request.GET)


# --- pages -----------------------------------------------------------------------------


def index(request):
    return render(request, "calculators/index.html", {"il_article_url": IL_ARTICLE_URL})


def il_chart(pool: inputs.PoolParams, price_ratio: Decimal) -> tuple[str, int, float]:
    """SVG of IL across price ratios (0.1× to 10×, widened to the current one).

    Returns ``(svg, points, milliseconds)``; the time is the curve computation alone.
    """
    started = time.perf_counter()
    points = inputs.il_curve_points(pool, price_ratio)
    elapsed_ms = (time.perf_counter() - started) * 1000
    lo, hi = points[0][0], points[-1][0]
    markers: list[tuple[object, str]] = [(price_ratio, f"now {ratio_label(price_ratio)}")]
    if pool.model == "concentrated":
        # Labels are drawn at the top of the plot, left-aligned on their line: a bound too close
        # to a labelled line keeps its line but not its text (the caption names the range).
        labelled = [price_ratio]
        for bound, name in ((pool.lower, "lower"), (pool.upper, "upper")):
            if bound is None or not lo <= bound <= hi or bound == price_ratio:
                continue
            crowded = any(abs(bound - x) / (hi - lo) < MARKER_LABEL_GAP for x in labelled)
            markers.append((bound, "" if crowded else name))
            if not crowded:
                labelled.append(bound)
    svg = line_chart(
        [Series("Impermanent loss vs holding", [(r, il * 100) for r, il in points])],
        title=f"Impermanent loss of a {MODEL_NAMES[pool.model]} for price changes "
        f"from {ratio_label(lo)} to {ratio_label(hi)}",
        x_kind="ratio",
        x_scale="log",  # 0.5× and 2× equally far from 1×, so a narrow range is not a sliver
        y_kind="percent",
        y_zero=True,
        y_max=0,  # impermanent loss is never a gain: the axis ends at 0
        markers=markers,
    )
    return svg, len(points), elapsed_ms


def impermanent_loss(request):
    form = _form_for(ImpermanentLossForm, request)
    result = chart = None
    curve_ms: float | None = None
    curve_points = 0
    error = None
    if form.is_valid():
        pool, ratio = form.cleaned_data["pool"], form.cleaned_data["price_ratio"]
        try:
            il = inputs.impermanent_loss(pool, ratio)
            chart, curve_points, curve_ms = il_chart(pool, ratio)
        except InvalidParameter as exc:
            form.add_library_error(exc)
        except ArithmeticError:
            error = NOT_COMPUTABLE
        else:
            query = {k: v for k, v in form.data.items() if k in BreakEvenForm.base_fields}
            result = {
                "pool": pool,
                "model_name": MODEL_NAMES[pool.model],
                "price_ratio": ratio_label(ratio),
                "il": percent(il.impermanent_loss),
                "il_is_zero": il.impermanent_loss.is_zero(),
                "value_lp": number(il.value_lp),
                "value_hodl": number(il.value_hodl),
                "gap": number(il.value_hodl - il.value_lp),
                "in_range": il.in_range,
                "range": f"{ratio_label(pool.lower)} to {ratio_label(pool.upper)}" if pool.lower else "",
                "above_range": il.in_range is False and pool.upper is not None and ratio >= pool.upper,
                "break_even_query": urlencode({**query, "days": "30", "compounds_per_year": "365"}),
            }
    response = render(
        request,
        "calculators/impermanent_loss.html",
        {
            "form": form,
            "result": result,
            "chart": chart,
            "curve_points": curve_points,
            "error": error,
            "il_article_url": IL_ARTICLE_URL,
            "concentrated_article_url": CONCENTRATED_ARTICLE_URL,
            "stable_article_url": STABLE_ARTICLE_URL,
        },
    )
    if curve_ms is not None:
        # Lets anyone (and the perf check) see the curve's cost in the browser's network panel.
        response["Server-Timing"] = f"il-curve;dur={curve_ms:.1f};desc=\"{curve_points}-point IL curve\""
    return response


def break_even(request):
    form = _form_for(BreakEvenForm, request)
    result = None
    error = None
    if form.is_valid():
        data = form.cleaned_data
        pool, ratio, days, compounding = data["pool"], data["price_ratio"], data["days"], data["compounds_per_year"]
        try:
            be = inputs.break_even(pool, ratio, days, compounding)
            horizons = [
                (h, inputs.break_even_for(be.il, Decimal(h), compounding)) for h in BREAK_EVEN_HORIZONS
            ]
        except InvalidParameter as exc:
            form.add_library_error(exc)
        except ArithmeticError:
            error = NOT_COMPUTABLE
        else:
            result = {
                "model_name": MODEL_NAMES[pool.model],
                "price_ratio": ratio_label(ratio),
                "days": f"{days.normalize():f}",
                "il": percent(be.il.impermanent_loss),
                "il_is_zero": be.il.impermanent_loss.is_zero(),
                "in_range": be.il.in_range,
                "apr_simple": percent(be.apr_simple, 2),
                "apr_compounded": percent(be.apr_compounded, 2),
                "apy": percent(be.apy, 2),
                "compounding": compounding_label(compounding),
                "horizons": [
                    {"days": h, "apr_simple": percent(r.apr_simple, 2), "apr_compounded": percent(r.apr_compounded, 2)}
                    for h, r in horizons
                ],
            }
    return render(
        request,
        "calculators/break_even.html",
        {"form": form, "result": result, "error": error, "il_article_url": IL_ARTICLE_URL},
    )


def apy(request):
    form = _form_for(ApyForm, request)
    result = None
    error = None
    if form.is_valid():
        data = form.cleaned_data
        rate, compounding = data["rate_fraction"], data["compounds_per_year"]
        given = "apr" if data["direction"] == "apr_to_apy" else "apy"
        try:
            conversion = inputs.convert_rate(**{given: rate}, compounding=compounding)
            table = []
            for value, label in COMPOUNDING_CHOICES:
                periods = inputs.parse_compounding(value)
                row = inputs.convert_rate(**{given: rate}, compounding=periods)
                table.append({"label": label, "apr": percent(row.apr), "apy": percent(row.apy),
                              "current": periods == compounding})
        except InvalidParameter as exc:
            form.add_error("rate" if exc.field in ("apr", "apy") else None, inputs.sentence(exc.message))
        except ArithmeticError:
            error = "This rate is too large to convert; try a smaller one."
        else:
            result = {
                "given": given,
                "apr": percent(conversion.apr),
                "apy": percent(conversion.apy),
                "compounding": compounding_label(compounding),
                "table": table,
            }
    return render(
        request,
        "calculators/apy.html",
        {"form": form, "result": result, "error": error, "apy_article_url": APY_ARTICLE_URL},
    )
