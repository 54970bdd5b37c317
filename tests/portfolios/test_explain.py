"""portfolios.explain: the position page and dashboard in words (pure; no database).

The figures are worked by hand for one position: 1 ETH + 2,000 USDC deposited into a
constant-product pool at 2,000 USDC per ETH; ETH is at 3,000 now.

* HODL: 1 x 3,000 + 2,000 = $5,000.00.
* Pool: k = 1 x 2,000; at 3,000 the pool holds sqrt(2000/3000) = 0.8164966 ETH and
  sqrt(2000 x 3000) = 2,449.4897 USDC, worth 2 x 2,449.4897 = $4,898.98.
* Impermanent loss: 4,898.98 - 5,000 = -$101.02, i.e. 2 sqrt(1.5) / 2.5 - 1 = -2.02 %.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfolios.analytics import PortfolioSummary, PositionAnalytics, TokenFigure, UnusedDeposit
from portfolios.explain import (
    StalePrice,
    and_join,
    dashboard_warnings,
    explain_impermanent_loss,
    explain_range,
    moved,
    range_badge,
    return_breakdown,
)

D = Decimal
T0 = datetime(2025, 6, 1, 12, tzinfo=UTC)
NOW = datetime(2025, 9, 1, 12, tzinfo=UTC)
POOL = D(2) * D("1.5").sqrt() / D("2.5") * 5000  # 4,898.979...
IL = POOL - 5000  # -101.02...
ENTRY = {"ETH": D(2000), "USDC": D(1)}


def figures(**changes) -> PositionAnalytics:
    base = PositionAnalytics(
        position_id=1,
        name="ETH-USDC",
        kind="lp",
        model="constant_product",
        is_open=True,
        opened_at=T0,
        closed_at=None,
        as_of=NOW,
        days_held=D(92),
        tokens=(
            TokenFigure("ETH", D(1), D("0.8164966"), D(3000), D("2449.49")),
            TokenFigure("USDC", D(2000), D("2449.4897"), D(1), D("2449.49")),
        ),
        deposited=D(4000),
        withdrawn=D(0),
        remaining_cost=D(4000),
        value_now=POOL + 30,
        value_model=POOL,
        value_hodl=D(5000),
        il=IL,
        il_pct=IL / 5000,
        fees=D(30),
        fees_realised=D(0),
        fees_estimated=False,
        rewards_claimed_at_receipt=D(0),
        rewards_claimed_now=D(0),
        rewards_unclaimed=D(0),
        rewards_by_asset={},
        costs=D(0),
        pnl=POOL + 30 - 4000,
        pnl_vs_hodl=IL + 30,
        annualised_return=None,
        realised_apy=None,
        advertised_apy=None,
        overridden=False,
        deposited_amounts={"ETH": D(1), "USDC": D(2000)},
    )
    return replace(base, **changes)


def test_the_hand_worked_position_in_sentences():
    assert explain_impermanent_loss(figures(), ENTRY) == [
        "ETH rose 50% against USDC since you deposited.",
        "Holding your original 1 ETH and 2,000 USDC would be worth $5,000.00; your pool share is worth "
        "$4,898.98, so impermanent loss cost you $101.02 (2.02%).",
        "Fees of $30.00 offset 30% of it.",  # 30 / 101.02 = 29.7 %
        "Counting fees, rewards and costs, you are $71.02 behind simply holding the tokens.",
    ]


@pytest.mark.parametrize(
    ("fees", "sentence"),
    [
        (-IL * D("0.998"), "Fees of $100.82 offset almost all of it (99.8%)."),
        (-IL * 3, "Fees of $303.06 more than made up for it: they cover 300% of the loss."),
        (D(0), "No fees have offset it yet."),
    ],
)
def test_what_the_fees_did_about_the_loss(fees, sentence):
    assert sentence in explain_impermanent_loss(figures(fees=fees), ENTRY)


def test_estimated_fees_say_so_and_a_gain_over_holding_reads_ahead():
    text = " ".join(explain_impermanent_loss(figures(fees=D(150), fees_estimated=True, pnl_vs_hodl=D("48.98")), ENTRY))
    assert "Fees of $150.00 (estimated from the pool's fee APY) more than made up for it: they cover 148%" in text
    assert "you are $48.98 ahead of simply holding the tokens." in text


def test_no_loss_and_the_same_price_ratio():
    # ETH and USDC both up 0.3 %: the ratio moved by 0 %.
    tokens = (
        TokenFigure("ETH", D(1), D(1), D("2006"), D("2006")),
        TokenFigure("USDC", D(2000), D(2000), D("1.003"), D("2006")),
    )
    text = explain_impermanent_loss(figures(tokens=tokens, il=D(0), il_pct=D(0), value_hodl=D("4012")), ENTRY)
    assert text[0] == (
        "ETH and USDC kept the same price ratio since you deposited (within 0.5%), so impermanent "
        "loss is close to nothing."
    )
    assert text[1] == (
        "Holding your original 1 ETH and 2,000 USDC would be worth $4,012.00, the same as your pool "
        "share: impermanent loss has cost you nothing so far."
    )


def test_three_tokens_move_against_the_dollar():
    tokens = (
        TokenFigure("ETH", D(1), D(1), D(3000), None),
        TokenFigure("BTC", D("0.1"), D("0.1"), D(56880), None),
        TokenFigure("USDC", D(2000), D(2000), D(1), None),
    )
    entry = {"ETH": D(2000), "BTC": D(60000), "USDC": D(1)}
    amounts = {"ETH": D(1), "BTC": D("0.1"), "USDC": D(2000)}
    text = explain_impermanent_loss(figures(tokens=tokens, model="weighted", deposited_amounts=amounts), entry)
    # BTC: 56,880 / 60,000 - 1 = -5.2 % (under 10 %: one decimal); USDC did not move.
    assert text[0] == "Since you deposited, in US dollars, ETH rose 50% and BTC fell 5.2%."


def test_a_position_that_holds_its_token_has_no_impermanent_loss():
    staked = figures(
        kind="staking",
        model="hold",
        tokens=(TokenFigure("ETH", D(4), D(4), D(3000), D(12000)),),
        deposited_amounts={"ETH": D(4)},
    )
    assert explain_impermanent_loss(staked, ENTRY) == [
        "This position holds ETH itself, not a pool of two tokens that rebalance, so it has no impermanent loss: "
        "its value follows the token's price, plus what it earns."
    ]


def test_a_missing_price_is_said_plainly():
    assert explain_impermanent_loss(figures(il=None, value_hodl=None), ENTRY)[0].startswith(
        "We cannot work out impermanent loss yet: a current price is missing"
    )


def test_what_a_range_did_not_take_is_quoted_apart():
    unused = (UnusedDeposit("ETH", D("0.2119938258"), D("423.99")),)
    text = explain_impermanent_loss(
        figures(
            kind="concentrated_lp",
            model="concentrated",
            unused=unused,
            deposited_amounts={"ETH": D("0.7880061742"), "USDC": D(2000)},
        ),
        ENTRY,
    )
    assert "Holding the 0.7880061742 ETH and 2,000 USDC your range took would be worth $5,000.00" in text[1]
    assert text[2].startswith(
        "0.2119938258 ETH of your deposit did not fit your range at the deposit price and "
        "was not counted as in the pool (worth $423.99 then)"
    )
    assert text[-1].startswith("A concentrated position magnifies impermanent loss")


def test_the_range_in_words():
    inside = figures(
        kind="concentrated_lp",
        current_price=D(3000),
        range_status="in_range",
        distance_to_lower=D(1500) / 3000 - 1,
        distance_to_upper=D(4000) / 3000 - 1,
    )
    assert explain_range(inside, lower=D(1500), upper=D(4000)) == [
        "Price now: 3,000 USDC per ETH. Your range: 1,500 to 4,000 USDC per ETH.",
        "In range: the price can fall 50.0% before it reaches the lower bound, or rise 33.3% before the upper bound.",
    ]
    below = replace(inside, current_price=D(1000), range_status="below", distance_to_lower=D("0.5"))
    assert explain_range(below, lower=D(1500), upper=D(4000))[1] == (
        "Out of range: the price is below your range. The position now holds only ETH and earns no fees; the "
        "price must rise 50.0% to re-enter it."
    )
    above = replace(inside, current_price=D(4800), range_status="above", distance_to_upper=D(4000) / 4800 - 1)
    assert explain_range(above, lower=D(1500), upper=D(4000))[1].endswith(
        "holds only USDC and earns no fees; the price must fall 16.7% to re-enter it."
    )
    assert explain_range(figures(), lower=None, upper=None) == []  # not a range


def test_where_the_return_came_from():
    rows = return_breakdown(figures(rewards_claimed_at_receipt=D(6), rewards_unclaimed=D(4), costs=D("2.5")))
    amounts = {label: amount for label, amount, _ in rows}
    assert amounts["Price change of the tokens you deposited"] == (POOL + 30 - 4000) - (IL + 30) == 1000
    assert amounts["Rewards"] == 10 and amounts["Gas and other costs"] == D("-2.5")
    assert dict((label, note) for label, _, note in rows)["Rewards"] == "$4.00 of it unclaimed (estimate)"


def test_words_and_badges():
    assert moved(D("0.35")) == "rose 35%" and moved(D("-0.052")) == "fell 5.2%"
    assert and_join(["a", "b", "c"]) == "a, b and c" and and_join(["a"]) == "a" and and_join([]) == ""
    assert range_badge(figures()) is None
    assert range_badge(figures(kind="concentrated_lp", range_status="above")) == {
        "css": "badge-danger",
        "text": "above range",
    }


def _summary(**changes) -> PortfolioSummary:
    base = PortfolioSummary(
        as_of=NOW,
        value=D(1),
        deposited=D(1),
        pnl=D(0),
        il=D(0),
        fees=D(0),
        rewards=D(0),
        costs=D(0),
        income_ytd=D(0),
        positions=(),
        holdings=(),
        by_chain=(),
        by_protocol=(),
        by_asset=(),
        by_kind=(),
        open_positions=0,
    )
    return replace(base, **changes)


def test_dashboard_warnings():
    out = figures(name="WETH-USDC 0.05%", kind="concentrated_lp", range_status="below")
    stale = [
        StalePrice("WETH", "WETH", NOW - timedelta(days=3)),
        StalePrice("USDC", "USDC", None),
        StalePrice("CRV", "CRV", NOW - timedelta(days=1)),
    ]
    warnings = dashboard_warnings(
        _summary(positions=(out,), warnings=("Twice.", "Twice."), assumed_peg=("USDC",)),
        stale,
        stale_after=timedelta(hours=24),
    )
    assert warnings == [
        "Twice.",
        "WETH-USDC 0.05% is out of range (price below your range): it earns no fees until the price comes back.",
        # USDC is valued at its peg (its own warning): not listed as stale.
        "Stale prices: WETH, CRV have no price from the last 24 hours (the oldest from 2025-08-29). Values use "
        "the latest price we have.",
    ]
    one = dashboard_warnings(_summary(), [StalePrice("0xabc", "0XABC", None)], stale_after=timedelta(hours=6))
    assert one == ["Stale prices: 0xabc has no price from the last 6 hours. Values use the latest price we have."]
