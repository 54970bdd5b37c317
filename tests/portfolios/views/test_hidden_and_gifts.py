"""The web side of issue 12: the transaction form's category and "hide" box (a synced transaction's
annotate form too), the list's "Show hidden (N)" toggle and Hidden badge."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portfolios.services.legs import LegInput
from portfolios.services.transactions import transaction_record
from tests.portfolios.conftest import DEPOSIT_AT, at
from tests.portfolios.views.test_transactions import leg_rows

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def buy(portfolio, eth, prices):
    return transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity="-2000"), LegInput(token=eth, quantity="1")],
    )


@pytest.fixture
def synced_in(portfolio, crv, prices):
    return transaction_record(
        portfolio=portfolio,
        kind="transfer_in",
        occurred_at=at("2025-06-01T12:00:00"),
        legs=[LegInput(token=crv, quantity="1000")],
        source="chain",
    )


def test_the_synced_annotate_form_hides_and_categorises(owner_client, synced_in):
    url = reverse("portfolios:transaction_edit", args=[synced_in.pk])
    page = owner_client.get(url).content.decode()
    assert "Hide this transaction (it will count nowhere)" in page and 'name="category"' in page
    response = owner_client.post(
        url,
        {
            "kind": "transfer_in",
            "occurred_at": "2025-06-01T12:00",
            "category": "gift",
            "hidden": "on",
            "description": "spam?",
        },
    )
    assert response.status_code == 302, response.content.decode()
    synced_in.refresh_from_db()
    assert (synced_in.hidden, synced_in.category, synced_in.description) == (True, "gift", "spam?")


def test_the_form_refuses_a_category_on_a_buy(owner_client, buy):
    url = reverse("portfolios:transaction_edit", args=[buy.pk])
    data = {
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00",
        "category": "gift",
        **leg_rows(("USD", "-2000", "", False), ("WETH", "1", "", False), initial=2),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 200
    assert "Only a transfer out or a transfer in can be categorised" in response.content.decode()
    buy.refresh_from_db()
    assert buy.category == ""


def test_a_new_transfer_can_be_recorded_as_a_gift(owner_client, portfolio, eth, prices):
    data = {
        "kind": "transfer_out",
        "occurred_at": "2025-06-02T12:00",
        "category": "gift_spouse",
        **leg_rows(("WETH", "-0.5", "1000", False)),
    }
    response = owner_client.post(reverse("portfolios:transaction_create", args=[portfolio.pk]), data)
    assert response.status_code == 302, response.content.decode()
    assert portfolio.transactions.get().category == "gift_spouse"


def test_the_list_leaves_hidden_ones_out_with_a_toggle(owner_client, portfolio, buy, synced_in):
    url = reverse("portfolios:transaction_list", args=[portfolio.pk])
    page = owner_client.get(url).content.decode()
    assert "Show hidden" not in page and page.count('data-label="Date"') == 2
    synced_in.hidden = True
    synced_in.save()
    page = owner_client.get(url).content.decode()
    assert "Show hidden (1)" in page and page.count('data-label="Date"') == 1 and ">Hidden<" not in page
    shown = owner_client.get(url + "?hidden=1").content.decode()
    assert shown.count('data-label="Date"') == 2 and ">Hidden<" in shown and "Leave hidden ones out" in shown
