"""Issue 11 item 2 in the API: a leg's value keeps the currency it was entered in
(``fiat_currency`` beside ``fiat_value``); objects of figures name theirs (``currency``)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def pid(owner_api):
    return owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]


def _buy(owner_api, pid, eth, **leg_extra):
    return owner_api.post("/api/v1/transactions/", {
        "portfolio": pid, "kind": "buy", "occurred_at": "2025-06-02T12:00:00Z",
        "legs": [{"asset": "GBP", "quantity": "-1500"}, {"token": eth.pk, "quantity": "1", "fiat_value": "1500",
                                                          **leg_extra}],
    }, format="json")


def test_a_value_keeps_the_currency_it_was_entered_in(owner_api, pid, eth):
    response = _buy(owner_api, pid, eth, fiat_currency="GBP")
    assert response.status_code == 201, response.content
    legs = {leg["asset"]: leg for leg in response.json()["legs"]}
    assert (legs["WETH"]["fiat_value"], legs["WETH"]["fiat_currency"]) == ("1500", "GBP")
    assert (legs["GBP"]["fiat_value"], legs["GBP"]["fiat_currency"]) == ("1500", "GBP")  # fiat: itself
    again = owner_api.get(f"/api/v1/transactions/{response.json()['id']}/").json()
    assert {leg["fiat_currency"] for leg in again["legs"]} == {"GBP"}


def test_without_a_currency_an_entered_value_is_in_the_user_s(owner, owner_api, pid, eth):
    owner.fiat_currency = "CHF"
    owner.save()
    legs = {leg["asset"]: leg for leg in _buy(owner_api, pid, eth).json()["legs"]}
    assert legs["WETH"]["fiat_currency"] == "CHF"


def test_a_looked_up_value_is_in_dollars_the_price_history_s_currency(owner, owner_api, pid, eth, prices):
    owner.fiat_currency = "EUR"
    owner.save()
    response = owner_api.post("/api/v1/transactions/", {
        "portfolio": pid, "kind": "transfer_in", "occurred_at": "2025-06-01T12:00:00Z",
        "legs": [{"token": eth.pk, "quantity": "1"}]}, format="json")
    assert response.status_code == 201, response.content
    (leg,) = response.json()["legs"]
    assert leg["value_source"] == "looked_up" and leg["fiat_currency"] == "USD"


def test_an_unknown_currency_is_refused_naming_the_field(owner_api, pid, eth):
    response = _buy(owner_api, pid, eth, fiat_currency="XAU")
    assert response.status_code == 400
    assert "fiat_currency" in str(response.json())


def test_figures_name_their_currency(owner_api, pid):
    assert owner_api.get(f"/api/v1/portfolios/{pid}/").json()["currency"] == "USD"
    assert owner_api.get(f"/api/v1/portfolios/{pid}/summary/").json()["currency"] == "USD"


def test_the_schema_documents_the_currency_fields(api_client):
    schema = api_client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "Currency of `fiat_value`" in schema
    assert "ISO 4217 currency of every money field of this object" in schema
    assert "ISO 4217 currency of every money figure of the report" in schema
