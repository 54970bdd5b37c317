"""Position and portfolio analytics on plain values (pure: standard library, pools.amm and
pools.yields, config.formatting for the sentences).

No Django and no I/O: ``portfolios.selectors`` loads rows, turns them into the
input dataclasses (``inputs.PositionData`` ...), calls these functions and hands
the results (``PositionAnalytics``, ``PortfolioSummary``) to views and the API.
Every amount is a ``Decimal`` in the owner's fiat (USD); APYs from pools are
percent per year (``5`` = 5 %), returns and APYs computed here are fractions
(``0.05`` = 5 %).

How a position is valued
========================
A position is a list of **tranches**, one per deposit (``lp_deposit`` /
``stake`` transaction of the position): the token amounts that went in and
their prices then (``fiat_value / quantity`` of each leg, or a looked-up price
for a token of the model that the deposit did not contain). A withdrawal
(``lp_withdraw`` / ``unstake``) removes the same fraction of every tranche: the
share of the synthetic ``LP#<id>`` units it burns (or, without such a leg, its
value over the position's model value then, capped at 1).

Each tranche is valued with :func:`pools.amm.value_position` under the model
of the pool kind:

=====================  =========================================================
pool / position kind   model
=====================  =========================================================
concentrated_lp        ``concentrated`` with the position's range (price of
                       token0 in token1; token0 is the first deposited token,
                       except that a stablecoin is always token1, so ranges
                       read "USDC per ETH")
weighted               ``weighted``: weights from the pool's meta when it
                       spells them ("80/20", "50-25-25"), else equal
stableswap             ``stableswap`` with amplification A = 100 (Curve's
                       typical value; the pool's own A is not in our data)
amm, farm, unknown,    ``constant_product`` for two tokens, equal-weight
no pool                ``weighted`` for more
staking, liquid        ``hold``: the tokens themselves, no impermanent loss
staking, lending or a
single token
=====================  =========================================================

Figures (``PositionAnalytics``):

* ``deposited`` - value at deposit of every tranche; ``withdrawn`` - fiat value
  of everything withdrawn. For a concentrated range a tranche is what the
  range *took*: like Uniswap v3's mint, the liquidity is the largest the
  deposited amounts allow at the deposit price, the limiting token goes in
  whole, the other only as far as that liquidity needs. The rest
  (``unused``: quantity and value at deposit per token) is not part of the
  position - not in ``deposited``, the HODL value, the IL or the PnL - and a
  warning says so (the user's wallet kept it, or the deposit was typed with
  amounts the range could not take).
* ``value_now`` - remaining share of the tranches under the model at today's
  prices **plus** the fees estimated for it; or, when the user overrode the
  amounts (``PositionAmountOverride``), those amounts at today's prices
  (``overridden`` is then True and the fees are the difference to the model).
* ``value_hodl`` - the deposited tokens at today's prices for the remaining
  share, plus, for what was withdrawn, the deposited tokens at the prices of
  the withdrawal.
* ``il`` / ``il_pct`` - model value minus HODL value (realised at withdrawals
  plus unrealised now), fees and rewards excluded; ``il_pct`` = il / value_hodl.
* ``fees`` - *actual* for withdrawn shares (withdrawn value minus the model's
  value of that share then) plus, for an open position, an *estimate* for the
  remaining share: model value x ((1 + mean base APY) ** (days / 365) - 1), the
  mean taken over the pool's daily ``apy_base`` snapshots between the deposit
  and today (the pool's current base APY when there is no history).
  ``fees_estimated`` says whether any part is an estimate. For lending and
  liquid staking the base APY is the interest/staking yield accruing in the
  position (reported the same way, as ``fees``).
* ``rewards_claimed_at_receipt`` / ``rewards_claimed_now`` - claims (reward
  transactions of the position) at their value when received and at today's
  prices. ``rewards_unclaimed`` - estimate for an open position since the last
  claim: model value x mean reward APY x days / 365 (simple, rewards are not
  compounded). For plain ``staking`` positions, whose whole yield is paid as
  claimable rewards, base and reward APY both count as rewards.
* ``costs`` - fiat value of fee legs (gas) of the position's transactions.
* ``pnl`` = value_now + withdrawn + rewards (claimed at receipt + unclaimed)
  - deposited - costs; ``pnl_vs_hodl`` = il + fees + rewards - costs.
* ``annualised_return`` - pnl / deposited compounded to a year over the days
  held (``pools.yields.annualise_return``; None under a day).
  ``realised_apy`` - the yield alone: (fees + rewards) / value_hodl annualised
  the same way; compare with ``advertised_apy`` (mean pool APY while held).

Prices (the selectors decide, :func:`stablecoin_price` is the rule): a token
flagged as a stablecoin whose latest price is older than ``PEG_MAX_AGE`` (7
days) before the valuation, or that has none, is valued at its assumed peg of
1.00 USD instead of a stale quote; such assets are listed in
``PositionData.pegged`` (prices now) / ``pegged_at`` (prices at a deposit or
withdrawal), and the analytics name them in ``assumed_peg`` and a warning.

Limits (said plainly): open positions' fees are estimated from the pool's
published base APY, which is pool-wide and says nothing about the user's own
share of the volume; a concentrated position earns fees only while in range,
which the estimate does not know (it is too high for a position that spent time
out of range - the withdrawal's actual figure replaces it); the stableswap
amplification is assumed (A = 100) because our data does not carry the pool's.

Modules: ``inputs`` (what the selectors hand in, shared constants, the
stablecoin peg rule), ``tranches`` (model choice, tranches, replay of the
transactions), ``position`` (every figure of a position, its yield windows and
series), ``portfolio`` (holdings, income, totals, allocations), ``results``
(what comes out). This package re-exports their public names.
"""

from portfolios.analytics.inputs import (
    DEFAULT_STABLESWAP_A,
    HOLD_POSITION_KINDS,
    HUNDRED,
    ONE,
    PEG_MAX_AGE,
    STABLECOIN_PEG,
    YEAR,
    ZERO,
    LegData,
    PoolData,
    PositionData,
    TxData,
    YieldStats,
    replace_extra_prices,
    stablecoin_price,
)
from portfolios.analytics.portfolio import (
    combine_summaries,
    holdings_from_transactions,
    income_between,
    summarise_portfolio,
)
from portfolios.analytics.position import analyse_position, position_value_series, prices_needed, yield_windows
from portfolios.analytics.results import (
    AllocationSlice,
    Holding,
    PortfolioSummary,
    PositionAnalytics,
    SeriesPoint,
    TokenFigure,
    UnusedDeposit,
)
from portfolios.analytics.tranches import choose_model, token_order, weights_from_meta

__all__ = [
    "DEFAULT_STABLESWAP_A",
    "HOLD_POSITION_KINDS",
    "HUNDRED",
    "ONE",
    "PEG_MAX_AGE",
    "STABLECOIN_PEG",
    "YEAR",
    "ZERO",
    "AllocationSlice",
    "Holding",
    "LegData",
    "PoolData",
    "PortfolioSummary",
    "PositionAnalytics",
    "PositionData",
    "SeriesPoint",
    "TokenFigure",
    "TxData",
    "UnusedDeposit",
    "YieldStats",
    "analyse_position",
    "choose_model",
    "combine_summaries",
    "holdings_from_transactions",
    "income_between",
    "position_value_series",
    "prices_needed",
    "replace_extra_prices",
    "stablecoin_price",
    "summarise_portfolio",
    "token_order",
    "weights_from_meta",
    "yield_windows",
]
