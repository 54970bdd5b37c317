"""An LP position end to end: deposit, price move, rewards, withdrawal; figures as pools.amm predicts."""

from decimal import Decimal

import pytest

from pools import amm
from portfolios.models import Leg, Transaction
from portfolios.selectors import position_analytics
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_claim_rewards, position_open, position_remove_liquidity
from tests.portfolios.conftest import DEPOSIT_AT, WITHDRAW_AT, at

pytestmark = pytest.mark.django_db
D = Decimal
Q = D("1e-9")


def close_to(a, b, tol=D("1e-6")):
    return abs(a - b) <= tol


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


def test_opening_records_the_deposit_with_looked_up_values_and_a_receipt(lp, eth):
    txn = Transaction.objects.get(position=lp)
    assert txn.kind == "lp_deposit"
    legs = {leg.asset: leg for leg in txn.legs.all()}
    assert legs["WETH"].quantity == D("-1") and legs["WETH"].fiat_value == D("2000")
    assert legs["WETH"].value_source == Leg.ValueSource.LOOKED_UP
    assert legs["USDC"].quantity == D("-2000")
    assert legs[f"LP#{lp.pk}"].quantity == D("4000")
    eth.refresh_from_db()
    assert eth.is_tracked


def test_a_deposit_a_price_move_and_a_withdrawal_give_the_amm_figures(lp, eth, usdc, crv):
    position_claim_rewards(
        position=lp, token=crv, quantity=D("100"), income_type="liquidity_mining", occurred_at=at("2025-07-01")
    )
    expected = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)])
    fee_growth = D("1.02")
    eth_out = (expected.amounts_now[0] * fee_growth).quantize(D("1e-18"))
    usdc_out = (expected.amounts_now[1] * fee_growth).quantize(D("1e-18"))
    position_remove_liquidity(
        position=lp,
        occurred_at=WITHDRAW_AT,
        close=True,
        withdrawals=[LegInput(token=eth, quantity=eth_out), LegInput(token=usdc, quantity=usdc_out)],
    )
    lp.refresh_from_db()
    assert lp.closed_at == WITHDRAW_AT

    result = position_analytics(position=lp)
    withdrawn = eth_out * 3000 + usdc_out
    assert result.is_open is False
    assert result.model == "constant_product"
    assert result.deposited == D("4000")
    assert close_to(result.withdrawn, withdrawn)
    assert close_to(result.il, expected.il_absolute)
    assert close_to(result.il_pct, expected.il_relative)
    assert close_to(result.fees, withdrawn - expected.value_lp)
    assert result.fees_realised == result.fees
    assert result.rewards_claimed_at_receipt == D("60")  # 100 CRV at 0.60
    assert result.rewards_claimed_now == D("50")  # at 0.50 today
    assert close_to(result.pnl, withdrawn + 60 - 4000)
    assert close_to(result.pnl_vs_hodl, withdrawn + 60 - expected.value_hodl)
    # pnl against holding = impermanent loss + fees + rewards
    assert close_to(result.pnl_vs_hodl, result.il + result.fees + 60)
    assert result.annualised_return is not None and result.annualised_return > 0


def test_an_open_position_is_valued_under_the_model_with_estimated_fees(lp):
    result = position_analytics(position=lp, as_of=WITHDRAW_AT)
    expected = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)])
    assert close_to(result.value_model, expected.value_lp)
    assert close_to(result.il, expected.il_absolute)
    # no snapshots: the pool's current base APY (10 %) over the 92 days held
    growth = (D("1.1").ln() * D(92) / D(365)).exp()
    assert close_to(result.fees, expected.value_lp * (growth - 1))
    assert result.fees_estimated is True
    assert close_to(result.value_now, expected.value_lp * growth)
    assert result.rewards_unclaimed > 0  # 2 % reward APY since the deposit
