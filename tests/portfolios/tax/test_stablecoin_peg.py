"""Tax inputs: a stablecoin leg stored without a value is valued at its peg, and the report says so."""

import pytest

from tests.portfolios.tax.handworked import record

pytestmark = pytest.mark.django_db


def test_the_tax_report_values_an_old_usdc_leg_without_value_at_its_peg_and_notes_it(owner, portfolio, tokens,
                                                                                       build):
    # A USDC reward stored without a value (before the peg rule): income 250 at the peg, and a note.
    txn = record(portfolio, "2024-03-01T00:00", "reward", "interest", [("USDC", "250", None, False)], tokens)
    assert txn.legs.get().fiat_value is None
    report = build(owner)
    assert report.status == "done", report.error
    assert report.summary["totals"]["income_total"] == "250.00"
    assert any("assumed peg (1 USDC = 1.00 USD)" in w for w in report.summary["warnings"])
