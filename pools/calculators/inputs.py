"""Calculator inputs (parsed and capped), limits, and the results computed from them, shared by
the Learn pages and the API.

Pure Python on ``Decimal`` (no Django import), so the web forms and the DRF
serializers parse and cap inputs the same way and get the same messages.
Every error is a :class:`pools.amm.InvalidParameter` (one field) or an
:class:`InvalidParameters` (several fields); ``.field`` is the query
parameter / form field to put the message next to.

The maths is :mod:`pools.amm` and :mod:`pools.yields`; this module only turns
raw strings into bounded inputs and calls them. Rates are fractions
(``Decimal("0.12")`` is 12 %) unless a caller asks for percent parsing.

Caps: the library accepts any finite number, but a price ratio of 1e300 or an
amplification of 1e12 either takes the solvers far longer or stops converging
(A = 1e12 with 8 coins raises ``ConvergenceError`` near r = 1), and none of it
is meaningful for a calculator. Inputs are therefore capped (see ``LIMITS``)
and the message says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any, Final, Literal

from pools import amm, yields
from pools.amm import ILResult, InvalidParameter

__all__ = [
    "COMPOUNDING_CONTINUOUS",
    "CURVE_MAX",
    "CURVE_MIN",
    "CURVE_POINTS",
    "DEFAULT_COMPOUNDING",
    "LIMITS",
    "MAX_INPUT_LENGTH",
    "MODEL_PARAMETERS",
    "BreakEven",
    "InvalidParameter",
    "InvalidParameters",
    "Limit",
    "PoolParams",
    "RateConversion",
    "break_even",
    "break_even_for",
    "convert_rate",
    "curve_ratios",
    "decimal_str",
    "il_curve_points",
    "impermanent_loss",
    "parse_compounding",
    "parse_decimal",
    "parse_pool_params",
    "sentence",
]

Compounding = int | Literal["continuous"]

COMPOUNDING_CONTINUOUS: Final = "continuous"
DEFAULT_COMPOUNDING = 365
#: Longest raw value accepted for any numeric input (a 10 000-digit "number" is not an input).
MAX_INPUT_LENGTH = 50
#: Weighted pools: Balancer allows 2 to 8 tokens.
MAX_WEIGHTS = 8
#: StableSwap pools: Curve allows 2 to 8 coins.
MIN_COINS, MAX_COINS = 2, 8
#: Compounding periods per year: up to once a second.
MAX_COMPOUNDS_PER_YEAR = 365 * 24 * 60 * 60

CURVE_POINTS = 200
CURVE_MIN, CURVE_MAX = Decimal("0.1"), Decimal("10")

#: Which extra parameters each model reads; the others are ignored.
MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "constant_product": (),
    "weighted": ("weights",),
    "concentrated": ("lower", "upper"),
    "stableswap": ("amplification", "n_coins"),
}


class InvalidParameters(ValueError):
    """Several invalid inputs at once: ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Limit:
    """Bounds of one numeric input, in the unit the API uses (fractions for rates).

    ``above`` is a strict lower bound that makes a value meaningless (a price ratio must be
    > 0); ``minimum``/``maximum`` are caps that keep the solvers fast and the output sane.
    """

    above: Decimal | None
    minimum: Decimal | None
    maximum: Decimal


LIMITS: dict[str, Limit] = {
    "price_ratio": Limit(above=Decimal(0), minimum=Decimal("1e-6"), maximum=Decimal("1e6")),
    "lower": Limit(above=Decimal(0), minimum=Decimal("1e-6"), maximum=Decimal("1e6")),
    "upper": Limit(above=Decimal(0), minimum=Decimal("1e-6"), maximum=Decimal("1e6")),
    "amplification": Limit(above=Decimal(0), minimum=None, maximum=Decimal("1e6")),
    "days": Limit(above=Decimal(0), minimum=Decimal("0.01"), maximum=Decimal(3650)),
    # Rates as fractions: -100 % is a total loss; beyond 100 000 % APR the numbers mean nothing.
    "apr": Limit(above=Decimal(-1), minimum=None, maximum=Decimal(1000)),
    "apy": Limit(above=Decimal(-1), minimum=None, maximum=Decimal("1e9")),
}


