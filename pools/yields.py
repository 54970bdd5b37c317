"""Yield arithmetic: APR/APY conversion, reward composition and realised returns.

Pure standard-library code (no Django): every rate and value is a :class:`decimal.Decimal`
computed in a private 60-digit context, so the caller's decimal context does not matter. Rates
are fractions per year (``Decimal("0.05")`` is 5 %); the functions are unit-agnostic where noted.
A year is 365 days of 86 400 seconds (no leap-year adjustment).

Floats are refused as inputs (pass ``Decimal``, ``int`` or a numeric string) and datetimes must be
timezone-aware; naive datetimes raise :class:`~pools.amm.InvalidParameter`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import Literal

from pools.amm.numbers import InvalidParameter, dec_arg  # one input coercion for both (floats refused)

__all__ = [
    "DAYS_PER_YEAR",
    "MIN_ANNUALISATION_DAYS",
    "CashFlow",
    "InvalidParameter",
    "Observation",
    "ReturnResult",
    "annualise_return",
    "apr_to_apy",
    "apy_to_apr",
    "period_days",
    "time_weighted_return",
    "total_apy",
]

_CTX = Context(prec=60)
_ZERO = Decimal(0)
_ONE = Decimal(1)

DAYS_PER_YEAR = Decimal(365)
_SECONDS_PER_DAY = Decimal(86400)

#: Returns over periods shorter than this many days are not annualised (``None`` instead): a
#: few hours of return raised to the power 365/period says nothing useful about a year.
MIN_ANNUALISATION_DAYS = Decimal(1)

Compounding = int | Literal["continuous"]


def _periods(compounding: object) -> int | None:
    """Compounding periods per year, or ``None`` for continuous compounding."""
    if compounding == "continuous":
        return None
    if isinstance(compounding, bool) or not isinstance(compounding, int) or compounding <= 0:
        raise InvalidParameter("compounding", "must be a positive int (periods per year) or 'continuous'")
    return compounding


# --------------------------------------------------------------------------------------------
# APR <-> APY
# --------------------------------------------------------------------------------------------


def apr_to_apy(apr: Decimal | int | str, compounding: Compounding = 365) -> Decimal:
    """APY from a nominal APR compounded ``compounding`` times a year.

    ``APY = (1 + APR/n) ** n - 1``; with ``compounding="continuous"``, ``APY = e ** APR - 1``.
    ``n = 1`` returns the APR unchanged. Requires ``APR > -n`` (the per-period rate above -100 %).
    """
    rate = dec_arg(apr, "apr")
    n = _periods(compounding)
    with localcontext(_CTX):
        if n is None:
            return rate.exp() - _ONE
        base = _ONE + rate / Decimal(n)
        if base <= 0:
            raise InvalidParameter("apr", "the per-period rate must be greater than -100%")
        return base**n - _ONE


def apy_to_apr(apy: Decimal | int | str, compounding: Compounding = 365) -> Decimal:
    """Nominal APR (compounded ``compounding`` times a year) that yields ``apy``.

    ``APR = n * ((1 + APY) ** (1/n) - 1)``; with ``compounding="continuous"``,
    ``APR = ln(1 + APY)``. Requires ``APY > -1``.
    """
    rate = dec_arg(apy, "apy")
    n = _periods(compounding)
    if rate <= -1:
        raise InvalidParameter("apy", "must be greater than -100%")
    with localcontext(_CTX):
        growth_log = (_ONE + rate).ln()
        if n is None:
            return growth_log
        if n == 1:
            return rate
        nd = Decimal(n)
        return nd * ((growth_log / nd).exp() - _ONE)


def total_apy(apy_base: Decimal | int | str | None, apy_reward: Decimal | int | str | None) -> Decimal | None:
    """Total APY as DeFiLlama reports it: ``apy = apyBase + apyReward``.

    The two parts are simply added (reward emissions are not assumed to be compounded into the
    base yield). A missing (``None``) part counts as zero; both missing gives ``None``. Works in
    any unit as long as both parts share it (DeFiLlama publishes percentages).
    """
    if apy_base is None and apy_reward is None:
        return None
    base = _ZERO if apy_base is None else dec_arg(apy_base, "apy_base")
    reward = _ZERO if apy_reward is None else dec_arg(apy_reward, "apy_reward")
    with localcontext(_CTX):
        return base + reward


# --------------------------------------------------------------------------------------------
# Realised and time-weighted returns
# --------------------------------------------------------------------------------------------

Observation = tuple[datetime, Decimal]
CashFlow = tuple[datetime, Decimal]


def _aware(moment: object, field: str) -> datetime:
    if not isinstance(moment, datetime):
        raise InvalidParameter(field, "timestamps must be datetime objects")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise InvalidParameter(field, "naive datetime: timestamps must be timezone-aware")
    return moment


def _days(delta: timedelta) -> Decimal:
    """Exact length of ``delta`` in days as a Decimal (no float)."""
    with localcontext(_CTX):
        micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return Decimal(micro) / (_SECONDS_PER_DAY * Decimal(1_000_000))


def period_days(start: datetime, end: datetime) -> Decimal:
    """Length of ``[start, end]`` in days (aware datetimes only)."""
    return _days(_aware(end, "end") - _aware(start, "start"))


def annualise_return(
    total_return: Decimal | int | str,
    days: Decimal | int | str,
    *,
    min_days: Decimal | int | str = MIN_ANNUALISATION_DAYS,
) -> Decimal | None:
    """Compound ``total_return`` earned over ``days`` to a 365-day rate.

    ``(1 + total_return) ** (365 / days) - 1``. Returns ``None`` when ``days < min_days`` (default
    one day): such short periods are not annualised. ``total_return`` must be > -1.
    """
    ret = dec_arg(total_return, "total_return")
    span = dec_arg(days, "days")
    minimum = dec_arg(min_days, "min_days")
    if span <= 0:
        raise InvalidParameter("days", "must be greater than 0")
    if span < minimum:
        return None
    if ret <= -1:
        raise InvalidParameter("total_return", "must be greater than -100% to annualise")
    with localcontext(_CTX):
        if ret == 0:
            return _ZERO
        return ((_ONE + ret).ln() * DAYS_PER_YEAR / span).exp() - _ONE


@dataclass(frozen=True, slots=True)
class ReturnResult:
    """Realised performance over ``[start, end]``.

    * ``days`` — length of the period in days.
    * ``net_cash_flow`` — external deposits minus withdrawals that affect the period (flows at
      ``start`` up to, but excluding, ``end``).
    * ``profit`` — ``end_value - start_value - net_cash_flow`` (money gained, in value units).
    * ``time_weighted_return`` — product of sub-period growth factors minus 1 (independent of the
      size and timing of cash flows).
    * ``annualised_return`` — TWR compounded to 365 days, or ``None`` if ``days`` is below the
      minimum annualisation period.
    * ``annualised_simple`` — TWR * 365 / days (an APR-style figure), ``None`` likewise.
    """

    start: datetime
    end: datetime
    days: Decimal
    start_value: Decimal
    end_value: Decimal
    net_cash_flow: Decimal
    profit: Decimal
    time_weighted_return: Decimal
    annualised_return: Decimal | None
    annualised_simple: Decimal | None


def time_weighted_return(
    observations: Iterable[tuple[datetime, Decimal | int | str]],
    cash_flows: Iterable[tuple[datetime, Decimal | int | str]] = (),
    *,
    min_days: Decimal | int | str = MIN_ANNUALISATION_DAYS,
) -> ReturnResult:
    """Realised return and annualised yield from value observations and external cash flows.

    ``observations`` are ``(timestamp, value)`` pairs: the position's value at that moment,
    measured *before* any cash flow at the same timestamp. ``cash_flows`` are ``(timestamp,
    amount)`` pairs of external money in (> 0, deposits) or out (< 0, withdrawals); every cash
    flow must fall on an observation's timestamp (value the position when money moves), so the
    time-weighted return can chain exact sub-period returns:

    ``1 + TWR = prod(V_i / (V_{i-1} + CF_{i-1}))`` over consecutive observations, where
    ``CF_{i-1}`` is the net flow at ``t_{i-1}``. A sub-period that starts with zero capital and
    ends at zero (e.g. before the first deposit) contributes nothing. Flows at the final
    timestamp happen after the final valuation and do not affect the return.

    At least two observations with distinct, aware timestamps are required; observations are
    sorted by time and duplicate timestamps are rejected. Periods shorter than ``min_days``
    (default 1 day) are not annualised: ``annualised_return`` and ``annualised_simple`` are
    ``None``.
    """
    obs: list[tuple[datetime, Decimal]] = []
    for item in observations:
        moment, value = item
        v = dec_arg(value, "observations")
        if v < 0:
            raise InvalidParameter("observations", "values must not be negative")
        obs.append((_aware(moment, "observations"), v))
    if len(obs) < 2:
        raise InvalidParameter("observations", "at least two observations are required")
    obs.sort(key=lambda pair: pair[0])
    for (t_prev, _), (t_next, _) in zip(obs, obs[1:], strict=False):
        if t_prev == t_next:
            raise InvalidParameter("observations", f"duplicate timestamp {t_next.isoformat()}")

    index = {moment: i for i, (moment, _) in enumerate(obs)}
    flows = [_ZERO] * len(obs)
    with localcontext(_CTX):
        for item in cash_flows:
            moment, amount = item
            moment = _aware(moment, "cash_flows")
            if moment not in index:
                raise InvalidParameter(
                    "cash_flows", f"cash flow at {moment.isoformat()} has no observation at the same timestamp"
                )
            flows[index[moment]] += dec_arg(amount, "cash_flows")

        growth = _ONE
        for i in range(1, len(obs)):
            capital = obs[i - 1][1] + flows[i - 1]
            end_value = obs[i][1]
            if capital < 0:
                raise InvalidParameter(
                    "cash_flows", f"withdrawal at {obs[i - 1][0].isoformat()} exceeds the position's value"
                )
            if capital == 0:
                if end_value != 0:
                    raise InvalidParameter(
                        "observations", f"value at {obs[i][0].isoformat()} appears without any capital invested"
                    )
                continue
            growth *= end_value / capital

        start, start_value = obs[0]
        end, end_value = obs[-1]
        days = _days(end - start)
        net_flow = sum(flows[:-1], _ZERO)
        twr = growth - _ONE
        minimum = dec_arg(min_days, "min_days")
        if days < minimum:
            annualised = simple = None
        else:
            simple = twr * DAYS_PER_YEAR / days
            # A total loss stays a total loss when annualised.
            annualised = -_ONE if growth == 0 else annualise_return(twr, days, min_days=minimum)
        return ReturnResult(
            start=start,
            end=end,
            days=days,
            start_value=start_value,
            end_value=end_value,
            net_cash_flow=net_flow,
            profit=end_value - start_value - net_flow,
            time_weighted_return=twr,
            annualised_return=annualised,
            annualised_simple=simple,
        )
