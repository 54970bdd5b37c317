"""Concentrated ranges, staking rewards and lending interest through the services and selectors."""

from datetime import timedelta
from decimal import Decimal

import pytest

from pools import amm
from pools.models import Pool
from portfolios.selectors import position_analytics, position_value_series
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_claim_rewards, position_open, position_unstake
from tests.portfolios.conftest import DEPOSIT_AT, WITHDRAW_AT, _pool, at
from tests.portfolios.factories import PoolSnapshotFactory, ProtocolFactory

pytestmark = pytest.mark.django_db
D = Decimal


def close_to(a, b, tol=D("1e-6")):
    return abs(a - b) <= tol


@pytest.fixture
def v3(portfolio, v3_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=DEPOSIT_AT,
        range_lower=D("1500"),
        range_upper=D("2500"),
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


def test_a_concentrated_position_in_range_at_the_deposit_price(v3):
    result = position_analytics(position=v3, as_of=at("2025-06-02"))
    assert result.model == "concentrated"
    assert result.in_range is True and result.range_status == "in_range"
    assert result.current_price == D("2000")
    assert close_to(result.distance_to_lower, D("-0.25")) and close_to(result.distance_to_upper, D("0.25"))


def test_a_concentrated_position_goes_out_of_range_when_the_price_leaves_it(v3):
    result = position_analytics(position=v3, as_of=WITHDRAW_AT)  # ETH at 3000 > 2500
    expected = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)], lower=D(1500), upper=D(2500)
    )
    assert result.in_range is False and result.range_status == "above"
    assert close_to(result.distance_to_upper, D(2500) / D(3000) - 1)
    assert close_to(result.value_model, expected.value_lp)
    assert close_to(result.il, expected.il_absolute)
    tokens = {t.asset: t for t in result.tokens}
    assert tokens["WETH"].now == 0  # all converted to USDC above the range
    assert close_to(tokens["USDC"].now, expected.amounts_now[1])
    assert any("Out of range" in w and "only USDC" in w for w in result.warnings)
    # The deposit amounts beyond what the range absorbs are not part of the position (Uniswap's mint).
    assert close_to(tokens["USDC"].deposited, expected.amounts_deposited[1])


def test_a_range_counts_only_what_it_took_in_deposited_hodl_and_pnl(v3):
    # 1 ETH + 2000 USDC at 2000 into 1500-2500: the range takes the USDC and 0.788 ETH;
    # 0.212 ETH ($423.99 then) did not fit and is not in the position's figures.
    result = position_analytics(position=v3, as_of=WITHDRAW_AT)
    expected = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)], lower=D(1500), upper=D(2500)
    )
    assert close_to(result.deposited, expected.value_at_deposit)  # $3,576.01, not $4,000
    assert close_to(result.value_hodl, expected.value_hodl)
    assert close_to(result.deposited_amounts["WETH"], expected.amounts_deposited[0])
    [unused] = result.unused
    assert unused.asset == "WETH" and close_to(unused.quantity, 1 - expected.amounts_deposited[0])
    assert close_to(unused.value_at_deposit, 2000 * (1 - expected.amounts_deposited[0]))
    # PnL: the pool's model value plus its estimated fees and rewards against what went in.
    assert close_to(result.pnl, result.value_now + result.rewards_unclaimed - expected.value_at_deposit)
    assert close_to(result.pnl_vs_hodl, result.il + result.fees + result.rewards_unclaimed)
    assert any(w.startswith("0.2119938258 WETH of your deposit did not fit your range") for w in result.warnings)


def test_a_one_sided_range_order_is_valued_with_the_price_looked_up_at_the_deposit(portfolio, v3_pool, usdc, prices):
    # Only USDC below the price: a buy order for ETH between 1000 and 1800.
    position = position_open(
        portfolio=portfolio,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=DEPOSIT_AT,
        range_lower=D("1000"),
        range_upper=D("1800"),
        deposits=[LegInput(token=usdc, quantity=D("1000"))],
    )
    result = position_analytics(position=position, as_of=WITHDRAW_AT)
    assert [t.asset for t in result.tokens] == ["WETH", "USDC"]
    assert result.range_status == "above"
    assert close_to(result.value_model, D("1000"))  # untouched: the price never came down


