"""Every portfolio page shows only the signed-in user's data: another user's
ids are a 404 (GET and POST), and anonymous visitors are sent to log in."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portfolios.models import Portfolio, Position, Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record
from tests.portfolios.conftest import DEPOSIT_AT

pytestmark = pytest.mark.django_db
D = Decimal

PORTFOLIO_PAGES = [
    "portfolio_detail",
    "portfolio_edit",
    "portfolio_delete",
    "portfolio_import",
    "portfolio_export",
    "transaction_list",
    "transaction_create",
]
POSITION_PAGES = [
    "position_detail",
    "position_add_liquidity",
    "position_remove_liquidity",
    "position_stake",
    "position_unstake",
    "position_claim_rewards",
    "position_close",
    "position_override_amounts",
]
TRANSACTION_PAGES = ["transaction_edit", "transaction_delete"]
ALL_PAGES = (
    [(name, "portfolio") for name in PORTFOLIO_PAGES]
    + [(name, "position") for name in POSITION_PAGES]
    + [(name, "transaction") for name in TRANSACTION_PAGES]
)


@pytest.fixture
def owned(portfolio, amm_pool, eth, usdc, prices):
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    txn = transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity=D("-2000")), LegInput(token=eth, quantity=D("1"))],
    )
    return {"portfolio": portfolio, "position": position, "transaction": txn}


def _url(name, target, owned):
    obj = owned[target]
    return reverse(f"portfolios:{name}", kwargs={f"{target}_id": obj.pk})


@pytest.mark.parametrize(("name", "target"), ALL_PAGES)
def test_the_owner_can_open_every_page(owner_client, owned, name, target):
    assert owner_client.get(_url(name, target, owned)).status_code == 200


@pytest.mark.parametrize(("name", "target"), ALL_PAGES)
def test_another_users_ids_are_404_on_get(client, stranger, owned, name, target):
    client.force_login(stranger)
    assert client.get(_url(name, target, owned)).status_code == 404


@pytest.mark.parametrize(("name", "target"), [p for p in ALL_PAGES if p[0] != "portfolio_export"])
def test_another_users_ids_are_404_on_post_and_change_nothing(client, stranger, owned, name, target):
    client.force_login(stranger)
    before = (Portfolio.objects.count(), Position.objects.count(), Transaction.objects.count())
    response = client.post(
        _url(name, target, owned),
        {"confirm": "on", "name": "Mine now", "action": "commit", "closed_at": "2025-07-01T00:00"},
    )
    assert response.status_code == 404
    assert (Portfolio.objects.count(), Position.objects.count(), Transaction.objects.count()) == before
    assert Portfolio.objects.get(pk=owned["portfolio"].pk).name == "Main"
    assert Position.objects.get(pk=owned["position"].pk).closed_at is None


@pytest.mark.parametrize(("name", "target"), ALL_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, owned, name, target):
    response = client.get(_url(name, target, owned))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", ["dashboard", "portfolio_create", "position_create"])
def test_anonymous_visitors_are_sent_to_log_in_from_the_other_pages(client, name):
    response = client.get(reverse(f"portfolios:{name}"))
    assert response.status_code == 302


def test_a_stranger_cannot_open_a_position_in_someone_elses_portfolio(client, stranger, owned, amm_pool):
    client.force_login(stranger)
    response = client.post(
        reverse("portfolios:position_create"),
        {
            "portfolio": owned["portfolio"].pk,
            "pool": amm_pool.pk,
            "kind": "lp",
            "opened_at": "2025-06-01T12:00",
            "legs-TOTAL_FORMS": "0",
            "legs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert Position.objects.filter(portfolio=owned["portfolio"]).count() == 1


def test_a_stranger_cannot_attach_a_transaction_to_someone_elses_position(client, stranger, owned):
    from tests.portfolios.factories import PortfolioFactory

    mine = PortfolioFactory(owner=stranger, name="Mine")
    client.force_login(stranger)
    response = client.post(
        reverse("portfolios:transaction_create", args=[mine.pk]),
        {
            "kind": "transfer_in",
            "occurred_at": "2025-06-01T12:00",
            "position": owned["position"].pk,
            "legs-TOTAL_FORMS": "1",
            "legs-INITIAL_FORMS": "0",
            "legs-0-asset": "USD",
            "legs-0-quantity": "10",
        },
    )
    assert response.status_code == 200
    assert not Transaction.objects.filter(portfolio=mine).exists()


def test_the_dashboard_lists_only_the_users_portfolios(client, stranger, owned):
    client.force_login(stranger)
    response = client.get(reverse("portfolios:dashboard"))
    assert response.status_code == 200
    assert "Main" not in response.content.decode().split("<main", 1)[1]
