"""``missing_basis="zero"``: a disposal of tokens with no recorded acquisition
completes with a zero cost for the uncovered quantity, and each case is listed.
Expected figures are worked by hand in the comments."""

from datetime import timedelta
from decimal import localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.tax.engine import InsufficientHoldings, LegIn, MissingBasis, TaxSettings, TxIn, compute

from .builders import D, at, buy, leg, sell, tx

METHODS = ["fifo", "lifo", "hifo", "average", "uk"]


def lenient(method):
    return TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us", missing_basis="zero")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="missing_basis"):
        TaxSettings(missing_basis="guess")


@pytest.mark.parametrize("method", METHODS)
def test_default_mode_still_raises(method):
    settings = TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")
    with pytest.raises(InsufficientHoldings):
        compute([sell("s", "2024-05-02", "DOGE", "2", "10")], settings)


@pytest.mark.parametrize("method", METHODS)
def test_part_held_part_uncovered_sale_costs_only_what_was_recorded(method):
    # bought 1 ETH for 1000, sold 1.5 ETH for 3000: 0.5 ETH uncovered at zero cost.
    # proceeds 3000, cost 1000, gain 2000.
    ledger = [buy("b1", "2024-05-02", "ETH", "1", "1000"), sell("s7", "2024-06-03", "ETH", "1.5", "3000")]
    report = compute(ledger, lenient(method), tax_year="2024/25" if method == "uk" else 2024)
    label = report.tax_years[0]
    totals = report.year(label)
    assert (totals.proceeds, totals.cost_basis, totals.gain) == (D("3000"), D("1000"), D("2000"))
    assert sum(d.quantity for d in report.disposals) == D("1.5")
    assert report.missing_basis == (
        MissingBasis("s7", "ETH", D("0.5"), D("1"), at("2024-06-03"), label, ""),
    )


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average"])
def test_the_uncovered_part_is_short_term(method):
    # held 1 ETH since 2020 (long), sells 3: the 2 uncovered ETH count as acquired on the sale day.
    ledger = [buy("b", "2020-01-02", "ETH", "1", "100"), sell("s", "2024-06-03", "ETH", "3", "9000")]
    totals = compute(ledger, lenient(method), tax_year=2024).year(2024)
    # proceeds shared by quantity: long 1/3 of 9000 = 3000 - 100; short 6000 - 0
    assert (totals.gain_long, totals.gain_short) == (D("2900"), D("6000"))


@pytest.mark.parametrize("method", METHODS)
def test_a_pool_deposit_of_coins_never_bought_completes(method):
    # The case: 1 WETH + 2500 USDC into a pool, never bought; later withdrawn and sold.
    deposit = tx("16", "2024-05-02", "lp_deposit", leg("WETH", "-1", "2500"), leg("USDC", "-2500", "2500"),
                 leg("LP#3", "1", "5000"), position="3")
    withdraw = tx("17", "2024-08-01", "lp_withdraw", leg("LP#3", "-1", "5200"), leg("WETH", "1", "2600"),
                  leg("USDC", "2600", "2600"), position="3")
    sale = sell("18", "2024-09-01", "WETH", "1", "2700")
    report = compute([deposit, withdraw, sale], lenient(method))
    assert [(m.tx_ref, m.asset, m.quantity, m.held) for m in report.missing_basis] == [
        ("16", "WETH", D("1"), D("0")),
        ("16", "USDC", D("2500"), D("0")),
    ]
    assert all(m.detail == "moving it into lp_deposit" for m in report.missing_basis)
    # zero basis went into the LP token and came back out as zero-cost WETH: the sale is all gain
    assert sum(d.cost_basis for d in report.disposals) == D("0")
    assert sum(d.gain for d in report.disposals) == D("2700")


@pytest.mark.parametrize("method", METHODS)
def test_a_transfer_out_of_unrecorded_coins_is_not_listed_but_its_sale_is(method):
    ledger = [
        tx("t1", "2024-05-02", "transfer_out", leg("SOL", "-3")),
        tx("t2", "2024-05-03", "transfer_in", leg("SOL", "3")),
        sell("s", "2024-05-04", "SOL", "3", "450"),
    ]
    report = compute(ledger, lenient(method))
    assert [(m.tx_ref, m.quantity) for m in report.missing_basis] == [("s", D("3"))]


def test_missing_basis_until_keeps_earlier_years_and_drops_later_ones():
    ledger = [sell("a", "2023-03-01", "ETH", "1", "10"), sell("b", "2024-03-01", "ETH", "1", "10"),
              sell("c", "2025-03-01", "ETH", "1", "10")]
    report = compute(ledger, lenient("fifo"))
    assert [m.tx_ref for m in report.missing_basis_until(2024)] == ["a", "b"]


# --------------------------------------------------------------------------- properties (Hypothesis)


@st.composite
def any_ledgers(draw):
    """Buys and sells of one asset in any order and size: solvent or not.  Also returns the
    uncovered quantity an observer computes: a sale of more than is held uncovers the rest."""
    n = draw(st.integers(1, 25))
    moment = at("2024-01-02")
    held = D(0)
    uncovered = D(0)
    sold = D(0)
    txs = []
    for i in range(n):
        moment += timedelta(hours=draw(st.integers(1, 24 * 20)))
        qty = D(draw(st.integers(1, 400))) / 100
        price = D(draw(st.integers(1, 300)))
        if draw(st.booleans()):
            txs.append(TxIn(f"t{i}", moment, "buy", (LegIn("USD", -qty * price), LegIn("ETH", qty, qty * price))))
            held += qty
        else:
            txs.append(TxIn(f"t{i}", moment, "sell", (LegIn("ETH", -qty, qty * price), LegIn("USD", qty * price))))
            uncovered += max(D(0), qty - held)
            held = max(D(0), held - qty)
            sold += qty
    return txs, uncovered, sold


@settings(max_examples=60, deadline=None)
@given(any_ledgers(), st.sampled_from(["fifo", "lifo", "hifo", "average"]))
def test_a_lenient_run_never_fails_uncovers_exactly_the_shortfall_and_disposes_of_every_sale(case, method):
    txs, uncovered, sold = case
    report = compute(txs, lenient(method))
    assert sum((m.quantity for m in report.missing_basis), D(0)) == uncovered
    assert sum((d.quantity for d in report.disposals), D(0)) == sold
    # cost is conserved and the uncovered part adds none: what was bought = cost sold + cost still held
    with localcontext() as ctx:
        ctx.prec = 60  # the engine's values carry 50 digits: re-add them with room (engine docstring)
        bought = sum((leg.fiat_value for tx in txs for leg in tx.legs if tx.kind == "buy" and leg.asset == "ETH"),
                     D(0))
        held_cost = sum((lot.cost_basis for lot in report.lots_at_end_of(report.tax_years[-1])), D(0))
        assert abs(sum((d.cost_basis for d in report.disposals), D(0)) + held_cost - bought) < D("1E-30")


@settings(max_examples=60, deadline=None)
@given(any_ledgers(), st.sampled_from(METHODS))
def test_a_solvent_ledger_gives_the_same_report_in_both_modes(case, method):
    txs, uncovered, _ = case
    strict_settings = TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")
    try:
        strict = compute(txs, strict_settings)
    except InsufficientHoldings:
        assert uncovered > 0 or method == "uk"  # UK: a same-day match may reserve what an earlier sale needed
        report = compute(txs, lenient(method))  # never raises
        assert report.missing_basis
        return
    report = compute(txs, lenient(method))
    assert report.missing_basis == ()
    assert report.totals == strict.totals and report.disposals == strict.disposals