def test_the_value_series_charts_the_position_against_holding(v3):
    series = position_value_series(position=v3, until=at("2025-09-01").date())
    assert series[0].day == DEPOSIT_AT.date()
    assert close_to(series[0].value, series[0].value_hodl)
    last = series[-1]
    assert last.day == at("2025-09-01").date()
    assert last.value < last.value_hodl  # impermanent loss after the move to 3000
    # Days between stored prices carry the last price forward: one point per day.
    assert len(series) == (at("2025-09-01").date() - DEPOSIT_AT.date()).days + 1


@pytest.fixture
def staked(portfolio, staking_pool, eth, prices):
    return position_open(
        portfolio=portfolio,
        pool=staking_pool,
        kind="staking",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("10"))],
    )


def test_staking_rewards_accrue_until_claimed(staked, eth):
    day_30 = position_analytics(position=staked, as_of=DEPOSIT_AT + timedelta(days=30))
    day_60 = position_analytics(position=staked, as_of=DEPOSIT_AT + timedelta(days=60))
    assert day_30.model == "hold" and day_30.il == 0
    assert day_30.fees == 0  # staking pays rewards, not fees
    # 3 % base + 0.5 % reward APY on 10 ETH at 2000, simple interest
    assert close_to(day_30.rewards_unclaimed, D(20000) * D("0.035") * 30 / 365)
    assert day_60.rewards_unclaimed > day_30.rewards_unclaimed
    position_claim_rewards(
        position=staked,
        token=eth,
        quantity=D("0.05"),
        income_type="staking",
        occurred_at=DEPOSIT_AT + timedelta(days=60),
        fiat_value=D("110"),
    )
    after = position_analytics(position=staked, as_of=DEPOSIT_AT + timedelta(days=61))
    assert after.rewards_claimed_at_receipt == D("110")
    assert after.rewards_by_asset == {"WETH": D("0.05")}
    assert after.rewards_unclaimed < day_30.rewards_unclaimed  # one day since the claim
    assert after.advertised_apy == D("0.035")
    assert after.realised_apy is not None and after.realised_apy > 0


def test_unstaking_more_than_staked_is_refused_and_all_of_it_closes(staked, eth):
    from portfolios.services.errors import InsufficientPosition

    with pytest.raises(InsufficientPosition) as exc:
        position_unstake(position=staked, occurred_at=WITHDRAW_AT, withdrawals=[LegInput(token=eth, quantity=D("11"))])
    assert str(exc.value) == "You are withdrawing 11 WETH but the position holds 10 WETH."
    position_unstake(position=staked, occurred_at=WITHDRAW_AT, withdrawals=[LegInput(token=eth, quantity=D("10"))])
    staked.refresh_from_db()
    assert staked.closed_at == WITHDRAW_AT
    result = position_analytics(position=staked)
    assert result.pnl == D("10000")  # 10 ETH in at 2000, out at 3000


def test_lending_interest_accrues_from_the_pools_base_apy_history(portfolio, chain, usdc, prices):
    pool = _pool(
        Pool.Kind.LENDING,
        "USDC",
        [usdc],
        chain,
        ProtocolFactory(slug="aave-v3", name="Aave V3"),
        apy=D("4"),
        apy_base=D("4"),
        apy_reward=D("0"),
        exposure="single",
        il_risk=False,
    )
    for offset in range(0, 30):
        PoolSnapshotFactory(
            pool=pool, day=DEPOSIT_AT.date() + timedelta(days=offset), apy_base=D("6"), apy=D("6"), apy_reward=D("0")
        )
    position = position_open(
        portfolio=portfolio,
        pool=pool,
        kind="lending",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=usdc, quantity=D("1000"))],
    )
    as_of = DEPOSIT_AT + timedelta(days=30)
    result = position_analytics(position=position, as_of=as_of)
    growth = (D("1.06").ln() * 30 / 365).exp()  # the mean of the snapshots, not today's 4 %
    assert close_to(result.fees, 1000 * (growth - 1))
    assert close_to(result.value_now, 1000 * growth)
    assert close_to(result.advertised_apy, D("0.06"))
    assert result.principal == D("1000")


def test_the_api_reports_what_a_range_did_not_take(owner_api, v3):
    body = owner_api.get(f"/api/v1/positions/{v3.pk}/analytics/").json()
    [unused] = body["unused"]
    assert unused["asset"] == "WETH"
    assert D(unused["quantity"]).quantize(D("0.0000000001")) == D("0.2119938258")
