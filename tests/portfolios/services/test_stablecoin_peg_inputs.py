"""Stablecoins are never asked for a value on a day without a price (issue 11
item 6): the peg (1.00 USD) is used and labelled - in the forms, the API, the
CSV import and the tax inputs.  A token that is not a stablecoin still asks.

The fixtures' USDC closes are on 2025-06-01, 09-01 and 10-01: 2025-07-15 has
no price within the seven days the lookup accepts."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolios.models import Leg, Transaction
from tests.portfolios.factories import TokenFactory
from tests.portfolios.views.test_transactions import leg_rows

pytestmark = pytest.mark.django_db
D = Decimal
NO_PRICE_DAY = "2025-07-15"


def test_the_form_values_usdc_at_its_peg_and_the_list_says_so(owner_client, portfolio, eth, usdc, prices):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    response = owner_client.post(url, {
        "kind": "transfer_in", "income_type": "", "occurred_at": f"{NO_PRICE_DAY}T12:00", "position": "",
        "description": "", **leg_rows(("USDC", "2500", "", False))})
    assert response.status_code == 302, response.content.decode()[:2000]
    leg = Leg.objects.get(transaction__portfolio=portfolio)
    assert (leg.fiat_value, leg.value_source) == (D("2500"), "peg")
    listing = owner_client.get(reverse("portfolios:transaction_list", args=[portfolio.pk])).content.decode()
    assert "assumed peg" in listing


def test_the_api_values_usdc_at_its_peg_and_labels_the_leg(owner_api, usdc, prices):
    pid = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]
    response = owner_api.post("/api/v1/transactions/", {
        "portfolio": pid, "kind": "transfer_in", "occurred_at": f"{NO_PRICE_DAY}T00:00:00Z",
        "legs": [{"token": usdc.pk, "quantity": "2500"}]}, format="json")
    assert response.status_code == 201, response.json()
    (leg,) = response.json()["legs"]
    assert (D(leg["fiat_value"]), leg["value_source"]) == (D("2500"), "peg")


def test_a_token_that_is_not_a_stablecoin_still_asks_for_its_value(owner_api, chain):
    pid = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]
    obscure = TokenFactory(chain=chain, symbol="OBSC")
    response = owner_api.post("/api/v1/transactions/", {
        "portfolio": pid, "kind": "transfer_in", "occurred_at": f"{NO_PRICE_DAY}T00:00:00Z",
        "legs": [{"token": obscure.pk, "quantity": "1"}]}, format="json")
    assert response.status_code == 400 and "Enter the value" in response.json()["errors"]["fiat_value"][0]
    assert not Transaction.objects.exists()


def test_the_csv_import_values_usdc_at_its_peg_and_the_preview_says_so(owner_client, portfolio, usdc, prices):
    text = ("tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
            f"t1,{NO_PRICE_DAY}T00:00:00Z,transfer_in,,USDC,2500,,false,,\n")
    response = owner_client.post(reverse("portfolios:portfolio_import", args=[portfolio.pk]), {
        "action": "preview", "format": "native", "file": SimpleUploadedFile("t.csv", text.encode())})
    preview = response.context["preview"]
    assert not preview.errors
    (leg,) = preview.rows[0].legs
    assert (leg.fiat_value, leg.value_source) == (D("2500"), "peg")
    assert "assumed peg" in response.content.decode()
