"""Issue 11 item 9: a UK report in pounds from a ledger entered in US dollars agrees
to the cent with BittyTax (an independent UK tax calculator) run on the same
ledger converted to pounds at the ECB rates of each date.

Our side: the ledger is stored in USD (as the user entered it) and the report is
built the normal way (legs converted by ``portfolios.tax.inputs`` through the
stored ``FxRate`` rows). BittyTax's side: the same transactions converted here,
independently, with the figures read straight from the ECB history file
(``tests.ecb_file``) - a weekend or holiday taking the last business day's rate.
The ledger exercises all three UK matching rules, a Saturday and Christmas Day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolios.models import Leg, Portfolio, Transaction
from portfolios.tax.engine import LegIn, TxIn
from portfolios.tax.services import tax_report_request
from tests.ecb_file import ecb_convert
from tests.portfolios.tax.crosscheck import cents, run_bittytax

pytestmark = pytest.mark.django_db
D = Decimal

# (time UTC, kind, income type, legs (asset, signed quantity, USD value, is fee))
LEDGER = [
    ("2024-04-10T12:00", "buy", "", [("USD", "-6000", "6000", False), ("ETH", "2", "6000", False),
                                     ("USD", "-10", "10", True)]),
    ("2024-05-04T12:00", "buy", "", [("USD", "-3000", "3000", False), ("ETH", "1", "3000", False)]),  # Saturday
    ("2024-05-04T15:00", "sell", "", [("ETH", "-0.5", "1600", False), ("USD", "1600", "1600", False)]),  # same day
    ("2024-07-01T12:00", "sell", "", [("ETH", "-1", "3400", False), ("USD", "3400", "3400", False)]),
    ("2024-07-15T12:00", "buy", "", [("USD", "-1300", "1300", False), ("ETH", "0.4", "1300", False)]),  # B&B
    ("2024-08-10T12:00", "reward", "staking", [("ETH", "0.1", "260", False)]),  # a Saturday
    ("2024-12-25T12:00", "sell", "", [("ETH", "-0.5", "1700", False), ("USD", "1700", "1700", False)]),  # Christmas
    ("2025-02-03T12:00", "sell", "", [("ETH", "-1", "2900", False), ("USD", "2900", "2900", False),
                                      ("USD", "-5", "5", True)]),
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _in_pounds() -> list[TxIn]:
    """The ledger as BittyTax gets it: every value, and every dollar amount, in GBP."""
    out = []
    for i, (when, kind, income_type, legs) in enumerate(LEDGER):
        day = _at(when).date()  # 12:00-15:00 UTC: the same date in London
        converted = []
        for asset, qty, value, fee in legs:
            gbp = ecb_convert(D(value), "USD", "GBP", day)
            if asset == "USD":
                converted.append(LegIn("GBP", gbp if D(qty) > 0 else -gbp, gbp, fee))
            else:
                converted.append(LegIn(asset, D(qty), gbp, fee))
        out.append(TxIn(str(i + 1), _at(when), kind, tuple(converted), income_type or None))
    return out


def test_a_uk_report_from_dollars_agrees_with_bittytax_on_the_same_ledger_in_pounds(
        owner, ecb_rates, django_capture_on_commit_callbacks):
    owner.tax_jurisdiction, owner.cost_basis_method, owner.fiat_currency = "uk", "uk", "USD"
    owner.timezone, owner.lp_treatment = "Europe/London", "disposal"
    owner.save()
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    for when, kind, income_type, legs in LEDGER:
        txn = Transaction.objects.create(portfolio=portfolio, kind=kind, income_type=income_type, occurred_at=_at(when))
        Leg.objects.bulk_create([Leg(transaction=txn, asset=a, quantity=D(q), fiat_value=D(v), is_fee=f,
                                     fiat_currency="USD") for a, q, v, f in legs])
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = tax_report_request(owner=owner, year=2024)
    report.refresh_from_db()
    assert report.status == "done", report.error
    ours = report.summary["totals"]
    assert report.fiat_currency == "GBP" and ours["disposal_count"] >= 4

    theirs = run_bittytax(_in_pounds())["totals"]["2024/25"]
    assert set(theirs["rules"]) >= {"Same Day", "Bed & Breakfast", "Section 104"}
    assert ours["gain"] == str(cents(D(theirs["gain"])))
    assert ours["income_total"] == str(cents(D(theirs["income"])))
    # Ours are net of fees and rounded once each: allow a cent for the sum of two rounded figures.
    gross = D(ours["proceeds"]) + D(ours["disposal_fees"])
    assert abs(gross - cents(D(theirs["proceeds"]))) <= D("0.01")
    cost = D(ours["cost_basis"]) + D(ours["disposal_fees"])
    assert abs(cost - cents(D(theirs["cost"]) + D(theirs["fees"]))) <= D("0.01")
    # The Saturday and Christmas Day used the rates of the business day before.
    fallbacks = {r["day"]: r["rate_day"] for r in report.summary["fx"]["rates"] if r["fallback"]}
    assert fallbacks == {"2024-05-04": "2024-05-03", "2024-08-10": "2024-08-09", "2024-12-25": "2024-12-24"}
