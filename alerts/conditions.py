"""Alert conditions and the once-per-episode state machine: pure Python, no Django.

A rule watches one pool (or one position, through its pool) for one condition.
``condition_holds`` says whether the condition is true for the facts of this
refresh (``None`` when the facts needed are unknown: then nothing changes).
``step`` moves the rule's state:

    armed  + true  -> firing, and the rule FIRES (one notification: a new episode)
    firing + true  -> firing, silent (same episode)
    firing + false -> armed (re-armed: the next true starts a new episode)
    armed  + false -> armed
    any    + None  -> unchanged, silent

Units: APYs in percent (``5`` = 5 %/year), thresholds in percent except
``apy_below`` (an APY in percent) and ``depeg`` (percent away from $1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "ARMED",
    "FIRING",
    "GRADES",
    "Condition",
    "Facts",
    "RuleInput",
    "Step",
    "condition_holds",
    "describe",
    "grade_worse",
    "is_usd_peg",
    "range_price",
    "step",
]

D = Decimal
HUNDRED = D(100)
ARMED = "armed"
FIRING = "firing"
#: Risk grades from best to worst (pools.risk.GRADE_BANDS, then F).
GRADES = "ABCDEF"


class Condition(StrEnum):
    APY_BELOW = "apy_below"  # APY < threshold (percent)
    APY_DROP = "apy_drop"  # APY at least threshold % below its 7-day mean
    TVL_DROP = "tvl_drop"  # TVL at least threshold % below its value 24 h before
    OUT_OF_RANGE = "out_of_range"  # concentrated position: price outside [lower, upper)
    NEAR_EDGE = "near_edge"  # concentrated position: within threshold % of an edge (or out of range)
    DEPEG = "depeg"  # a stablecoin of the pool more than threshold % away from $1
    RISK_WORSE = "risk_worse"  # risk grade worse than when the rule was made
    REWARDS_ENDED = "rewards_ended"  # reward APY fell to 0 (it was above 0 when the rule was made)


#: Conditions that need a threshold, and those that only make sense on a concentrated position.
NEEDS_THRESHOLD = frozenset({Condition.APY_BELOW, Condition.APY_DROP, Condition.TVL_DROP, Condition.NEAR_EDGE,
                             Condition.DEPEG})
NEEDS_RANGE = frozenset({Condition.OUT_OF_RANGE, Condition.NEAR_EDGE})
#: Conditions whose truth moves with token prices (re-evaluated after a price refresh).
PRICE_CONDITIONS = frozenset({Condition.OUT_OF_RANGE, Condition.NEAR_EDGE, Condition.DEPEG})


@dataclass(frozen=True, slots=True)
class Facts:
    """What one refresh tells about a rule's target. ``None`` = not known."""

    apy: Decimal | None = None
    apy_mean_7d: Decimal | None = None
    apy_reward: Decimal | None = None
    tvl: Decimal | None = None
    tvl_24h_ago: Decimal | None = None
    risk_grade: str = ""
    price: Decimal | None = None  # token0 in token1, for a range
    range_lower: Decimal | None = None
    range_upper: Decimal | None = None
    stable_prices: tuple[Decimal, ...] = ()  # USD prices of the pool's stablecoins


@dataclass(frozen=True, slots=True)
class RuleInput:
    condition: Condition
    threshold: Decimal | None = None
    baseline_grade: str = ""  # risk_worse: the grade when the rule was made
    baseline_reward: Decimal | None = None  # rewards_ended: the reward APY when the rule was made


@dataclass(frozen=True, slots=True)
class Step:
    state: str
    fires: bool


def grade_worse(now: str, baseline: str) -> bool | None:
    if not now or not baseline or now not in GRADES or baseline not in GRADES:
        return None
    return GRADES.index(now) > GRADES.index(baseline)


