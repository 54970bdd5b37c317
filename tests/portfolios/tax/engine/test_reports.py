"""Presentation: cents only at the end, totals right to the cent; rewards summary."""

from datetime import UTC, datetime
from decimal import Decimal

from portfolios.tax.engine import (
    TaxSettings,
    cents,
    compute,
    disposal_rows,
    rewards_summary,
    rewards_totals,
    year_summary,
)

from .builders import D, buy, reward, sell


def test_cents_round_half_up():
    assert [cents(D(x)) for x in ("0.005", "0.015", "-0.005", "2.344999", "1E+2")] == [
        D("0.01"),
        D("0.02"),
        D("-0.01"),
        D("2.34"),
        D("100.00"),
    ]


def test_totals_are_rounded_once_from_full_precision_not_summed_from_rounded_rows():
    # three equal thirds of a 1.00 sale: each row shows 0.33, the year shows 1.00
    ledger = [
        buy("b1", "2024-01-01", "X", "1", "1"),
        buy("b2", "2024-01-02", "X", "1", "1"),
        buy("b3", "2024-01-03", "X", "1", "1"),
        sell("s", "2024-02-01", "X", "3", "1"),
    ]
    report = compute(ledger)
    assert [row["proceeds"] for row in disposal_rows(report)] == ["0.33", "0.33", "0.33"]
    assert year_summary(report.year(2024))["proceeds"] == "1.00"
    assert report.year(2024).proceeds == D("1")  # the parts add up exactly (at the engine's 50 digits)


def test_no_rounding_happens_inside_the_engine():
    ledger = [buy("b", "2024-01-01", "X", "3", "1"), sell("s", "2024-02-01", "X", "1", "1")]
    (row,) = compute(ledger).disposals
    assert str(row.cost_basis) == "0." + "3" * 50  # 1/3 to 50 significant digits, not 0.33


def test_year_summary_rounds_every_breakdown():
    ledger = [reward("r", "2024-03-01", "CAKE", "1", "1.005"), sell("s", "2024-04-01", "CAKE", "1", "2")]
    summary = year_summary(compute(ledger).year(2024))
    assert summary["income_by_type"] == {"staking": "1.01"}
    assert summary["gain"] == "1.00"  # 2 - 1.005 = 0.995, half up
    assert summary["gain_by_asset"] == {"CAKE": "1.00"}


def test_rewards_summary_per_position_token_and_month_at_receipt_and_now():
    ledger = [
        reward("r1", "2024-01-15", "CAKE", "10", "25", position="cake-pool"),
        reward("r2", "2024-01-20", "CAKE", "5", "10", position="cake-pool"),
        reward("r3", "2024-02-03", "CAKE", "4", "12", position="cake-pool"),
        reward("r4", "2024-02-04", "CAKE", "1", "3", position="farm-2"),
        reward("r5", "2024-02-05", "NEWTOKEN", "7", "7", "airdrop"),
    ]
    report = compute(ledger)
    rows = rewards_summary(report.income, {"CAKE": D("2")})
    assert [(r.position, r.asset, r.month, r.quantity, r.value_at_receipt, r.value_now, r.events) for r in rows] == [
        (None, "NEWTOKEN", "2024-02", D("7"), D("7"), None, 1),
        ("cake-pool", "CAKE", "2024-01", D("15"), D("35"), D("30"), 2),
        ("cake-pool", "CAKE", "2024-02", D("4"), D("12"), D("8"), 1),
        ("farm-2", "CAKE", "2024-02", D("1"), D("3"), D("2"), 1),
    ]
    assert rows[1].change == D("-5")
    assert rewards_totals(rows) == {"value_at_receipt": D("57"), "value_now": None}
    assert rewards_totals(rows[1:]) == {"value_at_receipt": D("50"), "value_now": D("40")}


def test_rewards_summary_months_follow_the_timezone_asked_for():
    event_time = datetime(2024, 1, 31, 20, 0, tzinfo=UTC)  # 05:00 on 1 February in Tokyo
    report = compute([reward("r", event_time.isoformat(), "CAKE", "1", "2")], TaxSettings(timezone="UTC"))
    assert [r.month for r in rewards_summary(report.income, {})] == ["2024-01"]
    assert [r.month for r in rewards_summary(report.income, {}, timezone="Asia/Tokyo")] == ["2024-02"]


def test_rewards_summary_refuses_float_prices():
    import pytest

    report = compute([reward("r", "2024-01-01", "CAKE", "1", "2")])
    with pytest.raises(TypeError):
        rewards_summary(report.income, {"CAKE": 2.5})
    assert isinstance(rewards_summary(report.income, {"CAKE": Decimal("2.5")})[0].value_now, Decimal)
