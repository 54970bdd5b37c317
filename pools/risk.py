"""Transparent 0-100 pool risk score. **Higher = riskier.** Grades A (safest) to F.

The score is the sum of nine factors. Each factor awards points from a small step
table; the tables below are the whole formula -- there is no hidden weighting.
**Missing data counts as risk**: when a factor's input is unknown it scores the
factor's maximum (unknown is not safe), and the factor's explanation says so.

| Factor | Key | Max | Points (an unknown input scores the max) |
|---|---|---:|---|
| TVL | `tvl` | 20 | ≥ $100M: 0 · ≥ $10M: 4 · ≥ $1M: 8 · ≥ $100k: 12 · ≥ $10k: 16 · less: 20 |
| Track record: days observed | `history` | 10 | ≥ 365: 0 · ≥ 180: 2 · ≥ 90: 4 · ≥ 30: 6 · ≥ 7: 8 · less: 10 |
| APY volatility (our 30-day σ) | `apy_volatility` | 15 | < 1: 0 · < 3: 3 · < 10: 6 · < 30: 9 · < 100: 12 · more: 15 |
| ... else DeFiLlama `sigma` | `apy_volatility` | 15 | < .1: 0 · < .3: 3 · < .6: 6 · < 1.2: 9 · < 2.5: 12 · more: 15 |
| APY share from emissions | `reward_share` | 15 | ≤ 10%: 0 · ≤ 25%: 3 · ≤ 50%: 6 · ≤ 75%: 9 · ≤ 90%: 12 · more: 15 |
| Impermanent loss (`ilRisk`) | `il_risk` | 10 | no: 0 · yes: 8 · yes, concentrated liquidity: 10 |
| Stablecoin exposure | `stablecoin` | 10 | stablecoin pool: 0 · not: 10 |
| DeFiLlama outlier flag | `outlier` | 5 | false: 0 · true: 5 |
| Audits (count, last one's age) | `audits` | 10 | none: 10 · 1: 6 · 2: 4 · ≥ 3: 2; + ≤ 1 y: 0 · ≤ 3 y: 1 · older: 2 |
| Protocol age since launch | `protocol_age` | 5 | ≥ 3 y: 0 · ≥ 2 y: 1 · ≥ 1 y: 2 · ≥ 180 d: 3 · younger: 4 |

Grade by total score: **A** 0-19 · **B** 20-34 · **C** 35-49 · **D** 50-64 · **E** 65-79 ·
**F** 80-100. The maxima add up to 100.

Notes on the inputs:

* *Days observed* is our own count of daily observations (``compute_apy_stats``) or
  DeFiLlama's ``count``, whichever is larger.
* *APY volatility* is the sample standard deviation of the daily APY over the last 30
  days, in APY percentage points. ``RiskInputs.from_pool`` uses it only when at least 5
  daily observations fall in the window. Otherwise DeFiLlama's ``sigma`` is scored on its
  own scale: it is a different quantity (the annualised std of daily returns derived from
  APY, over the pool's whole life) and is not converted.
* *Reward share* = apyReward / (apyBase + apyReward). A null ``apyReward`` next to a known
  ``apyBase`` means "no emissions" (0 %), as in DeFiLlama's API; both unknown scores 15;
  a pool with zero APY overall has 0 % share.
* *Audits*: the age points apply only when there is at least one audit; an unknown audit
  date counts as old (+2). Audits never bring this factor to 0: they reduce
  smart-contract risk, they do not remove it. The minimum possible score is therefore 2.
* Ages use ``RiskInputs.as_of`` (default: today, UTC).

Every table is monotone: more TVL, more history, lower volatility, a smaller reward
share, more and more recent audits and an older protocol never raise the score. A
factor with unknown inputs always scores its maximum, so no known value scores worse
than "unknown". (The property tests in ``tests/pools/test_risk.py`` check all of this.)

The inputs are plain values (:class:`RiskInputs`); :meth:`RiskInputs.from_pool` fills
them from a ``PoolRecord`` plus our own ``ApyStats`` and protocol facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pools.sources.stats import ApyStats
    from pools.sources.types import PoolRecord

__all__ = [
    "FACTOR_MAX_POINTS",
    "GRADE_BANDS",
    "GRADE_MEANINGS",
    "MIN_SIGMA_OBSERVATIONS",
    "RiskFactor",
    "RiskInputs",
    "RiskScore",
    "grade_for",
    "score_pool",
]

D = Decimal

# Step tables: (threshold, points). Read as "value >= threshold -> points" for
# descending-risk tables and "value < threshold -> points" for ascending ones.
TVL_STEPS: tuple[tuple[Decimal, int], ...] = (
    (D(100_000_000), 0),
    (D(10_000_000), 4),
    (D(1_000_000), 8),
    (D(100_000), 12),
    (D(10_000), 16),
)
TVL_FLOOR_POINTS = 20
HISTORY_STEPS: tuple[tuple[int, int], ...] = ((365, 0), (180, 2), (90, 4), (30, 6), (7, 8))
HISTORY_FLOOR_POINTS = 10
APY_SIGMA_STEPS: tuple[tuple[Decimal, int], ...] = ((D(1), 0), (D(3), 3), (D(10), 6), (D(30), 9), (D(100), 12))
SOURCE_SIGMA_STEPS: tuple[tuple[Decimal, int], ...] = (
    (D("0.1"), 0),
    (D("0.3"), 3),
    (D("0.6"), 6),
    (D("1.2"), 9),
    (D("2.5"), 12),
)
VOLATILITY_CEILING_POINTS = 15
REWARD_SHARE_STEPS: tuple[tuple[Decimal, int], ...] = (
    (D("0.10"), 0),
    (D("0.25"), 3),
    (D("0.50"), 6),
    (D("0.75"), 9),
    (D("0.90"), 12),
)
REWARD_SHARE_CEILING_POINTS = 15
AUDIT_COUNT_POINTS = {0: 10, 1: 6, 2: 4}
AUDIT_MANY_POINTS = 2  # 3 or more audits
AUDIT_AGE_STEPS: tuple[tuple[int, int], ...] = ((365, 0), (3 * 365, 1))  # age <= days -> points
AUDIT_AGE_OLD_POINTS = 2
PROTOCOL_AGE_STEPS: tuple[tuple[int, int], ...] = ((3 * 365, 0), (2 * 365, 1), (365, 2), (180, 3))
PROTOCOL_AGE_YOUNG_POINTS = 4

FACTOR_MAX_POINTS: dict[str, int] = {
    "tvl": 20,
    "history": 10,
    "apy_volatility": 15,
    "reward_share": 15,
    "il_risk": 10,
    "stablecoin": 10,
    "outlier": 5,
    "audits": 10,
    "protocol_age": 5,
}
assert sum(FACTOR_MAX_POINTS.values()) == 100

#: Our own 30-day sigma is used (by ``from_pool``) only with this many daily observations.
MIN_SIGMA_OBSERVATIONS = 5

GRADE_BANDS: tuple[tuple[int, str], ...] = ((20, "A"), (35, "B"), (50, "C"), (65, "D"), (80, "E"))  # score < n
#: What each grade means, in plain words (shown beside the score): (grade, lowest, highest, meaning).
GRADE_MEANINGS: tuple[tuple[str, int, int, str], ...] = (
    ("A", 0, 19, "Low risk by these measures: a deep, long-observed pool of an audited, long-running protocol, "
                 "earning mostly fees. Smart-contract and market risk never reach zero."),
    ("B", 20, 34, "Moderate: sound on most factors, weaker on one or two, such as exposure to volatile prices "
                  "or a younger protocol."),
    ("C", 35, 49, "Elevated: several risks add up. Worth a closer look at the factors before depositing."),
    ("D", 50, 64, "High: a small or young pool, a jumpy or reward-driven yield, or important facts unknown."),
    ("E", 65, 79, "Very high: most factors point to risk."),
    ("F", 80, 100, "Extreme: speculative. Expect to be able to lose most of the deposit."),
)

UNKNOWN = "unknown"
_UNKNOWN_NOTE = "Unknown — counted as maximum risk (missing data is not treated as safe)."


@dataclass(frozen=True, slots=True)
class RiskFactor:
    key: str
    label: str
    value_shown: str
    points: int
    max_points: int
    explanation: str
    unknown: bool = False


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    grade: str
    factors: tuple[RiskFactor, ...]

    @property
    def unknown_factors(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.factors if f.unknown)

    def factor(self, key: str) -> RiskFactor:
        for f in self.factors:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class RiskInputs:
    """Plain inputs of the score. ``None`` means unknown (scored as risky).

    APYs are in percent. ``observation_count`` is the number of days with data
    (our own count from snapshots, else DeFiLlama's ``count``). ``apy_sigma_30d``
    is our sigma of daily APY (APY points, 30 days); ``source_sigma`` is
    DeFiLlama's ``sigma`` and is only used when ours is missing. ``as_of`` is the
    reference date for ages (default: today, UTC).
    """

    tvl_usd: Decimal | None = None
    observation_count: int | None = None
    apy_sigma_30d: Decimal | None = None
    source_sigma: Decimal | None = None
    apy_base: Decimal | None = None
    apy_reward: Decimal | None = None
    il_risk: str | None = None
    kind: str | None = None
    stablecoin: bool | None = None
    outlier: bool | None = None
    audit_count: int | None = None
    last_audit_date: date | None = None
    protocol_launch_date: date | None = None
    as_of: date | None = None
    history_since: date | None = None  # first day of our own data, when the count is ours

    @classmethod
    def from_pool(
        cls,
        pool: PoolRecord,
        *,
        stats: ApyStats | None = None,
        audit_count: int | None = None,
        last_audit_date: date | None = None,
        protocol_launch_date: date | None = None,
        as_of: date | None = None,
    ) -> RiskInputs:
        """Inputs from a ``PoolRecord``; our own ``stats`` win over the source's."""
        count = pool.count
        if stats is not None and stats.count and (count is None or stats.count > count):
            count = stats.count
        sigma = None
        if stats is not None and stats.window_count >= MIN_SIGMA_OBSERVATIONS:
            sigma = stats.sigma_30d
        return cls(
            tvl_usd=pool.tvl_usd,
            observation_count=count,
            apy_sigma_30d=sigma,
            source_sigma=pool.sigma,
            apy_base=pool.apy_base,
            apy_reward=pool.apy_reward,
            il_risk=pool.il_risk,
            kind=str(pool.kind) if pool.kind is not None else None,
            stablecoin=pool.stablecoin,
            outlier=pool.outlier,
            audit_count=audit_count,
            last_audit_date=last_audit_date,
            protocol_launch_date=protocol_launch_date,
            as_of=as_of,
        )


# ---------------------------------------------------------------------------------------- helpers
def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        return None
    return result if result.is_finite() else None


def _step_down(value: Decimal | int, steps: Sequence[tuple[Any, int]], floor: int) -> int:
    """Bigger is safer: first threshold the value reaches wins."""
    for threshold, points in steps:
        if value >= threshold:
            return points
    return floor


def _step_up(value: Decimal, steps: Sequence[tuple[Decimal, int]], ceiling: int) -> int:
    """Bigger is riskier: first threshold the value stays under (or equals, for shares) wins."""
    for threshold, points in steps:
        if value < threshold:
            return points
    return ceiling


def _money(value: Decimal) -> str:
    for limit, suffix in ((D(10) ** 9, "bn"), (D(10) ** 6, "M"), (D(10) ** 3, "k")):
        if abs(value) >= limit:
            return f"${(value / limit):,.1f}{suffix}"
    return f"${value:,.0f}"


def _pct(value: Decimal, places: int = 2) -> str:
    return f"{value:,.{places}f}%"


def _years(days: int) -> str:
    return f"{days} days" if days < 365 else f"{days / 365:.1f} years"


def _today() -> date:
    return datetime.now(UTC).date()


# ---------------------------------------------------------------------------------------- factors
def _tvl(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "tvl", "Total value locked", FACTOR_MAX_POINTS["tvl"]
    tvl = _dec(inputs.tvl_usd)
    if tvl is None:
        return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)
    points = _step_down(tvl, TVL_STEPS, TVL_FLOOR_POINTS)
    return RiskFactor(
        key,
        label,
        _money(tvl),
        points,
        max_points,
        "Deeper pools are harder to drain or manipulate and easier to exit; 0 points from $100M, up to 20 below $10k.",
    )


def _history(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "history", "Track record", FACTOR_MAX_POINTS["history"]
    count = inputs.observation_count
    if count is None or isinstance(count, bool) or count < 0:
        return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)
    points = _step_down(count, HISTORY_STEPS, HISTORY_FLOOR_POINTS)
    since = f" (since {inputs.history_since.isoformat()})" if inputs.history_since else ""
    return RiskFactor(
        key,
        label,
        f"{count} days of data{since}",
        points,
        max_points,
        "A pool observed for a long time has shown how it behaves; 0 points from a year of daily data.",
    )


def _volatility(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "apy_volatility", "APY volatility", FACTOR_MAX_POINTS["apy_volatility"]
    ours = _dec(inputs.apy_sigma_30d)
    if ours is not None and ours >= 0:
        points = _step_up(ours, APY_SIGMA_STEPS, VOLATILITY_CEILING_POINTS)
        return RiskFactor(
            key,
            label,
            f"σ {ours:,.2f} APY points (30 days)",
            points,
            max_points,
            "Standard deviation of the daily APY over the last 30 days; a jumpy APY is hard to rely on.",
        )
    theirs = _dec(inputs.source_sigma)
    if theirs is not None and theirs >= 0:
        points = _step_up(theirs, SOURCE_SIGMA_STEPS, VOLATILITY_CEILING_POINTS)
        return RiskFactor(
            key,
            label,
            f"DeFiLlama σ {theirs:,.3f}",
            points,
            max_points,
            "No 30-day series of our own: using DeFiLlama's sigma (annualised volatility of daily "
            "returns over the pool's life) on its own scale.",
        )
    return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)


def reward_share(apy_base: Any, apy_reward: Any) -> Decimal | None:
    """Share (0..1) of the APY paid in reward emissions, ``None`` if unknown."""
    base, reward = _dec(apy_base), _dec(apy_reward)
    if base is None and reward is None:
        return None
    base = max(base or D(0), D(0))
    reward = max(reward or D(0), D(0))
    total = base + reward
    if total == 0:
        return D(0)
    return reward / total


def _reward_share(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "reward_share", "Yield from emissions", FACTOR_MAX_POINTS["reward_share"]
    share = reward_share(inputs.apy_base, inputs.apy_reward)
    if share is None:
        return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)
    points = REWARD_SHARE_CEILING_POINTS
    for threshold, step_points in REWARD_SHARE_STEPS:
        if share <= threshold:
            points = step_points
            break
    return RiskFactor(
        key,
        label,
        f"{_pct(share * 100, 0)} of APY from rewards",
        points,
        max_points,
        "Reward emissions end or lose value when the token falls; fee (base) yield is more durable.",
    )


def _il(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "il_risk", "Impermanent loss", FACTOR_MAX_POINTS["il_risk"]
    il = (inputs.il_risk or "").strip().lower()
    if il == "no":
        return RiskFactor(key, label, "no", 0, max_points, "Single asset or assets sharing one peg.")
    if il == "yes":
        concentrated = (inputs.kind or "").lower() == "concentrated"
        points = 10 if concentrated else 8
        note = (
            "Assets can drift apart in price; in a concentrated-liquidity range the loss is amplified."
            if concentrated
            else "Assets can drift apart in price, leaving you with more of the weaker one."
        )
        return RiskFactor(key, label, "yes (concentrated)" if concentrated else "yes", points, max_points, note)
    return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)


def _stablecoin(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "stablecoin", "Stablecoin exposure", FACTOR_MAX_POINTS["stablecoin"]
    if inputs.stablecoin is True:
        return RiskFactor(key, label, "stablecoins only", 0, max_points, "No exposure to volatile asset prices.")
    if inputs.stablecoin is False:
        return RiskFactor(
            key, label, "volatile assets", max_points, max_points, "The deposit's USD value moves with crypto prices."
        )
    return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)


def _outlier(inputs: RiskInputs) -> RiskFactor:
    key, label, max_points = "outlier", "Outlier flag", FACTOR_MAX_POINTS["outlier"]
    if inputs.outlier is False:
        return RiskFactor(key, label, "no", 0, max_points, "APY and volatility within the normal range of all pools.")
    if inputs.outlier is True:
        return RiskFactor(
            key,
            label,
            "yes",
            max_points,
            max_points,
            "DeFiLlama flags this pool's return or volatility as far outside the norm.",
        )
    return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)