def _pct_below(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """How many percent ``now`` is below ``before`` (negative when above); None if unknown."""
    if now is None or before is None or before <= 0:
        return None
    return (before - now) / before * HUNDRED


def condition_holds(rule: RuleInput, facts: Facts) -> bool | None:
    """Whether the rule's condition is true for these facts (``None``: cannot tell)."""
    t = rule.threshold
    match rule.condition:
        case Condition.APY_BELOW:
            return None if facts.apy is None or t is None else facts.apy < t
        case Condition.APY_DROP:
            drop = _pct_below(facts.apy, facts.apy_mean_7d)
            return None if drop is None or t is None else drop >= t
        case Condition.TVL_DROP:
            drop = _pct_below(facts.tvl, facts.tvl_24h_ago)
            return None if drop is None or t is None else drop >= t
        case Condition.OUT_OF_RANGE | Condition.NEAR_EDGE:
            p, lo, hi = facts.price, facts.range_lower, facts.range_upper
            if p is None or lo is None or hi is None or p <= 0 or lo <= 0 or hi <= lo:
                return None
            if p < lo or p >= hi:  # Uniswap v3: active while lower <= price < upper
                return True
            if rule.condition == Condition.OUT_OF_RANGE:
                return False
            if t is None:
                return None
            # Distance to the nearer edge, as a percent of the current price.
            return min(p - lo, hi - p) / p * HUNDRED <= t
        case Condition.DEPEG:
            if not facts.stable_prices or t is None:
                return None
            return any(abs(price - 1) * HUNDRED > t for price in facts.stable_prices)
        case Condition.RISK_WORSE:
            return grade_worse(facts.risk_grade, rule.baseline_grade)
        case Condition.REWARDS_ENDED:
            if rule.baseline_reward is None or rule.baseline_reward <= 0:
                return None  # there were no rewards to end
            return facts.apy_reward is not None and facts.apy_reward <= 0
    return None


def step(state: str, holds: bool | None) -> Step:
    """The once-per-episode state machine (see the module docstring)."""
    if holds is None:
        return Step(state, False)
    if holds:
        return Step(FIRING, state != FIRING)
    return Step(ARMED, False)


def _pct(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value.quantize(D('0.01'))} %"


def _usd(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value.quantize(D('1')):,} USD"


def describe(rule: RuleInput, facts: Facts, target: str) -> tuple[str, str]:
    """(title, body) of a firing, in plain words, with the numbers that made it fire."""
    t = rule.threshold
    match rule.condition:
        case Condition.APY_BELOW:
            return (f"{target}: APY fell below {_pct(t)}",
                    f"The APY is now {_pct(facts.apy)}, under the {_pct(t)} you set.")
        case Condition.APY_DROP:
            return (f"{target}: APY down against its 7-day mean",
                    f"The APY is now {_pct(facts.apy)} against a 7-day mean of {_pct(facts.apy_mean_7d)}: "
                    f"a drop of {_pct(t)} or more.")
        case Condition.TVL_DROP:
            return (f"{target}: TVL down in 24 hours",
                    f"TVL is now {_usd(facts.tvl)}, against {_usd(facts.tvl_24h_ago)} a day before: "
                    f"a drop of {_pct(t)} or more.")
        case Condition.OUT_OF_RANGE:
            return (f"{target}: out of range",
                    f"The price ({facts.price}) is outside your range {facts.range_lower}–{facts.range_upper}. "
                    "Out of range, the position holds one token only and earns no fees.")
        case Condition.NEAR_EDGE:
            return (f"{target}: close to the edge of your range",
                    f"The price ({facts.price}) is within {_pct(t)} of an edge of your range "
                    f"{facts.range_lower}–{facts.range_upper}, or outside it.")
        case Condition.DEPEG:
            shown = ", ".join(f"{p} USD" for p in facts.stable_prices)
            return (f"{target}: a stablecoin is off its peg",
                    f"Stablecoin prices now: {shown}; one is more than {_pct(t)} away from 1 USD.")
        case Condition.RISK_WORSE:
            return (f"{target}: risk grade worse",
                    f"The risk grade is now {facts.risk_grade}, worse than {rule.baseline_grade} when you set "
                    "this alert. The pool page lists the factors that moved.")
        case Condition.REWARDS_ENDED:
            return (f"{target}: reward emissions ended",
                    f"The reward APY is now 0 (it was {_pct(rule.baseline_reward)}). What is left is the base "
                    f"yield from fees or interest: {_pct(facts.apy)} in total.")
    return (target, "")


#: Stablecoins pegged to something other than the US dollar: the depeg alert skips them
#: (their peg is not 1 USD; we do not track non-USD pegs yet).
NON_USD_PEGS = ("EUR", "GBP", "CHF", "JPY", "CNY", "SGD", "AUD", "CAD", "TRY", "XAU", "GOLD", "BRL")


def is_usd_peg(symbol: str) -> bool:
    upper = symbol.upper()
    return not any(code in upper for code in NON_USD_PEGS)


def range_price(prices: Sequence[tuple[Decimal | None, bool]]) -> Decimal | None:
    """Price of token0 in token1 from the pool's first two tokens ``(usd price, is stablecoin)``,
    in the portfolios convention: a volatile token priced in the stablecoin (WETH in USDC),
    whatever order the source lists them in."""
    if len(prices) < 2:
        return None
    first, second = prices[0], prices[1]
    if first[1] and not second[1]:
        first, second = second, first
    if first[0] is None or second[0] is None or first[0] <= 0 or second[0] <= 0:
        return None
    return first[0] / second[0]
