"""Risk score: table-driven factor checks and monotonicity properties (hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import pools.risk as risk_module
from pools.risk import FACTOR_MAX_POINTS, RiskInputs, grade_for, reward_share, score_pool

D = Decimal
AS_OF = date(2025, 10, 6)


def points(key: str, **inputs) -> int:
    return score_pool(RiskInputs(as_of=AS_OF, **inputs)).factor(key).points


def safest(**overrides) -> RiskInputs:
    base: dict[str, Any] = dict(
        tvl_usd=D("500000000"),
        observation_count=1500,
        apy_sigma_30d=D("0.2"),
        apy_base=D(3),
        apy_reward=None,
        il_risk="no",
        kind="stableswap",
        stablecoin=True,
        outlier=False,
        audit_count=5,
        last_audit_date=AS_OF - timedelta(days=30),
        protocol_launch_date=date(2020, 1, 1),
        as_of=AS_OF,
    )
    base.update(overrides)
    return RiskInputs(**base)


# ----------------------------------------------------------------------------- formula shape
def test_factor_maxima_sum_to_100_and_docstring_lists_every_factor():
    assert sum(FACTOR_MAX_POINTS.values()) == 100
    doc = risk_module.__doc__
    for key, max_points in FACTOR_MAX_POINTS.items():
        assert f"| `{key}` | {max_points} |" in doc, key  # the table's Max column matches the code
    assert "Higher = riskier" in doc and "unknown is not safe" in doc


def test_all_unknown_is_maximum_risk():
    result = score_pool(RiskInputs(as_of=AS_OF))
    assert result.score == 100 and result.grade == "F"
    assert set(result.unknown_factors) == set(FACTOR_MAX_POINTS)
    for factor in result.factors:
        assert factor.points == factor.max_points == FACTOR_MAX_POINTS[factor.key]
        assert factor.value_shown == "unknown" and "not treated as safe" in factor.explanation


def test_safest_pool_scores_only_the_residual_audit_points():
    result = score_pool(safest())
    assert result.score == 2 and result.grade == "A" and result.unknown_factors == ()
    assert result.factor("audits").points == 2  # audits reduce, never remove, contract risk
    assert [f.key for f in result.factors] == list(FACTOR_MAX_POINTS)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(0, "A"), (19, "A"), (20, "B"), (34, "B"), (35, "C"), (49, "C"), (50, "D"), (64, "D"), (65, "E"),
     (79, "E"), (80, "F"), (100, "F")],
)  # fmt: skip
def test_grade_bands(score, grade):
    assert grade_for(score) == grade


# ----------------------------------------------------------------------------- factor tables
@pytest.mark.parametrize(
    ("tvl", "expected"),
    [(None, 20), ("5000", 20), ("9999.99", 20), ("10000", 16), ("99999", 16), ("100000", 12), ("1000000", 8),
     ("9999999", 8), ("10000000", 4), ("100000000", 0), ("4e10", 0)],
)  # fmt: skip
def test_tvl_table(tvl, expected):
    assert points("tvl", tvl_usd=None if tvl is None else D(tvl)) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [(None, 10), (0, 10), (6, 10), (7, 8), (29, 8), (30, 6), (90, 4), (180, 2), (364, 2), (365, 0), (3000, 0)],
)
def test_history_table(days, expected):
    assert points("history", observation_count=days) == expected


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        (None, None, 15),
        ("0", None, 0),
        ("0.99", None, 0),
        ("1", None, 3),
        ("2.9", None, 3),
        ("3", None, 6),
        ("10", None, 9),
        ("30", None, 12),
        ("99.9", None, 12),
        ("100", None, 15),
        ("0.5", "9", 0),  # our own 30-day sigma wins over DeFiLlama's
        (None, "0.05", 0),
        (None, "0.1", 3),
        (None, "0.3", 6),
        (None, "0.6", 9),
        (None, "1.2", 12),
        (None, "2.5", 15),
    ],
)
def test_volatility_table(ours, theirs, expected):
    factor = score_pool(
        RiskInputs(
            as_of=AS_OF,
            apy_sigma_30d=None if ours is None else D(ours),
            source_sigma=None if theirs is None else D(theirs),
        )
    ).factor("apy_volatility")
    assert factor.points == expected
    if ours is None and theirs is not None:
        assert "DeFiLlama" in factor.value_shown


@pytest.mark.parametrize(
    ("base", "reward", "expected"),
    [
        (None, None, 15),  # both unknown
        ("5", None, 0),  # null reward = no emissions
        ("0", "0", 0),
        ("9", "1", 0),  # 10 %
        ("8.9", "1.1", 3),  # 11 %
        ("75", "25", 3),
        ("50", "50", 6),
        ("25", "75", 9),
        ("10", "90", 12),
        ("9", "91", 15),
        (None, "3", 15),  # only reward APY known: 100 % emissions
        ("0", "0.00022", 15),  # real curve 3pool case: all of a tiny APY is CRV
    ],
)
def test_reward_share_table(base, reward, expected):
    assert points("reward_share", apy_base=base and D(base), apy_reward=reward and D(reward)) == expected


@pytest.mark.parametrize(
    ("il", "kind", "expected"),
    [("no", "concentrated", 0), ("yes", "amm", 8), ("yes", None, 8), ("yes", "concentrated", 10), (None, "amm", 10),
     ("perhaps", "amm", 10)],
)  # fmt: skip
def test_il_table(il, kind, expected):
    assert points("il_risk", il_risk=il, kind=kind) == expected


@pytest.mark.parametrize(("stable", "expected"), [(True, 0), (False, 10), (None, 10)])
def test_stablecoin_table(stable, expected):
    assert points("stablecoin", stablecoin=stable) == expected


@pytest.mark.parametrize(("outlier", "expected"), [(False, 0), (True, 5), (None, 5)])
def test_outlier_table(outlier, expected):
    assert points("outlier", outlier=outlier) == expected


@pytest.mark.parametrize(
    ("count", "audit_age_days", "expected"),
    [
        (None, None, 10),
        (0, 10, 10),
        (1, 10, 6),
        (1, 365, 6),
        (1, 366, 7),
        (1, 3 * 365, 7),
        (1, 3 * 365 + 1, 8),
        (1, None, 8),  # date unknown counts as old
        (2, 10, 4),
        (3, 10, 2),
        (12, 2000, 4),
    ],
)
def test_audit_table(count, audit_age_days, expected):
    last = None if audit_age_days is None else AS_OF - timedelta(days=audit_age_days)
    assert points("audits", audit_count=count, last_audit_date=last) == expected


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [(None, 5), (-10, 4), (0, 4), (179, 4), (180, 3), (365, 2), (730, 1), (1095, 0), (4000, 0)],
)
def test_protocol_age_table(age_days, expected):
    launch = None if age_days is None else AS_OF - timedelta(days=age_days)
    assert points("protocol_age", protocol_launch_date=launch) == expected


def test_factor_texts_are_readable():
    result = score_pool(safest(tvl_usd=D("18465180"), apy_base=D("7"), apy_reward=D("3")))
    shown = {f.key: f.value_shown for f in result.factors}
    assert shown["tvl"] == "$18.5M"
    assert shown["reward_share"] == "30% of APY from rewards"
    assert shown["history"] == "1500 days of data"
    assert shown["audits"].startswith("5 audits, last ")
    assert all(f.explanation for f in result.factors)


def test_from_pool_prefers_our_stats(bundled_pool_and_stats):
    pool, stats = bundled_pool_and_stats
    inputs = RiskInputs.from_pool(pool, stats=stats, as_of=AS_OF)
    assert inputs.tvl_usd == pool.tvl_usd and inputs.kind == "concentrated"
    assert inputs.observation_count == max(stats.count, pool.count)
    assert inputs.apy_sigma_30d == stats.sigma_30d and inputs.source_sigma == pool.sigma
    result = score_pool(inputs)
    assert 0 <= result.score <= 100 and result.factor("il_risk").points == 10
    assert set(result.unknown_factors) == {"audits", "protocol_age"}


@pytest.fixture(scope="module")
def bundled_pool_and_stats():
    from pools.sources import BundledSource, compute_apy_stats

    source = BundledSource()
    pool = source.fetch_pools().by_id()["3603d576-a4d7-4317-9ae1-bf451b3e637a"]
    return pool, compute_apy_stats(source.fetch_history(pool.pool_id))


# ----------------------------------------------------------------------------- properties
money = st.decimals(min_value=0, max_value=D("5e10"), places=2, allow_nan=False, allow_infinity=False)
apy = st.decimals(min_value=0, max_value=D(100000), places=4, allow_nan=False, allow_infinity=False)
sigma = st.decimals(min_value=0, max_value=D(5000), places=4, allow_nan=False, allow_infinity=False)
days = st.integers(min_value=0, max_value=5000)


@st.composite
def inputs(draw) -> RiskInputs:
    maybe = lambda strategy: draw(st.none() | strategy)  # noqa: E731
    return RiskInputs(
        tvl_usd=maybe(money),
        observation_count=maybe(days),
        apy_sigma_30d=maybe(sigma),
        source_sigma=maybe(sigma),
        apy_base=maybe(apy),
        apy_reward=maybe(apy),
        il_risk=maybe(st.sampled_from(["yes", "no"])),
        kind=maybe(st.sampled_from(["concentrated", "amm", "stableswap", "lending"])),
        stablecoin=maybe(st.booleans()),
        outlier=maybe(st.booleans()),
        audit_count=maybe(st.integers(min_value=0, max_value=20)),
        last_audit_date=maybe(st.dates(min_value=date(2015, 1, 1), max_value=AS_OF)),
        protocol_launch_date=maybe(st.dates(min_value=date(2015, 1, 1), max_value=AS_OF)),
        as_of=AS_OF,
    )


def score(i: RiskInputs, **changes) -> int:
    return score_pool(dataclasses.replace(i, **changes)).score


@given(inputs())
def test_score_is_bounded_and_consistent(i):
    result = score_pool(i)
    assert 0 <= result.score <= 100
    assert result.score == sum(f.points for f in result.factors)
    assert result.grade == grade_for(result.score)
    assert all(0 <= f.points <= f.max_points == FACTOR_MAX_POINTS[f.key] for f in result.factors)


@given(inputs(), money, money)
def test_more_tvl_never_increases_risk(i, a, b):
    low, high = sorted((a, b))
    assert score(i, tvl_usd=high) <= score(i, tvl_usd=low)


@given(inputs(), days, days)
def test_more_history_never_increases_risk(i, a, b):
    low, high = sorted((a, b))
    assert score(i, observation_count=high) <= score(i, observation_count=low)


@given(inputs(), sigma, sigma)
def test_more_volatility_never_decreases_risk(i, a, b):
    low, high = sorted((a, b))
    assert score(i, apy_sigma_30d=high) >= score(i, apy_sigma_30d=low)
    assert score(i, apy_sigma_30d=None, source_sigma=high) >= score(i, apy_sigma_30d=None, source_sigma=low)


@given(inputs(), apy, apy, apy)
def test_more_reward_share_never_decreases_risk(i, base, r1, r2):
    low, high = sorted((r1, r2))
    assert score(i, apy_base=base, apy_reward=high) >= score(i, apy_base=base, apy_reward=low)
    # and directly in terms of the share
    assert reward_share(base, high) >= reward_share(base, low)


@given(inputs(), apy, apy, apy)
def test_more_fee_apy_never_increases_risk(i, reward, b1, b2):
    low, high = sorted((b1, b2))
    assert score(i, apy_base=high, apy_reward=reward) <= score(i, apy_base=low, apy_reward=reward)


@given(inputs(), st.integers(0, 30), st.integers(0, 30))
def test_more_audits_never_increase_risk(i, a, b):
    low, high = sorted((a, b))
    assert score(i, audit_count=high) <= score(i, audit_count=low)


@given(inputs(), st.dates(date(2015, 1, 1), AS_OF), st.dates(date(2015, 1, 1), AS_OF))
def test_recent_audit_and_old_protocol_never_increase_risk(i, d1, d2):
    older, newer = sorted((d1, d2))
    assume(i.audit_count is not None)
    assert score(i, last_audit_date=newer) <= score(i, last_audit_date=older)
    assert score(i, protocol_launch_date=older) <= score(i, protocol_launch_date=newer)


@given(inputs())
def test_unknown_is_never_safer_than_any_known_value(i):
    """Blanking a factor's inputs (making them unknown) never lowers the score."""
    groups = {
        "tvl": {"tvl_usd": None},
        "history": {"observation_count": None},
        "apy_volatility": {"apy_sigma_30d": None, "source_sigma": None},
        "reward_share": {"apy_base": None, "apy_reward": None},
        "il_risk": {"il_risk": None},
        "stablecoin": {"stablecoin": None},
        "outlier": {"outlier": None},
        "audits": {"audit_count": None, "last_audit_date": None},
        "protocol_age": {"protocol_launch_date": None},
    }
    base = score_pool(i)
    for key, blank in groups.items():
        blanked = score_pool(dataclasses.replace(i, **blank))
        assert blanked.score >= base.score, key
        assert blanked.factor(key).points == FACTOR_MAX_POINTS[key]
        assert blanked.factor(key).unknown


@given(inputs())
def test_risky_flags_never_lower_the_score(i):
    assert score(i, il_risk="yes") >= score(i, il_risk="no")
    assert score(i, stablecoin=False) >= score(i, stablecoin=True)
    assert score(i, outlier=True) >= score(i, outlier=False)
    assert score(i, il_risk="yes", kind="concentrated") >= score(i, il_risk="yes", kind="amm")


def test_from_pool_ignores_our_sigma_with_too_few_observations():
    from pools.sources.stats import ApyStats
    from pools.sources.types import PoolRecord

    pool = PoolRecord("p", "Ethereum", "uniswap-v3", "WETH-USDC", D(10**6), sigma=D("0.2"))
    few = ApyStats(count=4, window_count=4, mean_30d=D(5), sigma_30d=D("0.1"), first_day=None, last_day=None)
    enough = dataclasses.replace(few, count=5, window_count=5)
    assert RiskInputs.from_pool(pool, stats=few).apy_sigma_30d is None
    assert RiskInputs.from_pool(pool, stats=enough).apy_sigma_30d == D("0.1")
    assert score_pool(RiskInputs.from_pool(pool, stats=few, as_of=AS_OF)).factor("apy_volatility").points == 3