def _audits(inputs: RiskInputs, as_of: date) -> RiskFactor:
    key, label, max_points = "audits", "Audits", FACTOR_MAX_POINTS["audits"]
    count = inputs.audit_count
    if count is None or isinstance(count, bool) or count < 0:
        return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)
    if count == 0:
        return RiskFactor(key, label, "no audits", max_points, max_points, "No published security audit.")
    points = AUDIT_COUNT_POINTS.get(count, AUDIT_MANY_POINTS)
    last = inputs.last_audit_date
    if last is None:
        points += AUDIT_AGE_OLD_POINTS
        shown = f"{count} audit{'s' if count > 1 else ''}, date unknown"
        note = "Audited; the date of the last audit is unknown, so it counts as old."
    else:
        age = max((as_of - last).days, 0)
        age_points = AUDIT_AGE_OLD_POINTS
        for limit, step_points in AUDIT_AGE_STEPS:
            if age <= limit:
                age_points = step_points
                break
        points += age_points
        shown = f"{count} audit{'s' if count > 1 else ''}, last {last.isoformat()}"
        note = "More audits and a recent one lower the chance of an unreviewed bug."
    return RiskFactor(key, label, shown, min(points, max_points), max_points, note)


def _protocol_age(inputs: RiskInputs, as_of: date) -> RiskFactor:
    key, label, max_points = "protocol_age", "Protocol age", FACTOR_MAX_POINTS["protocol_age"]
    launch = inputs.protocol_launch_date
    if launch is None:
        return RiskFactor(key, label, UNKNOWN, max_points, max_points, _UNKNOWN_NOTE, True)
    age = max((as_of - launch).days, 0)
    points = _step_down(age, PROTOCOL_AGE_STEPS, PROTOCOL_AGE_YOUNG_POINTS)
    return RiskFactor(
        key,
        label,
        f"launched {launch.isoformat()} ({_years(age)})",
        points,
        max_points,
        "Code that has held real money for years is battle-tested.",
    )


def grade_for(score: int) -> str:
    for upper, grade in GRADE_BANDS:
        if score < upper:
            return grade
    return "F"


def score_pool(inputs: RiskInputs) -> RiskScore:
    """Score a pool: ``RiskScore(score 0-100, grade A-F, factors)``. Higher = riskier."""
    as_of = inputs.as_of or _today()
    factors = (
        _tvl(inputs),
        _history(inputs),
        _volatility(inputs),
        _reward_share(inputs),
        _il(inputs),
        _stablecoin(inputs),
        _outlier(inputs),
        _audits(inputs, as_of),
        _protocol_age(inputs, as_of),
    )
    score = sum(f.points for f in factors)
    score = max(0, min(100, score))
    return RiskScore(score=score, grade=grade_for(score), factors=factors)
