"""Issue 11 item 1: the user's currency is any ECB reference currency, or the euro."""

import pytest
from django.urls import reverse

from accounts.models import Currency
from tests.ecb_file import ecb_currencies_on, ecb_last_day

pytestmark = pytest.mark.django_db

REQUIRED = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK"]


def test_choices_are_the_euro_and_every_currency_the_ecb_still_publishes():
    published = ecb_currencies_on(ecb_last_day())  # read from the ECB's own file
    assert set(Currency.values) == published | {"EUR"}
    assert set(REQUIRED) <= set(Currency.values)


@pytest.mark.parametrize("code", REQUIRED)
def test_the_api_accepts_and_returns_each_required_currency(owner_api, owner, code):
    response = owner_api.patch("/api/v1/me/", {"fiat_currency": code}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["fiat_currency"] == code
    owner.refresh_from_db()
    assert owner.fiat_currency == code


@pytest.mark.parametrize("bad", ["XAU", "gbp ", "", "EURO", "BTC"])
def test_the_api_refuses_a_currency_that_is_not_offered_and_keeps_the_old_one(owner_api, owner, bad):
    response = owner_api.patch("/api/v1/me/", {"fiat_currency": bad}, format="json")
    assert response.status_code == 400
    assert "fiat_currency" in response.json()["errors"]
    owner.refresh_from_db()
    assert owner.fiat_currency == "USD"


def test_the_settings_page_offers_the_currencies_and_saves_one(owner_client, owner):
    page = owner_client.get(reverse("accounts:settings"))
    html = page.content.decode()
    for code in REQUIRED:
        assert f'value="{code}"' in html
    response = owner_client.post(reverse("accounts:settings"), {
        "name": "Ada", "fiat_currency": "CHF", "tax_jurisdiction": "other", "cost_basis_method": "fifo",
        "lp_treatment": "nontaxable", "timezone": "Europe/Zurich",
    })
    assert response.status_code in (200, 302)
    owner.refresh_from_db()
    assert owner.fiat_currency == "CHF"


def test_the_api_schema_lists_the_currencies(api_client):
    schema = api_client.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert "GBP" in schema.content.decode() and "JPY" in schema.content.decode()