def sentence(message: str) -> str:
    """``"must be greater than 0"`` -> ``"Must be greater than 0."`` (library messages are terse)."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _plain(value: Decimal) -> str:
    """An input bound as people write it: ``1e-6`` -> ``0.000001``, ``1e6`` -> ``1000000``."""
    return format(value.normalize(), "f")


def decimal_str(value: Decimal, significant: int = 20) -> str:
    """A result as a decimal string, rounded to ``significant`` digits.

    Plain notation (``"-0.057190958417936634132"``) for magnitudes between 1e-20 and 1e21,
    exponent notation (``"1.9700711140170469938E+434"``) beyond, so no string grows to
    hundreds of digits. Zero is ``"0"``.
    """
    if value.is_zero():
        return "0"
    with localcontext(Context(prec=significant)):
        rounded = (+value).normalize()
    if -20 <= rounded.adjusted() < 21:
        return format(rounded, "f")
    return str(rounded)


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_decimal(
    raw: object,
    field: str,
    limit: Limit | None = None,
    *,
    scale: Decimal = Decimal(1),
    unit: str = "",
) -> Decimal:
    """A finite, bounded Decimal from a raw string, or :class:`InvalidParameter` naming ``field``.

    ``scale`` converts the user's unit to the API unit (100 for a percent input: ``"12"`` ->
    ``0.12``); bounds in messages are shown in the user's unit followed by ``unit``.
    """
    limit = limit if limit is not None else LIMITS[field]
    if _is_blank(raw):
        raise InvalidParameter(field, "This field is required.")
    text = str(raw).strip()
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidParameter(field, f"Too long: enter a number of at most {MAX_INPUT_LENGTH} characters.")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidParameter(field, "Enter a number, e.g. 2 or 0.5.") from None
    if not value.is_finite():
        raise InvalidParameter(field, "Enter a finite number (NaN and Infinity are not allowed).")
    if scale != 1:
        with localcontext(Context(prec=60)):
            value = value / scale

    def shown(bound: Decimal) -> str:
        return _plain(bound * scale) + unit

    if limit.above is not None and value <= limit.above:
        raise InvalidParameter(field, f"Must be greater than {shown(limit.above)}.")
    if limit.minimum is not None and value < limit.minimum:
        raise InvalidParameter(
            field, f"Must be at least {shown(limit.minimum)}: smaller values are not supported by this calculator."
        )
    if value > limit.maximum:
        raise InvalidParameter(
            field, f"Must be at most {shown(limit.maximum)}: larger values are capped to keep the calculation fast."
        )
    return value


def parse_int(raw: object, field: str, minimum: int, maximum: int) -> int:
    if _is_blank(raw):
        raise InvalidParameter(field, "This field is required.")
    text = str(raw).strip()
    if len(text) > MAX_INPUT_LENGTH or not text.isascii() or not text.isdigit():
        raise InvalidParameter(field, "Enter a whole number.")
    value = int(text)
    if value < minimum:
        raise InvalidParameter(field, f"Must be at least {minimum}.")
    if value > maximum:
        raise InvalidParameter(field, f"Must be at most {maximum}: larger values are capped.")
    return value


def parse_weights(raw: object) -> tuple[Decimal, ...]:
    """``"0.8,0.2"`` -> ``(Decimal("0.8"), Decimal("0.2"))``; the sum is checked by :mod:`pools.amm`."""
    if _is_blank(raw):
        raise InvalidParameter("weights", "Required for the weighted model, e.g. 0.8,0.2.")
    parts = [p.strip() for p in str(raw).split(",")]
    if len(parts) < 2:
        raise InvalidParameter("weights", "Enter at least two weights separated by commas, e.g. 0.8,0.2.")
    if len(parts) > MAX_WEIGHTS:
        raise InvalidParameter("weights", f"At most {MAX_WEIGHTS} weights (tokens) are supported.")
    weights = []
    for part in parts:
        if not part or len(part) > MAX_INPUT_LENGTH:
            raise InvalidParameter("weights", "Enter numbers separated by commas, e.g. 0.8,0.2.")
        try:
            value = Decimal(part)
        except (InvalidOperation, ValueError):
            raise InvalidParameter("weights", f"{part!r} is not a number; enter e.g. 0.8,0.2.") from None
        if not value.is_finite() or value <= 0 or value >= 1:
            raise InvalidParameter("weights", "Every weight must be a fraction between 0 and 1, e.g. 0.8,0.2.")
        weights.append(value)
    return tuple(weights)


def parse_compounding(raw: object, field: str = "compounds_per_year") -> Compounding:
    """A positive whole number of periods per year or ``"continuous"``; blank means daily (365)."""
    if _is_blank(raw):
        return DEFAULT_COMPOUNDING
    text = str(raw).strip()
    if text.lower() == COMPOUNDING_CONTINUOUS:
        return COMPOUNDING_CONTINUOUS
    if len(text) > MAX_INPUT_LENGTH or not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidParameter(field, 'Enter a positive whole number of compounding periods per year, or "continuous".')
    value = int(text)
    if value > MAX_COMPOUNDS_PER_YEAR:
        raise InvalidParameter(
            field, f"Must be at most {MAX_COMPOUNDS_PER_YEAR} (once a second); use \"continuous\" beyond that."
        )
    return value


# --------------------------------------------------------------------------------------------
# Impermanent loss
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolParams:
    """A pool model and the parameters it reads (the others stay ``None``)."""

    model: str
    weights: tuple[Decimal, ...] | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    amplification: Decimal | None = None
    n_coins: int | None = None

    def library_kwargs(self) -> dict[str, Any]:
        names = MODEL_PARAMETERS[self.model]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def parse_pool_params(model: str, raw: Mapping[str, object]) -> PoolParams:
    """Parse the parameters ``model`` reads from ``raw``; others are ignored (even if malformed).

    Raises :class:`InvalidParameters` with one message per bad field. Cross-field rules
    (``lower < upper``, weights summing to 1) are left to :mod:`pools.amm`, which raises
    :class:`InvalidParameter` with the field name when the calculation runs.
    """
    if model not in MODEL_PARAMETERS:
        raise InvalidParameters({"model": f"Choose one of: {', '.join(MODEL_PARAMETERS)}."})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in MODEL_PARAMETERS[model]:
        try:
            if name == "weights":
                values[name] = parse_weights(raw.get(name))
            elif name == "n_coins":
                blank = _is_blank(raw.get(name))
                values[name] = MIN_COINS if blank else parse_int(raw.get(name), name, MIN_COINS, MAX_COINS)
            elif _is_blank(raw.get(name)):
                raise InvalidParameter(name, f"Required for the {model.replace('_', ' ')} model.")
            else:
                values[name] = parse_decimal(raw.get(name), name)
        except InvalidParameter as exc:
            errors[name] = exc.message
    if errors:
        raise InvalidParameters(errors)
    return PoolParams(model=model, **values)


def impermanent_loss(params: PoolParams, price_ratio: Decimal) -> ILResult:
    """IL, LP value and holding value (initial value 1) at ``price_ratio``."""
    return amm.impermanent_loss_for(params.model, price_ratio, **params.library_kwargs())


def curve_ratios(price_ratio: Decimal | None = None, points: int = CURVE_POINTS) -> list[Decimal]:
    """``points`` price ratios, log-spaced from 0.1 to 10 (widened to include ``price_ratio``).

    The grid is a chart's x axis, not money: it is generated in float and rounded to six
    significant digits (distinct and exact as Decimals); the end points are exact.
    """
    lo, hi = CURVE_MIN, CURVE_MAX
    if price_ratio is not None:
        lo, hi = min(lo, price_ratio), max(hi, price_ratio)
    log_lo, log_hi = math.log(float(lo)), math.log(float(hi))
    step = (log_hi - log_lo) / (points - 1)
    inner = [Decimal(f"{math.exp(log_lo + i * step):.6g}") for i in range(1, points - 1)]
    return [lo, *inner, hi]


def il_curve_points(params: PoolParams, price_ratio: Decimal | None = None) -> list[tuple[Decimal, Decimal]]:
    """``(price_ratio, impermanent_loss)`` at each of :func:`curve_ratios` (ascending)."""
    ratios = curve_ratios(price_ratio)
    results = amm.il_curve(params.model, ratios, **params.library_kwargs())
    return [(r, res.impermanent_loss) for r, res in zip(ratios, results, strict=True)]


# --------------------------------------------------------------------------------------------
# Break-even fee APR
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Fee APR that offsets the IL of ``il`` over ``days``.

    ``apr_simple`` assumes fees are not reinvested; ``apr_compounded`` that they are,
    ``compounding`` times a year (or continuously); ``apy`` is the yearly growth both imply.
    """

    il: ILResult
    days: Decimal
    compounding: Compounding
    apr_simple: Decimal
    apr_compounded: Decimal
    apy: Decimal


