"""US holding period: long term only when held MORE than one year.

The boundary is the calendar anniversary of the acquisition date in the
user's timezone: acquired 2023-03-01, a disposal on 2024-03-01 (the
anniversary, 366 days later because of 29 Feb 2024) is still short term,
2024-03-02 is long term.
"""

from datetime import date

import pytest

from portfolios.tax.engine import TaxSettings, compute, is_long_term

from .builders import D, buy, sell

CASES = [
    # acquired, disposed, expected term
    ("2023-03-01", "2024-02-29", "short"),
    ("2023-03-01", "2024-03-01", "short"),  # exactly one year: not MORE than one year
    ("2023-03-01", "2024-03-02", "long"),
    ("2022-06-15", "2023-06-15", "short"),
    ("2022-06-15", "2023-06-16", "long"),
    ("2024-02-29", "2025-02-28", "short"),  # leap-day lots: the anniversary is 28 Feb
    ("2024-02-29", "2025-03-01", "long"),
    ("2023-12-31", "2024-12-31", "short"),
    ("2023-12-31", "2025-01-01", "long"),
]


@pytest.mark.parametrize(("acquired", "disposed", "term"), CASES)
def test_a_disposal_is_long_term_only_after_the_anniversary(acquired, disposed, term):
    ledger = [buy("b", acquired, "BTC", "1", "100"), sell("s", disposed, "BTC", "1", "150")]
    (row,) = compute(ledger, TaxSettings(method="fifo")).disposals
    assert row.term == term
    assert is_long_term(date.fromisoformat(acquired), date.fromisoformat(disposed)) is (term == "long")


def test_the_boundary_uses_local_dates_in_the_users_timezone():
    # bought 2023-03-02 03:00 UTC = 2023-03-01 22:00 in New York;
    # sold    2024-03-02 06:00 UTC = 2024-03-02 01:00 in New York
    ledger = [
        buy("b", "2023-03-02T03:00:00+00:00", "ETH", "1", "100"),
        sell("s", "2024-03-02T06:00:00+00:00", "ETH", "1", "150"),
    ]
    (in_utc,) = compute(ledger, TaxSettings(timezone="UTC")).disposals
    (in_new_york,) = compute(ledger, TaxSettings(timezone="America/New_York")).disposals
    assert (in_utc.acquired, in_utc.disposed, in_utc.term) == (date(2023, 3, 2), date(2024, 3, 2), "short")
    assert (in_new_york.acquired, in_new_york.disposed, in_new_york.term) == (
        date(2023, 3, 1),
        date(2024, 3, 2),
        "long",
    )


def test_a_disposal_spanning_an_old_and_a_new_lot_is_split_into_long_and_short_rows():
    ledger = [
        buy("old", "2022-01-01", "ETH", "1", "1000"),
        buy("new", "2023-01-01", "ETH", "1", "1500"),
        sell("s", "2023-06-01", "ETH", "2", "4000"),
    ]
    report = compute(ledger, TaxSettings(method="fifo"))
    assert [(d.term, d.gain) for d in report.disposals] == [("long", D("1000")), ("short", D("500"))]
    totals = report.year(2023)
    assert (totals.gain_long, totals.gain_short, totals.gain) == (D("1000"), D("500"), D("1500"))


def test_uk_and_other_jurisdictions_report_terms_as_the_rules_define():
    ledger = [buy("b", "2022-01-01", "ETH", "1", "1000"), sell("s", "2023-06-01", "ETH", "1", "1500")]
    (uk_row,) = compute(ledger, TaxSettings(method="fifo", jurisdiction="uk")).disposals
    (other_row,) = compute(ledger, TaxSettings(method="fifo", jurisdiction="other")).disposals
    assert uk_row.term is None
    assert other_row.term == "long"
    assert compute(ledger, TaxSettings(method="fifo", jurisdiction="uk")).year("2023/24").gain_no_term == D("500")
