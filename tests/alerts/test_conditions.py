"""The pure conditions and the once-per-episode state machine (no database)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.conditions import (
    ARMED,
    FIRING,
    Condition,
    Facts,
    RuleInput,
    condition_holds,
    grade_worse,
    is_usd_peg,
    range_price,
    step,
)

D = Decimal


@pytest.mark.parametrize(("apy", "threshold", "expected"), [("4.99", "5", True), ("5", "5", False), (None, "5", None)])
def test_apy_below_is_strict(apy, threshold, expected):
    rule = RuleInput(Condition.APY_BELOW, D(threshold))
    assert condition_holds(rule, Facts(apy=None if apy is None else D(apy))) is expected


def test_apy_drop_compares_with_the_7_day_mean():
    # Mean 10 %, now 7 %: 30 % below the mean.
    rule = RuleInput(Condition.APY_DROP, D(30))
    assert condition_holds(rule, Facts(apy=D(7), apy_mean_7d=D(10))) is True
    assert condition_holds(rule, Facts(apy=D("7.01"), apy_mean_7d=D(10))) is False
    assert condition_holds(rule, Facts(apy=D(7), apy_mean_7d=None)) is None


def test_tvl_drop_in_24_hours():
    rule = RuleInput(Condition.TVL_DROP, D(20))
    assert condition_holds(rule, Facts(tvl=D(800_000), tvl_24h_ago=D(1_000_000))) is True
    assert condition_holds(rule, Facts(tvl=D(800_001), tvl_24h_ago=D(1_000_000))) is False
    assert condition_holds(rule, Facts(tvl=D(800_000), tvl_24h_ago=D(0))) is None


def test_out_of_range_follows_uniswap_v3_bounds():
    rule = RuleInput(Condition.OUT_OF_RANGE)
    box = {"range_lower": D(2000), "range_upper": D(4000)}
    assert condition_holds(rule, Facts(price=D(2000), **box)) is False  # active at the lower tick
    assert condition_holds(rule, Facts(price=D(4000), **box)) is True  # not at the upper one
    assert condition_holds(rule, Facts(price=D("1999.99"), **box)) is True
    assert condition_holds(rule, Facts(price=None, **box)) is None


def test_near_edge_measures_distance_as_percent_of_price():
    rule = RuleInput(Condition.NEAR_EDGE, D(5))
    box = {"range_lower": D(2000), "range_upper": D(4000)}
    # 3800: 200 below the upper edge = 5.26 % of the price: not within 5 %.
    assert condition_holds(rule, Facts(price=D(3800), **box)) is False
    # 3810: 190 / 3810 = 4.99 %.
    assert condition_holds(rule, Facts(price=D(3810), **box)) is True
    assert condition_holds(rule, Facts(price=D(5000), **box)) is True  # out of range counts too


def test_depeg_uses_percent_away_from_one_dollar():
    rule = RuleInput(Condition.DEPEG, D(2))
    assert condition_holds(rule, Facts(stable_prices=(D("0.98"), D(1)))) is False  # exactly 2 %: not more
    assert condition_holds(rule, Facts(stable_prices=(D("0.979"), D(1)))) is True
    assert condition_holds(rule, Facts(stable_prices=(D("1.0201"),))) is True
    assert condition_holds(rule, Facts(stable_prices=())) is None


def test_risk_worse_against_the_baseline_grade():
    rule = RuleInput(Condition.RISK_WORSE, baseline_grade="B")
    assert condition_holds(rule, Facts(risk_grade="C")) is True
    assert condition_holds(rule, Facts(risk_grade="B")) is False
    assert condition_holds(rule, Facts(risk_grade="A")) is False
    assert condition_holds(rule, Facts(risk_grade="")) is None
    assert grade_worse("F", "E") is True


def test_rewards_ended_needs_rewards_to_begin_with():
    assert condition_holds(RuleInput(Condition.REWARDS_ENDED, baseline_reward=D(2)), Facts(apy_reward=D(0))) is True
    assert condition_holds(RuleInput(Condition.REWARDS_ENDED, baseline_reward=D(2)),
                           Facts(apy_reward=D("0.1"))) is False
    assert condition_holds(RuleInput(Condition.REWARDS_ENDED, baseline_reward=D(0)), Facts(apy_reward=D(0))) is None


def test_range_price_puts_the_volatile_token_first():
    # A pool listed as USDC-WETH: WETH 3000 USD, USDC 1 USD -> 3000 USDC per WETH.
    assert range_price([(D(1), True), (D(3000), False)]) == D(3000)
    assert range_price([(D(3000), False), (D(1), True)]) == D(3000)
    assert range_price([(D(3000), False)]) is None
    assert range_price([(None, False), (D(1), True)]) is None


def test_non_usd_stablecoins_are_not_checked_against_one_dollar():
    assert is_usd_peg("USDC")
    assert not is_usd_peg("EURC")


def test_state_machine_by_hand():
    assert step(ARMED, True).state == FIRING and step(ARMED, True).fires
    assert step(FIRING, True).state == FIRING and not step(FIRING, True).fires
    assert step(FIRING, False).state == ARMED and not step(FIRING, False).fires
    assert step(FIRING, None).state == FIRING and not step(FIRING, None).fires
    assert step(ARMED, None).state == ARMED


@given(st.lists(st.one_of(st.booleans(), st.none()), max_size=60))
def test_fires_once_per_episode(observations):
    """Fires exactly once per episode: each time the condition becomes true after being
    false (or at the start), never while it stays true, unknowns change nothing."""
    state, fires = ARMED, []
    for holds in observations:
        nxt = step(state, holds)
        fires.append(nxt.fires)
        state = nxt.state
    known = [h for h in observations if h is not None]
    episodes = sum(1 for i, h in enumerate(known) if h and (i == 0 or not known[i - 1]))
    assert sum(fires) == episodes
    # Never two firings without a false in between.
    last_fire_seen_false = True
    for holds, fired in zip(observations, fires, strict=True):
        if fired:
            assert last_fire_seen_false
            last_fire_seen_false = False
        if holds is False:
            last_fire_seen_false = True
