"""Every figure in the Learn articles that our maths can compute is computed
here by the project's own modules (``pools.amm``, ``pools.yields``) and
compared with the figure as written in the markdown. The figures are parsed
from the files, so an edit that breaks a number fails this test; an edit that
removes a sentence or a table fails it too (the pattern no longer matches),
which is the signal to move the check, not to delete it.

Figures with no helper in our maths (health factor, loop leverage, tax
arithmetic) are checked against a hand calculation written out here.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest

from pools.amm import (
    break_even_fee_apr,
    concentrated_impermanent_loss,
    constant_product_impermanent_loss,
    constant_product_reserves_at_price,
    constant_product_value_after_price_move,
    position_amounts,
    position_liquidity,
    weighted_impermanent_loss,
)
from pools.yields import apr_to_apy, apy_to_apr

ARTICLES = Path(__file__).resolve().parents[2] / "education" / "content" / "articles"
D = Decimal


@cache
def text(slug: str) -> str:
    return (ARTICLES / f"{slug}.md").read_text(encoding="utf-8")


def num(raw: str) -> Decimal:
    """'−$1,234.50' / '≈ 2,020.20' / '5.72%' / '**0.7071' → Decimal (sign kept)."""
    cleaned = raw.replace("−", "-").replace("–", "-")
    negative = cleaned.strip().startswith("-") or "-$" in cleaned
    digits = re.search(r"\d[\d,]*(?:\.\d+)?", cleaned)
    assert digits, f"no number in {raw!r}"
    value = D(digits.group(0).replace(",", ""))
    return -value if negative else value


def q(value: Decimal, places: int) -> Decimal:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def places_of(raw: str) -> int:
    digits = re.search(r"\d[\d,]*(?:\.(\d+))?", raw)
    return len(digits.group(1) or "") if digits else 0


def figure(slug: str, pattern: str) -> str:
    """The first capture group of ``pattern`` in the article (must exist)."""
    match = re.search(pattern, text(slug))
    assert match, f"{slug}.md no longer contains {pattern!r}: move this check with the text"
    return match.group(1)


def table(slug: str, header_start: str) -> list[list[str]]:
    """Rows (cells stripped) of the markdown table whose header row starts with ``header_start``."""
    lines = text(slug).splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            assert rows, f"{slug}.md: the table under {header_start!r} is empty"
            return rows
    raise AssertionError(f"{slug}.md has no table starting {header_start!r}")


def assert_written(raw: str, computed: Decimal, *, scale: Decimal = D(1)) -> None:
    """The written figure equals the computed one rounded to the written precision."""
    places = places_of(raw)
    assert num(raw) == q(computed * scale, places), f"written {raw!r}, computed {q(computed * scale, places + 2)}"


def pct(raw: str, computed: Decimal) -> None:
    assert_written(raw, computed, scale=D(100))


# --- impermanent loss ------------------------------------------------------------------------


def test_impermanent_loss_table():
    rows = table("impermanent-loss", "| Price change of one token vs the other |")
    assert len(rows) == 10
    for _, r, il in rows:
        pct(il, constant_product_impermanent_loss(D(r)))


def test_impermanent_loss_worked_example_doubling_and_halving():
    for new_price, eth, usdc, value, loss in (
        (
            4000,
            r"√0\.5 ≈ \*\*([\d.]+) ETH\*\*",
            r"√8,000,000 ≈ \*\*([\d,.]+) USDC\*\*",
            r"0\.7071 × 4,000 \+ 2,828\.43 ≈ \*\*\$([\d,.]+)\*\*",
            r"≈ \*\*(−\$[\d,.]+)\*\*, which is",
        ),
        (
            1000,
            r"√2 ≈ \*\*([\d.]+) ETH\*\*",
            r"√2,000,000 ≈ \*\*([\d,.]+) USDC\*\*",
            r"1\.4142 × 1,000 \+ 1,414\.21 ≈ \*\*\$([\d,.]+)\*\*",
            r"Impermanent loss ≈ \*\*(−\$[\d,.]+)\*\*",
        ),
    ):
        x, y = constant_product_reserves_at_price(1, 2000, new_price)
        assert_written(figure("impermanent-loss", eth), x)
        assert_written(figure("impermanent-loss", usdc), y)
        assert_written(figure("impermanent-loss", value), x * new_price + y)
        assert_written(figure("impermanent-loss", loss), x * new_price + y - (new_price + 2000))
    pct(figure("impermanent-loss", r"\*\*(−[\d.]+%)\*\* of the holding value"), constant_product_impermanent_loss(2))
    pct(
        figure("impermanent-loss", r"\(\+([\d.]+)%\)\. It went up less"),
        constant_product_value_after_price_move(2)[0] - 1,
    )


def test_weighted_pool_table():
    for r, fifty, eighty in table("impermanent-loss", "| r on the 80% token |"):
        pct(fifty, constant_product_impermanent_loss(D(r)))
        pct(eighty, weighted_impermanent_loss(D(r), [D("0.8"), D("0.2")]))


def test_concentrated_summary_table_in_the_impermanent_loss_article():
    for price_cell, full, ranged in table("impermanent-loss", "| ETH price | Full-range IL |"):
        price = num(price_cell.split("(")[0])
        pct(full, constant_product_impermanent_loss(price / 2000))
        pct(ranged, concentrated_impermanent_loss(price / 2000, D(1600) / 2000, D(2500) / 2000))


def test_break_even_fee_apr_for_a_doubling_in_six_months():
    written = figure("impermanent-loss", r"needs a fee APR of about ([\d.]+)% on the position")
    pct(written, break_even_fee_apr(constant_product_impermanent_loss(2), D("182.5")))


# --- concentrated liquidity ------------------------------------------------------------------


def range_liquidity() -> Decimal:
    return position_liquidity(2000, 1600, 2500, 1, 2000)


def test_the_range_takes_exactly_one_eth_and_2000_usdc_and_has_9_5_times_the_liquidity():
    liquidity = range_liquidity()
    x, y = position_amounts(2000, 1600, 2500, liquidity)
    assert (q(x, 6), q(y, 4)) == (D("1.000000"), D("2000.0000"))
    full_range = D(2000).sqrt()  # x·y = k with x = 1, y = 2,000: L = √k
    assert_written(
        figure("concentrated-liquidity", r"about \*\*([\d.]+) times\*\* the liquidity"), liquidity / full_range
    )


def test_concentrated_liquidity_table():
    liquidity = range_liquidity()
    rows = table("concentrated-liquidity", "| ETH price | Full range: IL |")
    assert len(rows) == 6
    for price_cell, full, holdings, value, ranged in rows:
        price = num(price_cell)
        x, y = position_amounts(price, 1600, 2500, liquidity)
        eth, usdc = (part.strip() for part in holdings.split("+"))
        assert_written(eth, x)
        assert_written(usdc, y)
        assert_written(value, x * price + y)
        pct(full, constant_product_impermanent_loss(price / 2000))
        pct(ranged, concentrated_impermanent_loss(price / 2000, D(1600) / 2000, D(2500) / 2000))


def test_the_range_sells_at_the_geometric_mean_price():
    assert_written(
        figure("concentrated-liquidity", r"average price √\(2,000 × 2,500\) ≈ \$([\d,]+)"), D(2000 * 2500).sqrt()
    )


# --- APR and APY -----------------------------------------------------------------------------


def test_compounding_table():
    rows = table("apr-vs-apy-and-real-yield", "| APR | Compounded yearly |")
    assert len(rows) == 6
    for apr_cell, yearly, monthly, weekly, daily, continuous in rows:
        apr = num(apr_cell) / 100
        pct(yearly, apr_to_apy(apr, 1))
        pct(monthly, apr_to_apy(apr, 12))
        pct(weekly, apr_to_apy(apr, 52))
        pct(daily, apr_to_apy(apr, 365))
        pct(continuous, apr_to_apy(apr, "continuous"))


def test_apy_back_to_apr_and_the_one_busy_day():
    apr = apy_to_apr(10, 365)
    pct(figure("apr-vs-apy-and-real-yield", r"corresponds to about ([\d.]+)% APR"), apr)
    pct(figure("apr-vs-apy-and-real-yield", r"or about ([\d.]+)% per day"), apr / 365)
    pct(figure("apr-vs-apy-and-real-yield", r"annualised APY of about ([\d,]+)%"), apr_to_apy(D("0.005") * 365, 365))


def test_compounding_cost_table():
    rows = {row[0]: row for row in table("apr-vs-apy-and-real-yield", "| Compounding | Earnings in a year |")}
    for label, periods, cost in (("Monthly", 12, 24), ("Weekly", 52, 104), ("Daily", 365, 730)):
        earned = 1000 * apr_to_apy(D("0.2"), periods)
        _, earned_cell, cost_cell, net_cell = rows[label]
        assert_written(earned_cell, earned)
        assert num(cost_cell) == cost
        assert_written(net_cell, earned - cost)


def test_emission_reward_apr():
    reward_apr = D(100_000) * 365 / D(10_000_000)
    pct(figure("apr-vs-apy-and-real-yield", r"a reward APR of \*\*([\d,.]+)%\*\*"), reward_apr)
    pct(figure("apr-vs-apy-and-real-yield", r"halves to \*\*([\d.]+)%\*\*"), reward_apr / 2)


# --- how AMMs work, slippage -----------------------------------------------------------------


def test_trade_table_and_arbitrage_in_the_amm_article():
    k = D(100) * 200_000
    rows = table("how-amms-work", "| Trade | USDC paid (before fee) |")
    for (_trade, paid, _, after), bought in zip(rows, (1, 10), strict=True):
        y_after = k / (100 - bought)
        assert_written(paid, y_after - 200_000)
        assert_written(after, y_after / (100 - bought))
    x, y = constant_product_reserves_at_price(100, 200_000, 2200)
    assert_written(figure("how-amms-work", r"roughly ([\d.]+) ETH and 209"), x)
    assert_written(figure("how-amms-work", r"ETH and ([\d,.]+) USDC\. The arbitrageur"), y)
    assert_written(figure("how-amms-work", r"assets worth about ([\d,.]+), \*\*about"), x * 2200 + y)
    assert_written(figure("how-amms-work", r"a profit of roughly \*\*\$([\d,]+)\*\*"), (100 - x) * 2200 - (y - 200_000))


def test_price_impact_table():
    k = D(100) * 200_000
    for size_cell, _, average, impact in table("slippage-and-price-impact", "| Trade | Share of pool's ETH |"):
        bought = num(size_cell)
        average_price = (k / (100 - bought) - 200_000) / bought
        assert_written(average, average_price)
        pct(impact, average_price / 2000 - 1)


# --- what liquidity mining is ----------------------------------------------------------------


def test_liquidity_mining_illustration():
    slug = "what-is-liquidity-mining"
    pct(figure(slug, r"A 2× move in one token costs about ([\d.]+)%"), -constant_product_impermanent_loss(2))
    assert num(figure(slug, r"a 5× move costs about ([\d.]+)%")) == q(-100 * constant_product_impermanent_loss(5), 0)
    held = D("0.32") * D("0.4")
    sold = D("0.32") * (1 + D("0.4")) / 2  # an even slide averages the start and end prices
    pct(figure(slug, r"32% × 0\.4 ≈ ([\d.]+)%"), held)
    pct(figure(slug, r"32% × 0\.7 ≈ ([\d.]+)%"), sold)
    il = -q(100 * constant_product_impermanent_loss(2), 1) / 100
    pct(figure(slug, r"− 1% ≈ (\d+)% if you kept"), D("0.08") + held - il - D("0.01"))
    pct(figure(slug, r"− 1% ≈ (\d+)% if you sold"), D("0.08") + sold - il - D("0.01"))


# --- loss-versus-rebalancing -----------------------------------------------------------------


def arbitrage(x: Decimal, y: Decimal, price: Decimal):
    """LPs' loss against holding the pool's pre-move reserves, and the reserves after."""
    x1, y1 = constant_product_reserves_at_price(x, y, price)
    return (x * price + y) - (x1 * price + y1), x1, y1


def test_lvr_round_trip():
    slug = "loss-versus-rebalancing-and-mev"
    up, x1, y1 = arbitrage(D(100), D(200_000), D(2200))
    down, x2, y2 = arbitrage(x1, y1, D(2000))
    assert (q(x2, 10), q(y2, 6)) == (D(100), D(200_000))  # back where it began: zero IL
    rows = table(slug, "| Step | Pool after |")
    assert_written(rows[1][2], up)
    assert_written(rows[2][2], down)
    assert_written(rows[3][2], up + down)
    eth, usdc = (part.strip() for part in rows[1][1].split("+"))
    assert_written(eth, x1)
    assert_written(usdc, y1)
    assert_written(figure(slug, r"the pool holds \$([\d,.]+)\. The arbitrageurs"), x1 * 2200 + y1)


def test_lvr_sigma_squared_over_8_table_and_the_small_step_check():
    slug = "loss-versus-rebalancing-and-mev"
    for sigma, lvr in table(slug, "| Annual volatility σ |"):
        pct(lvr, (num(sigma) / 100) ** 2 / 8)
    # 200 alternating 1% moves, arbitrage computed trade by trade with our maths.
    x, y, price, total = D(100), D(200_000), D(2000), D(0)
    for step in range(200):
        price = price * D("1.01") if step % 2 == 0 else price / D("1.01")
        loss, x, y = arbitrage(x, y, price)
        total += loss
    variance = 200 * D("1.01").ln() ** 2
    assert_written(figure(slug, r"realised variance of 200 × \(ln 1\.01\)² ≈ ([\d.]+)"), variance)
    pct(figure(slug, r"σ²/8 predicts a loss of about ([\d.]+)%"), variance / 8)
    pct(figure(slug, r"trade by trade gives about ([\d.]+)% too"), total / 400_000)


def test_fee_volume_needed_to_match_lvr():
    lvr = D("0.6") ** 2 / 8 * 10_000_000
    slug = "loss-versus-rebalancing-and-mev"
    assert num(figure(slug, r"LVR ≈ 4\.5% × \$10M = \*\*\$([\d,]+) a year\*\*")) == lvr
    assert num(figure(slug, r"= \*\*\$([\d,]+) million\*\*")) * 1_000_000 == lvr / D("0.003")
    assert num(figure(slug, r"about \$([\d,]+) a day\.")) == q(lvr / D("0.003") / 365, -3)
    assert num(figure(slug, r"At a 0\.05% fee, the same pool needs \$(\d+) million")) * 1_000_000 == lvr / D("0.0005")
    rows = table("uniswap-v4-hooks-and-dynamic-fees", "| Fee | Yearly non-arbitrage volume")
    for fee, yearly, daily in rows:
        needed = lvr / (num(fee) / 100)
        assert num(yearly) * 1_000_000 == needed
        per_day = needed / 365
        written = num(daily)
        assert written == (q(per_day / 1_000_000, 2) if "million" in daily else q(per_day, -3)), (daily, per_day)


# --- hedging ---------------------------------------------------------------------------------


def test_static_hedge_table_loses_exactly_the_impermanent_loss():
    rows = table("hedging-impermanent-loss", "| ETH price | LP position |")
    assert len(rows) == 5
    for price_cell, lp_cell, hold_cell, il_cell, short_cell, hedged_cell, change_cell in rows:
        price = num(price_cell)
        lp_ratio, hodl_ratio = constant_product_value_after_price_move(price / 2000)
        lp, hodl = 4000 * lp_ratio, 4000 * hodl_ratio
        assert_written(lp_cell, lp)
        assert_written(hold_cell, hodl)
        pct(il_cell, constant_product_impermanent_loss(price / 2000))
        short = 2000 - price  # short 1 ETH opened at $2,000
        assert num(short_cell) == short
        assert_written(hedged_cell, lp + short)
        assert_written(change_cell, lp + short - 4000)
        assert q(lp + short - 4000, 2) == q(lp - hodl, 2)  # the hedged loss is the IL in dollars


# --- staking tokens, loops, restaking --------------------------------------------------------


def test_steth_and_wsteth_year():
    slug = "steth-vs-wsteth"
    growth = apr_to_apy(D("0.03"), 365)
    pct(figure(slug, r"0\.03/365\)\^365 − 1 ≈ \*\*([\d.]+)%\*\*"), growth)
    rows = {row[0]: row for row in table(slug, "| | stETH | wstETH |")}
    assert_written(rows["A year later"][1], 10 * (1 + growth))
    wrapped = D(10) / D("1.2")
    assert_written(rows["Start"][2].split("→")[1], wrapped)
    assert_written(rows["A year later"][2].split(";")[1], D("1.2") * (1 + growth))
    assert_written(rows["Worth in stETH"][2].split("≈")[1], wrapped * D("1.2") * (1 + growth))


def test_loop_liquidation_prices():
    """(L − 1) ÷ (L × threshold): hand formula, no helper in our maths."""

    def liquidation_price(leverage, threshold):
        return (D(leverage) - 1) / (D(leverage) * D(threshold))

    assert_written(
        figure("yield-farming-strategies", r"80% threshold that is about ([\d.]+) ETH per token"),
        liquidation_price(3, "0.8"),
    )
    assert_written(
        figure("yield-farming-strategies", r"with 10× and 95%, about ([\d.]+),"), liquidation_price(10, "0.95")
    )
    assert_written(
        figure("restaking-and-liquid-restaking", r"\(5 − 1\) ÷ \(5 × 0\.9\) ≈ \*\*([\d.]+) ETH\*\*"),
        liquidation_price(5, "0.9"),
    )


def test_looping_exposure_and_net_yield_table():
    slug = "yield-farming-strategies"
    one_loop = 10_000 * (1 + D("0.7"))
    four_loops = 10_000 * sum(D("0.7") ** k for k in range(5))
    assert num(figure(slug, r"can become about \$([\d,]+) of exposure after one loop")) == one_loop
    assert num(figure(slug, r"about \$([\d,]+) after four")) == q(four_loops, -2)
    assert num(figure(slug, r"approaches \$([\d,]+) \(1")) == q(10_000 / (1 - D("0.7")), -2)
    for staking, borrow, leverage, net in table(slug, "| Staking yield | Borrow rate |"):
        lev = num(leverage)
        assert num(net) == q(num(staking) * lev - num(borrow) * (lev - 1), 1)


def test_lending_health_factor_and_liquidation():
    slug = "lending-and-interest"
    assert (
        num(figure(slug, r"Health factor = \(10,000 × 0\.825\) ÷ 6,000 = \*\*([\d.]+)\*\*"))
        == D(10_000) * D("0.825") / 6000
    )
    liquidation_value = D(6000) / D("0.825")
    assert_written(figure(slug, r"collateral = \$([\d,.]+), an ETH price"), liquidation_value)
    assert_written(figure(slug, r"an ETH price of about \*\*\$([\d,.]+)\*\*"), liquidation_value / 5)
    pct(figure(slug, r"That is a fall of about \*\*([\d.]+)%\*\*"), 1 - liquidation_value / 10_000)


def test_liquidation_tax_example():
    slug = "tax-on-borrowing-collateral-and-liquidations"
    taken = D(3150) / D(1450)
    assert_written(figure(slug, r"3,150 ÷ 1,450 ≈ \*\*([\d.]+) ETH\*\*"), taken)
    taken = q(taken, 4)  # the article works with the rounded quantity
    rows = {row[0]: row for row in table(slug, "| | Using the value taken")}
    assert_written(rows["Cost (2.1724 × $1,500)"][1], taken * 1500)
    assert_written(rows["Loss"][1], 3150 - taken * 1500)
    assert_written(rows["Loss"][2], 3000 - taken * 1500)
    assert_written(figure(slug, r"cost of the part taken would be \$([\d,.]+)"), taken * 1000)
    assert_written(figure(slug, r"\*\*gain\*\* of \$([\d,.]+) \(or"), 3150 - taken * 1000)
    assert_written(figure(slug, r"\(or \$([\d,.]+)\)"), 3000 - taken * 1000)


def test_restaking_slashing_sketch():
    assert num(figure("restaking-and-liquid-restaking", r"loses 10,000 × 0\.2 × 0\.1 = \*\*(\d+) ETH\*\*")) == D(
        10_000
    ) * D("0.2") * D("0.1")


@pytest.mark.parametrize("slug", sorted(p.stem for p in ARTICLES.glob("*.md")))
def test_every_article_is_read_by_the_figure_checks_or_has_no_computable_table(slug):
    """Guard: an article with a table of percentages or dollar figures that no
    test above reads would slip through; list it here on purpose."""
    covered = {
        "impermanent-loss",
        "concentrated-liquidity",
        "apr-vs-apy-and-real-yield",
        "how-amms-work",
        "slippage-and-price-impact",
        "what-is-liquidity-mining",
        "loss-versus-rebalancing-and-mev",
        "uniswap-v4-hooks-and-dynamic-fees",
        "hedging-impermanent-loss",
        "steth-vs-wsteth",
        "yield-farming-strategies",
        "restaking-and-liquid-restaking",
        "lending-and-interest",
        "tax-on-borrowing-collateral-and-liquidations",
    }
    # Illustrations that are assumptions, not results of a formula (say so in the text).
    illustrative = {
        "stablecoin-pools",
        "evaluating-a-pool",
        "defi-taxes",
        "tax-losses-and-reporting",
        "getting-started-safely",
        "liquidity-mining-vs-staking-vs-yield-farming",
        "defi-risks",
        "lp-tokens",
        "staking-and-liquid-staking",
    }
    assert slug in covered | illustrative, f"{slug}.md is new: check its figures here or list it as illustrative"