def break_even(params: PoolParams, price_ratio: Decimal, days: Decimal, compounding: Compounding) -> BreakEven:
    """Break-even fee APR for the IL of ``params`` at ``price_ratio`` over ``days``."""
    return break_even_for(impermanent_loss(params, price_ratio), days, compounding)


def break_even_for(result: ILResult, days: Decimal, compounding: Compounding) -> BreakEven:
    """Break-even fee APR for an IL already computed (e.g. several horizons for one move)."""
    simple = amm.break_even_fee_apr(result.impermanent_loss, days, compounding="simple")
    compounded = amm.break_even_fee_apr(result.impermanent_loss, days, compounding=compounding)
    return BreakEven(
        il=result,
        days=days,
        compounding=compounding,
        apr_simple=simple,
        apr_compounded=compounded,
        apy=yields.apr_to_apy(compounded, compounding),
    )


# --------------------------------------------------------------------------------------------
# APR <-> APY
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateConversion:
    """Both rates (fractions) and which one was given (``"apr"`` or ``"apy"``)."""

    apr: Decimal
    apy: Decimal
    given: Literal["apr", "apy"]
    compounding: Compounding


def convert_rate(*, apr: Decimal | None = None, apy: Decimal | None = None, compounding: Compounding) -> RateConversion:
    """APR -> APY or APY -> APR for ``compounding`` periods per year (exactly one rate given)."""
    if apr is not None and apy is None:
        return RateConversion(apr=apr, apy=yields.apr_to_apy(apr, compounding), given="apr", compounding=compounding)
    if apy is not None and apr is None:
        return RateConversion(apr=yields.apy_to_apr(apy, compounding), apy=apy, given="apy", compounding=compounding)
    raise InvalidParameters({"apr": "Give exactly one of apr and apy.", "apy": "Give exactly one of apr and apy."})
