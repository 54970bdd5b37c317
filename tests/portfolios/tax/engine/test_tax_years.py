"""Tax years are cut on the local date in the user's timezone."""

from datetime import date

import pytest

from portfolios.tax.engine import TaxSettings, compute, tax_year_bounds, tax_year_of

from .builders import D, buy, reward, sell


@pytest.mark.parametrize(
    ("timezone", "year", "month", "day"),
    [
        ("UTC", "2024", "2024-12", date(2024, 12, 31)),
        ("Asia/Tokyo", "2025", "2025-01", date(2025, 1, 1)),  # 08:30 on New Year's Day there
        ("America/Los_Angeles", "2024", "2024-12", date(2024, 12, 31)),
    ],
)
def test_a_sale_at_2330_utc_on_new_years_eve_falls_in_the_users_local_year(timezone, year, month, day):
    ledger = [
        buy("b", "2024-06-01", "ETH", "1", "1000"),
        sell("s", "2024-12-31T23:30:00+00:00", "ETH", "1", "1200"),
    ]
    report = compute(ledger, TaxSettings(timezone=timezone))
    (row,) = report.disposals
    assert (row.tax_year, row.disposed) == (year, day)
    assert report.year(year).gain_by_month == {month: D("200")}


@pytest.mark.parametrize(
    ("when", "timezone", "year"),
    [
        ("2024-04-05T12:00:00+01:00", "Europe/London", "2023/24"),
        ("2024-04-05T23:30:00+00:00", "Europe/London", "2024/25"),  # 00:30 BST on 6 April
        ("2024-04-05T23:30:00+00:00", "UTC", "2023/24"),
        ("2024-04-06T00:00:00+01:00", "Europe/London", "2024/25"),
        ("2025-04-05T22:59:59+00:00", "Europe/London", "2024/25"),
    ],
)
def test_uk_tax_years_run_from_6_april_to_5_april(when, timezone, year):
    ledger = [
        buy("b", "2023-01-10", "ETH", "1", "1000", fiat="GBP"),
        sell("s", when, "ETH", "1", "1500", fiat="GBP"),
    ]
    (row,) = compute(ledger, TaxSettings.uk(timezone=timezone)).disposals
    assert row.tax_year == year


def test_tax_year_labels_and_bounds():
    assert tax_year_of(date(2024, 4, 5), "uk") == "2023/24"
    assert tax_year_of(date(2024, 4, 6), "uk") == "2024/25"
    assert tax_year_of(date(1999, 12, 31), "uk") == "1999/00"
    assert tax_year_bounds("2024/25", "uk") == (date(2024, 4, 6), date(2025, 4, 5))
    assert tax_year_bounds("2024", "us") == (date(2024, 1, 1), date(2024, 12, 31))


LEDGER = [
    buy("b1", "2022-03-01", "BTC", "1", "40000"),
    reward("r1", "2022-07-01", "BTC", "0.01", "200"),
    sell("s1", "2022-10-01", "BTC", "0.5", "10000"),
    buy("b2", "2023-02-01", "BTC", "0.5", "11000"),
    sell("s2", "2023-08-01", "BTC", "0.5", "14000"),
    reward("r2", "2024-01-05", "BTC", "0.01", "450"),
    sell("s3", "2024-03-01", "BTC", "0.2", "12000"),
]


@pytest.mark.parametrize("method", ["fifo", "hifo", "average", "uk"])
def test_asking_for_one_year_gives_exactly_that_years_slice_of_the_full_report(method):
    jurisdiction = "uk" if method == "uk" else "us"
    full = compute(LEDGER, TaxSettings(method=method, jurisdiction=jurisdiction))
    for year in full.tax_years:
        one = compute(LEDGER, TaxSettings(method=method, jurisdiction=jurisdiction), tax_year=year)
        assert one.tax_years == (year,)
        assert one.totals[year] == full.totals[year]
        assert list(one.disposals) == full.disposals_in(year)
        assert list(one.income) == full.income_in(year)
        assert one.lots_at_end_of(year) == full.lots_at_end_of(year)


def test_remaining_lots_are_reported_at_each_year_end():
    report = compute(LEDGER, TaxSettings(method="fifo"))
    assert [(lot.quantity, lot.cost_basis, lot.acquired) for lot in report.lots_at_end_of(2022)] == [
        (D("0.5"), D("20000"), date(2022, 3, 1)),
        (D("0.01"), D("200"), date(2022, 7, 1)),
    ]
    assert [(lot.quantity, lot.tx_ref) for lot in report.lots_at_end_of(2023)] == [(D("0.01"), "r1"), (D("0.5"), "b2")]
    assert [(lot.quantity, lot.tx_ref) for lot in report.lots_at_end_of(2024)] == [(D("0.31"), "b2"), (D("0.01"), "r2")]
    # a year with no transactions still has an answer: what was held then
    assert report.lots_at_end_of(2030) == report.lots_at_end_of(2024)
    assert compute(LEDGER, TaxSettings(method="fifo"), tax_year=2021).lots_at_end_of(2021) == ()
