"""The transactions API on hidden transactions and gift categories (issue 12): PATCH (a synced
transaction included), the strict ``?hidden=`` flag, problems naming the field, another user's 404."""

import pytest
from rest_framework.test import APIClient

from portfolios.services.legs import LegInput
from portfolios.services.transactions import transaction_record
from tests.portfolios.conftest import at
from tests.portfolios.factories import PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced_out(portfolio, eth, prices):
    transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=at("2025-06-01T12:00:00"),
        legs=[LegInput(asset="USD", quantity="-2000"), LegInput(token=eth, quantity="1")],
    )
    return transaction_record(
        portfolio=portfolio,
        kind="transfer_out",
        occurred_at=at("2025-09-01T12:00:00"),
        legs=[LegInput(token=eth, quantity="-1")],
        source="chain",
    )


def _ids(api, query=""):
    response = api.get(f"/api/v1/transactions/{query}")
    assert response.status_code == 200, response.json()
    return [t["id"] for t in response.json()["results"]]


def test_patch_categorises_and_hides_a_synced_transaction(owner_api, synced_out):
    url = f"/api/v1/transactions/{synced_out.pk}/"
    assert owner_api.get(url).json()["category"] == "" and owner_api.get(url).json()["hidden"] is False
    changed = owner_api.patch(url, {"category": "gift", "hidden": True}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["category"], changed.json()["hidden"]) == ("gift", True)
    assert owner_api.get(url).json()["hidden"] is True  # a hidden one is still read by its id
    # ... and cannot be edited into contradiction with the chain
    refused = owner_api.patch(url, {"occurred_at": "2025-08-01T12:00:00Z"}, format="json")
    assert refused.status_code == 400 and "occurred_at" in refused.json()["errors"]


def test_the_list_leaves_hidden_ones_out_unless_asked(owner_api, synced_out):
    everything = _ids(owner_api)
    assert synced_out.pk in everything and len(everything) == 2
    owner_api.patch(f"/api/v1/transactions/{synced_out.pk}/", {"hidden": True}, format="json")
    assert synced_out.pk not in _ids(owner_api) and len(_ids(owner_api)) == 1
    assert _ids(owner_api, "?hidden=false") == _ids(owner_api)
    assert _ids(owner_api, "?hidden=true") == [synced_out.pk]


@pytest.mark.parametrize("query", ["?hidden=1", "?hidden=yes", "?hidden=", "?hidden=true&hidden=false"])
def test_a_bad_hidden_flag_is_a_400_problem(owner_api, synced_out, query):
    response = owner_api.get(f"/api/v1/transactions/{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "hidden" in response.json()["errors"]


def test_bad_values_are_400s_naming_the_field(owner_api, portfolio, synced_out, eth):
    buy = synced_out.portfolio.transactions.get(kind="buy")
    response = owner_api.patch(f"/api/v1/transactions/{buy.pk}/", {"category": "gift"}, format="json")
    assert response.status_code == 400 and "category" in response.json()["errors"]
    for body in ({"category": "donation"}, {"hidden": "yes"}, {"hidden": 1}):
        response = owner_api.patch(f"/api/v1/transactions/{synced_out.pk}/", body, format="json")
        assert response.status_code == 400 and set(body) <= set(response.json()["errors"]), body


def test_a_gift_can_be_recorded_through_the_api(owner_api, portfolio, eth, prices):
    response = owner_api.post(
        "/api/v1/transactions/",
        {
            "portfolio": portfolio.pk,
            "kind": "transfer_in",
            "occurred_at": "2025-06-01T12:00:00Z",
            "legs": [{"token": eth.pk, "quantity": "0.5", "fiat_value": "1000"}],
            "category": "gift_spouse",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["category"] == "gift_spouse" and response.json()["hidden"] is False


def test_another_users_transaction_is_a_404(synced_out, stranger):
    api = APIClient()
    api.force_authenticate(stranger)
    PortfolioFactory(owner=stranger)
    url = f"/api/v1/transactions/{synced_out.pk}/"
    assert api.patch(url, {"hidden": True}, format="json").status_code == 404
    assert api.get(url).status_code == 404
    assert api.get("/api/v1/transactions/?hidden=true").json()["results"] == []
    synced_out.refresh_from_db()
    assert synced_out.hidden is False
