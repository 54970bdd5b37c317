"""Issue 11 item 2 on the portfolio pages: figures in the user's currency at a stated
ECB rate, and legs entered in another currency valued at their own day's rate."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from pools.services.fx import fx_history_load
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.ecb_file import ecb_rate
from tests.portfolios.conftest import DEPOSIT_AT

pytestmark = pytest.mark.django_db
D = Decimal
RATE_DAY = date(2025, 6, 30)  # the newest day loaded below (a Monday with rates)


@pytest.fixture
def rates(db):
    fx_history_load(since=date(2025, 1, 1), until=RATE_DAY, currencies=["USD", "GBP"])


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(portfolio=portfolio, pool=amm_pool, kind="lp", opened_at=DEPOSIT_AT,
                         deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))])


def _gbp_per_usd() -> Decimal:
    # From the ECB file itself: GBP per EUR / USD per EUR on the day shown.
    gbp, usd = ecb_rate("GBP", RATE_DAY), ecb_rate("USD", RATE_DAY)
    assert gbp is not None and usd is not None
    return gbp / usd


def test_a_pound_user_sees_the_dashboard_in_pounds_with_the_rate_and_its_day(owner, owner_client, lp, rates):
    owner.fiat_currency = "GBP"
    owner.save()
    response = owner_client.get(reverse("portfolios:dashboard"))
    html = response.content.decode()
    deposited_gbp = (D("4000") * _gbp_per_usd()).quantize(D("0.01"))  # 4000 USD deposited
    assert f"£{deposited_gbp:,}" in html
    assert "$4,000.00" not in html
    note = html.split('data-testid="currency-note">')[1].split("</p>")[0]
    assert "Amounts in GBP" in note and "2025-06-30" in note
    assert f"1 USD = {_gbp_per_usd():.4f} GBP" in note


def test_a_dollar_user_sees_dollars_and_no_conversion(owner_client, lp, rates):
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "$4,000.00" in html
    assert "Amounts in US dollars (USD)." in html


def test_without_rates_the_page_stays_in_dollars_and_says_why(owner, owner_client, lp):
    owner.fiat_currency = "GBP"
    owner.save()
    html = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk])).content.decode()
    assert "$4,000.00" in html
    assert "no ECB exchange rate for GBP is stored yet" in html


def test_a_deposit_entered_in_pounds_is_valued_in_dollars_at_its_day_s_rate(owner, portfolio, amm_pool, eth, usdc,
                                                                               prices, rates, owner_client):
    owner.fiat_currency = "GBP"
    owner.save()
    deposit_day = DEPOSIT_AT.date()
    position = position_open(portfolio=portfolio, pool=amm_pool, kind="lp", opened_at=DEPOSIT_AT,
                             deposits=[LegInput(token=eth, quantity=D("1"), fiat_value=D("1600")),
                                       LegInput(token=usdc, quantity=D("2000"), fiat_value=D("1600"))])
    legs = {leg.asset: leg for leg in position.transactions.get().legs.all()}
    assert {(leg.fiat_value, leg.fiat_currency) for a, leg in legs.items() if not a.startswith("LP#")} == {
        (D("1600"), "GBP")}  # stored as entered
    response = owner_client.get(reverse("portfolios:position_detail", args=[position.pk]))
    a = response.context["a"]
    usd_rate = ecb_rate("USD", deposit_day) or ecb_rate("USD", _previous_business_day(deposit_day))
    gbp_rate = ecb_rate("GBP", deposit_day) or ecb_rate("GBP", _previous_business_day(deposit_day))
    expected_usd = D("3200") * usd_rate / gbp_rate  # 3,200 GBP in USD at the deposit day's rates
    assert abs(a.deposited - expected_usd) < D("0.000001")


def _previous_business_day(day: date) -> date:
    from datetime import timedelta

    for back in range(1, 8):
        if ecb_rate("USD", day - timedelta(days=back)) is not None:
            return day - timedelta(days=back)
    raise LookupError(day)


def test_editing_keeps_each_value_in_the_currency_it_was_entered_in(owner, owner_client, portfolio, eth, prices):
    from portfolios.services.transactions import transaction_record
    from tests.portfolios.views.test_transactions import leg_rows

    owner.fiat_currency = "GBP"
    owner.save()
    txn = transaction_record(portfolio=portfolio, kind="buy", occurred_at=DEPOSIT_AT, legs=[
        LegInput(asset="EUR", quantity=D("-2000")),
        LegInput(token=eth, quantity=D("1"), fiat_value=D("2000"), fiat_currency="EUR")])
    url = reverse("portfolios:transaction_edit", args=[txn.pk])
    page = owner_client.get(url)
    assert [f.initial["fiat_currency"] for f in page.context["formset"].forms[:2]] == ["EUR", "EUR"]
    data = {"kind": "buy", "occurred_at": "2025-06-01T12:00", "description": "typo fixed",
            **leg_rows(("EUR", "-2000", "2000", False), ("WETH", "1", "2000", False), ("USDC", "5", "4", False),
                       initial=2)}
    data.update({"legs-0-fiat_currency": "EUR", "legs-1-fiat_currency": "EUR"})  # as the page sends them back
    response = owner_client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    stored = {leg.asset: (leg.fiat_value, leg.fiat_currency) for leg in txn.legs.all()}
    assert stored == {"EUR": (D("2000"), "EUR"), "WETH": (D("2000"), "EUR"), "USDC": (D("4"), "GBP")}
