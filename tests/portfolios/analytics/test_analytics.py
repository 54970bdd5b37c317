"""portfolios.analytics on plain values (no database)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pools import amm
from portfolios import analytics as an
from portfolios.analytics.tranches import _value_stableswap

D = Decimal
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 7, 2, tzinfo=UTC)  # 182 days later


def close_to(a, b, tol=D("1e-9")):
    return abs(a - b) <= tol


def deposit(tx_id, at, legs, position_id=1, kind="lp_deposit"):
    return an.TxData(tx_id, kind, at, tuple(an.LegData(*leg) for leg in legs), "", position_id)


def lp_position(kind="lp", pool_kind="amm", meta="", prices=None, txs=None, **extra):
    pool = an.PoolData(
        id=7,
        kind=pool_kind,
        symbol="A-B",
        meta=meta,
        chain="Ethereum",
        protocol="Proto",
        apy=D(0),
        apy_base=D(0),
        apy_reward=D(0),
    )
    txs = txs or (deposit(1, T0, [("ETH", D(-1), D(2000)), ("USDC", D(-2000), D(2000)), ("LP#1", D(4000), D(4000))]),)
    return an.PositionData(
        id=1,
        kind=kind,
        opened_at=T0,
        transactions=tuple(txs),
        pool=pool,
        prices_now=prices or {"ETH": D(4000), "USDC": D(1)},
        stablecoins=frozenset({"USDC"}),
        **extra,
    )


@pytest.mark.parametrize(
    ("meta", "n", "expected"),
    [
        ("80/20", 2, (D("0.8"), D("0.2"))),
        ("Weighted 50-25-25", 3, (D("0.5"), D("0.25"), D("0.25"))),
        ("80/20", 3, None),
        ("0.05%", 2, None),
        ("", 2, None),
    ],
)
def test_weights_are_read_from_the_pool_meta_when_they_fit(meta, n, expected):
    assert an.weights_from_meta(meta, n) == expected


@pytest.mark.parametrize(
    ("position_kind", "pool_kind", "n", "model"),
    [
        ("lp", "amm", 2, "constant_product"),
        ("lp", "unknown", 2, "constant_product"),
        ("lp", None, 2, "constant_product"),
        ("farm", "farm", 2, "constant_product"),
        ("lp", "amm", 3, "weighted"),
        ("lp", "weighted", 2, "weighted"),
        ("lp", "stableswap", 2, "stableswap"),
        ("concentrated_lp", "concentrated", 2, "concentrated"),
        ("staking", "staking", 1, "hold"),
        ("lending", "lending", 1, "hold"),
        ("lp", "amm", 1, "hold"),
    ],
)
def test_the_model_follows_the_pool_kind(position_kind, pool_kind, n, model):
    pool = None if pool_kind is None else an.PoolData(id=1, kind=pool_kind)
    assert an.choose_model(position_kind, pool, n)[0] == model


def test_stableswap_uses_an_amplification_of_100():
    assert an.choose_model("lp", an.PoolData(id=1, kind="stableswap"), 2)[1] == {"amplification": D(100)}


def test_a_weighted_pool_values_with_its_meta_weights():
    p = lp_position(
        pool_kind="weighted",
        meta="80/20",
        txs=(deposit(1, T0, [("ETH", D(-4), D(8000)), ("USDC", D(-2000), D(2000))]),),
    )
    result = an.analyse_position(p, as_of=T1)
    expected = amm.value_position(
        "weighted", [D(4), D(2000)], [D(2000), D(1)], [D(4000), D(1)], weights=[D("0.8"), D("0.2")]
    )
    assert result.model == "weighted"
    assert close_to(result.value_model, expected.value_lp)
    assert close_to(result.il, expected.il_absolute)


def test_an_open_lp_without_fees_or_rewards_loses_exactly_the_impermanent_loss_against_holding():
    result = an.analyse_position(lp_position(), as_of=T1)
    expected = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(4000), D(1)])
    assert close_to(result.value_now, expected.value_lp)
    assert close_to(result.pnl_vs_hodl, expected.il_absolute)
    assert close_to(result.pnl, expected.value_lp - 4000)
    assert close_to(result.il_pct, amm.constant_product_impermanent_loss(D(2)))


def test_fees_are_estimated_from_the_mean_base_apy_of_the_holding_window():
    yields = {(T0.date(), T1.date()): an.YieldStats(days=182, apy_base=D(10), apy_reward=D(4), apy=D(14))}
    result = an.analyse_position(lp_position(), as_of=T1, yields=yields)
    growth = (D("1.1").ln() * D(182) / D(365)).exp()
    assert close_to(result.fees, result.value_model * (growth - 1), D("1e-6"))
    assert close_to(result.rewards_unclaimed, result.value_model * D("0.04") * 182 / 365, D("1e-6"))
    assert result.advertised_apy == D("0.14")
    assert result.fees_estimated is True


def test_a_withdrawal_realises_fees_and_impermanent_loss():
    lp = "LP#1"
    txs = (
        deposit(1, T0, [("ETH", D(-1), D(2000)), ("USDC", D(-2000), D(2000)), (lp, D(4000), D(4000))]),
        # half of it comes out when ETH is at 4000: the model holds 0.7071 ETH + 2828 USDC, take half + 1 %
        deposit(
            2,
            T1,
            [("ETH", D("0.3571"), D("1428.4")), ("USDC", D("1428.5"), D("1428.5")), (lp, D(-2000), None)],
            kind="lp_withdraw",
        ),
    )
    result = an.analyse_position(lp_position(txs=txs), as_of=T1 + timedelta(seconds=1))
    half = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(4000), D(1)])
    assert close_to(result.withdrawn, D("2856.9"))
    assert close_to(result.fees_realised, D("2856.9") - half.value_lp / 2, D("1e-6"))
    assert result.remaining_cost == D(2000)
    assert close_to(result.value_model, half.value_lp / 2, D("1e-6"))


def test_the_range_status_and_distances_of_a_concentrated_position():
    p = lp_position(kind="concentrated_lp", pool_kind="concentrated", range_lower=D(1500), range_upper=D(2500))
    result = an.analyse_position(p, as_of=T1)
    assert result.range_status == "above" and result.in_range is False
    assert close_to(result.distance_to_upper, D(2500) / D(4000) - 1)


def test_a_stablecoin_is_token1_of_a_range_whatever_the_deposit_order():
    txs = (deposit(1, T0, [("USDC", D(-2000), D(2000)), ("ETH", D(-1), D(2000))]),)
    p = lp_position(kind="concentrated_lp", pool_kind="concentrated", txs=txs, range_lower=D(1500), range_upper=D(2500))
    assert an.token_order(p) == ["ETH", "USDC"]


def test_missing_current_prices_leave_the_value_unknown_with_a_warning():
    result = an.analyse_position(lp_position(prices={"ETH": None, "USDC": D(1)}), as_of=T1)
    assert result.value_now is None and result.pnl is None
    assert any("value now is unknown" in w for w in result.warnings)


def test_the_series_compares_the_position_with_holding_day_by_day():
    prices = {T0.date() + timedelta(days=i): {"ETH": D(2000 + 100 * i), "USDC": D(1)} for i in range(5)}
    series = an.position_value_series(lp_position(), prices)
    assert [p.day for p in series] == sorted(prices)
    assert close_to(series[0].value, D(4000))
    assert all(p.value <= p.value_hodl for p in series)


def test_income_counts_rewards_inside_the_period_only():
    reward = lambda at, v: an.TxData(1, "reward", at, (an.LegData("CRV", D(1), D(v)),), "staking")  # noqa: E731
    txs = [reward(T0 - timedelta(seconds=1), 5), reward(T0, 7), reward(T1, 11)]
    assert an.income_between(txs, T0, T1) == D(7)


def test_loose_holdings_ignore_fiat_synthetic_assets_and_negative_balances():
    txs = [
        an.TxData(1, "buy", T0, (an.LegData("USD", D(-100)), an.LegData("ETH", D(2), D(100))), "", None),
        an.TxData(2, "sell", T0, (an.LegData("BTC", D(-1)), an.LegData("USD", D(9))), "", None),
        an.TxData(3, "lp_deposit", T0, (an.LegData("ETH", D(-5)),), "", 9),
    ]
    holdings = an.holdings_from_transactions(txs, {"ETH": D(3000)})
    assert holdings == [an.Holding("ETH", D(2), D(3000), D(6000))]


def test_the_portfolio_summary_splits_value_by_asset_chain_protocol_and_kind():
    result = an.analyse_position(lp_position(), as_of=T1)
    summary = an.summarise_portfolio([result], [an.Holding("BTC", D(1), D(100), D(100))], as_of=T1, income_ytd=D(0))
    assert close_to(summary.value, result.value_now + 100)
    assert {s.key for s in summary.by_asset} == {"ETH", "USDC", "BTC"}
    assert close_to(sum(s.share for s in summary.by_chain), D(1))
    assert [s.key for s in summary.by_kind] == ["lp", "wallet"]
    assert summary.open_positions == 1 and summary.deposited == D(4000)


def test_no_float_reaches_the_math():
    with pytest.raises(amm.InvalidParameter):
        amm.value_position("constant_product", [1.0, 2000], [D(1), D(1)], [D(1), D(1)])
    assert isinstance(an.analyse_position(lp_position(), as_of=T1).value_now, Decimal)


def test_the_windows_cover_the_holding_period_deposits_and_the_last_claim():
    claim = an.TxData(9, "reward", T0 + timedelta(days=30), (an.LegData("CRV", D(1), D(1)),), "liquidity_mining", 1)
    p = lp_position(txs=(*lp_position().transactions, claim))
    assert an.yield_windows(p, T1) == {(T0.date(), T1.date()), (date(2025, 1, 31), T1.date())}


@pytest.mark.parametrize(
    ("amounts", "p_dep", "p_now"),
    [
        ([D(5000), D(5000)], [D(1), D(1)], [D("1.02"), D("0.99")]),
        ([D(7000), D(3000)], [D(1), D("1.001")], [D("0.97"), D(1)]),
        ([D(100), D(250), D(400)], [D(1), D(1), D(1)], [D(1), D("1.05"), D("0.98")]),
    ],
)
def test_the_cached_stableswap_valuation_equals_pools_amm(amounts, p_dep, p_now):
    ours = _value_stableswap(amounts, p_dep, p_now, D(100))
    theirs = amm.value_position("stableswap", amounts, p_dep, p_now, amplification=D(100))
    for a, b in zip(ours.amounts_now, theirs.amounts_now, strict=True):
        assert close_to(a, b, D("1e-20"))
    assert close_to(ours.value_lp, theirs.value_lp, D("1e-20"))
    assert close_to(ours.il_relative, theirs.il_relative, D("1e-24"))


# --------------------------------------------------------------------------- a range takes what fits


def ranged(lower, upper, prices, txs=None):
    return lp_position(
        kind="concentrated_lp",
        pool_kind="concentrated",
        range_lower=D(lower),
        range_upper=D(upper),
        prices=prices,
        txs=txs,
    )


def test_a_range_takes_only_what_fits_at_the_deposit_price_and_leaves_the_rest_out():
    # 1 ETH + 2000 USDC at 2000 into 1500-4000. By hand (Uniswap's getLiquidityForAmounts):
    # L(ETH) = 1 * sp * sb / (sb - sp) < L(USDC) = 2000 / (sp - sa), so ETH limits; the
    # range takes 1 ETH and L * (sp - sa) = 914.8358 USDC; 1,085.16 USDC is left out.
    sa, sp, sb = D(1500).sqrt(), D(2000).sqrt(), D(4000).sqrt()
    liquidity = sp * sb / (sb - sp)
    usdc_taken = liquidity * (sp - sa)
    result = an.analyse_position(ranged(1500, 4000, {"ETH": D(2400), "USDC": D(1)}), as_of=T1)
    assert close_to(usdc_taken, D("914.835766825"), D("1e-9"))
    assert result.deposited_amounts == {"ETH": D(1), "USDC": result.deposited_amounts["USDC"]}
    assert close_to(result.deposited_amounts["USDC"], usdc_taken)
    [unused] = result.unused
    assert unused.asset == "USDC"
    assert close_to(unused.quantity, 2000 - usdc_taken) and close_to(unused.value_at_deposit, 2000 - usdc_taken)
    # Deposited, HODL and PnL are on what the range took (no fees or rewards: the pool's APYs are 0).
    assert close_to(result.deposited, 2000 + usdc_taken)
    assert close_to(result.value_hodl, 2400 + usdc_taken)
    tokens = {t.asset: t for t in result.tokens}
    assert close_to(tokens["USDC"].deposited, usdc_taken) and tokens["ETH"].deposited == 1
    s_now = D(2400).sqrt()
    value_model = liquidity * (sb - s_now) / (s_now * sb) * 2400 + liquidity * (s_now - sa)
    assert close_to(result.value_model, value_model)
    assert close_to(result.pnl, value_model - 2000 - usdc_taken)  # about +$338, not the -$747 of the whole deposit
    assert result.pnl > 0
    assert close_to(result.il, value_model - 2400 - usdc_taken)
    assert (
        "1,085.16 USDC of your deposit did not fit your range at the deposit price and was not counted as in "
        "the pool (worth $1,085.16 then)"
    ) in " ".join(result.warnings)


def test_a_deposit_that_fits_its_range_is_taken_whole():
    # 1600-2500 around 2000 is geometrically centred (1600 * 2500 = 2000^2): half and half fits exactly.
    result = an.analyse_position(ranged(1600, 2500, {"ETH": D(2000), "USDC": D(1)}), as_of=T1)
    assert result.unused == ()
    assert result.deposited == D(4000)
    assert result.deposited_amounts == {"ETH": D(1), "USDC": D(2000)}
    assert not any("did not fit" in w for w in result.warnings)


def test_what_a_range_left_out_is_not_withdrawn_with_it():
    lp = "LP#1"
    txs = (
        deposit(1, T0, [("ETH", D(-1), D(2000)), ("USDC", D(-2000), D(2000)), (lp, D(4000), D(4000))]),
        deposit(
            2,
            T1,
            [("ETH", D("0.5"), D(1000)), ("USDC", D("457.4"), D("457.4")), (lp, D(-2000), None)],
            kind="lp_withdraw",
        ),
    )
    result = an.analyse_position(
        ranged(1500, 4000, {"ETH": D(2000), "USDC": D(1)}, txs=txs), as_of=T1 + timedelta(seconds=1)
    )
    taken = result.deposited_amounts["USDC"]
    assert close_to(result.remaining_cost, (2000 + taken) / 2)  # half the position, of what it took
    assert close_to(result.unused[0].quantity, 2000 - taken)  # still all of it: it never was in the pool


def test_a_stablecoin_without_a_recent_price_is_valued_at_its_peg():
    fresh, old = T1 - timedelta(days=7), T1 - timedelta(days=7, seconds=1)
    assert an.stablecoin_price(D("0.98"), fresh, T1) == (D("0.98"), False)
    assert an.stablecoin_price(D("0.98"), old, T1) == (D(1), True)
    assert an.stablecoin_price(None, None, T1) == (D(1), True)


def test_a_pegged_price_is_named_in_the_position_and_the_summary():
    p = lp_position(prices={"ETH": D(4000), "USDC": D(1)}, pegged=frozenset({"USDC"}))
    result = an.analyse_position(p, as_of=T1)
    assert result.assumed_peg == ("USDC",)
    assert "No USDC price from the last 7 days: USDC is valued at $1.00, its assumed peg." in result.warnings
    holding = an.holdings_from_transactions(
        [an.TxData(5, "buy", T0, (an.LegData("USDT", D(10), D(10)),), "", None)], {"USDT": D(1)}, frozenset({"USDT"})
    )
    summary = an.summarise_portfolio([result], holding, as_of=T1, income_ytd=D(0))
    assert summary.assumed_peg == ("USDC", "USDT")
    assert "USDC, USDT: no price from the last 7 days, so each is valued at $1.00 (assumed peg)." in summary.warnings
    both = an.combine_summaries([summary, summary], as_of=T1)
    assert [w for w in both.warnings if "assumed peg" in w] == [
        "USDC, USDT: no price from the last 7 days, so each is valued at $1.00 (assumed peg)."
    ]
