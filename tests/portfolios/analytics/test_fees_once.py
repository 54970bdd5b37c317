"""Fees counted once (issue 11 item 5): recorded LP fees (a claim with income
type LP fees, or fees realised in a withdrawal) plus the estimate only for the
time after the last recorded collection; rewards are reward tokens only.

Hand calculation.  A constant-product WETH/USDC pool with a base APY of 10 %
and no reward APY; prices never move (ETH 2000, USDC 1), so the model value
is always the 4,000 deposited and impermanent loss is zero.

* 2024-01-01  deposit 1 ETH + 2,000 USDC = 4,000.
* 2024-12-31  (365 days) estimated fees 4,000 x 10 % = 400; value 4,400; P/L 400.
* 2024-12-31  claim of 400 USDC, income type LP fees (value 400).  Fees: 400
              recorded + 0 estimated = 400; value back to 4,000; rewards 0;
              P/L = 4,000 + 400 - 4,000 = 400 (not 800).
* 2025-06-01  claim of 100 CRV liquidity-mining rewards worth 50: rewards 50.
* 2025-12-31  (365 days after the fee claim) estimate 4,000 x 10 % = 400;
              fees 400 + 400 = 800; value 4,400; P/L = 4,400 + 400 + 50 - 4,000 = 850.
* 2025-12-31  withdrawal of everything: 1.1 ETH + 2,200 USDC = 4,400 received,
              of which 400 above the model value are fees realised.  Closed:
              fees 400 realised + 400 claimed = 800; P/L = 4,400 + 400 + 50 - 4,000 = 850.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolios import analytics as an

D = Decimal
DEPOSIT = datetime(2024, 1, 1, tzinfo=UTC)
FEE_CLAIM = datetime(2024, 12, 31, tzinfo=UTC)
REWARD = datetime(2025, 6, 1, tzinfo=UTC)
WITHDRAW = datetime(2025, 12, 31, tzinfo=UTC)
CENT = D("0.01")


def tx(tx_id, kind, at, legs, income_type=""):
    return an.TxData(tx_id, kind, at, tuple(an.LegData(*leg) for leg in legs), income_type, 1)


LEDGER = [
    tx(1, "lp_deposit", DEPOSIT, [("ETH", D(-1), D(2000)), ("USDC", D(-2000), D(2000)), ("LP#1", D(4000), D(4000))]),
    tx(2, "reward", FEE_CLAIM, [("USDC", D(400), D(400))], "lp_fees"),
    tx(3, "reward", REWARD, [("CRV", D(100), D(50))], "liquidity_mining"),
    tx(4, "lp_withdraw", WITHDRAW,
       [("ETH", D("1.1"), D(2200)), ("USDC", D(2200), D(2200)), ("LP#1", D(-4000), D(4400))]),
]


def position(upto, closed=False):
    pool = an.PoolData(id=7, kind="amm", symbol="WETH-USDC", chain="Ethereum", protocol="Uniswap V2",
                       apy=D(10), apy_base=D(10), apy_reward=D(0))
    return an.PositionData(id=1, kind="lp", opened_at=DEPOSIT, transactions=tuple(t for t in LEDGER if t.id <= upto),
                           pool=pool, prices_now={"ETH": D(2000), "USDC": D(1), "CRV": D("0.5")},
                           stablecoins=frozenset({"USDC"}), closed_at=WITHDRAW if closed else None)


def figures(result):
    return tuple(None if v is None else v.quantize(CENT) for v in (
        result.value_now, result.fees, result.rewards_total, result.pnl))


@pytest.mark.parametrize("upto, as_of, closed, value, fees, rewards, pnl", [
    (1, FEE_CLAIM, False, "4400", "400", "0", "400"),   # estimate only
    (2, FEE_CLAIM, False, "4000", "400", "0", "400"),   # the claim replaces the estimate, not adds to it
    (3, WITHDRAW, False, "4400", "800", "50", "850"),   # claimed 400 + 400 estimated since the claim
    (4, WITHDRAW, True, "0", "800", "50", "850"),       # 400 realised in the withdrawal + 400 claimed
])
def test_fees_are_counted_once_through_deposit_claim_and_withdrawal(upto, as_of, closed, value, fees, rewards, pnl):
    result = an.analyse_position(position(upto, closed), as_of=as_of)
    assert figures(result) == (D(value), D(fees), D(rewards), D(pnl))


def test_claimed_lp_fees_are_not_listed_as_reward_tokens():
    result = an.analyse_position(position(3), as_of=WITHDRAW)
    assert dict(result.rewards_by_asset) == {"CRV": D(100)}
    assert result.rewards_claimed_at_receipt == D(50)
