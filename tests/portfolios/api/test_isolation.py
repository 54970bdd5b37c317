"""Another user's object answers 404 on every endpoint and method under /api/v1/.

The routes are read from the URL conf, so a new endpoint that takes an object
id is covered (or makes this test fail) without anyone remembering to add it.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record
from tests.portfolios.api.routes import _methods, _url, routes_with_an_id
from tests.portfolios.conftest import DEPOSIT_AT

pytestmark = pytest.mark.django_db

# Routes under /api/v1/ that take an id but are public on purpose: nothing in them belongs to a user.
PUBLIC = {
    "api/v1/pools/": "public pool data (DeFiLlama), the same for everyone",
    "api/v1/chains/": "public reference data",
    "api/v1/protocols/": "public reference data",
    "api/v1/tokens/": "public token data and prices",
    "api/v1/learn/": "published education content",
    "api/v1/calculators/": "stateless calculators, no stored object",
}


def _tax_report(ctx) -> int:
    from portfolios.tax.services import tax_report_request

    report, _ = tax_report_request(owner=ctx["owner"], year=2025)
    return report.pk


def _wallet(ctx) -> int:
    from portfolios.wallets.models import Wallet

    return Wallet.objects.create(portfolio=ctx["portfolio"], address="0x" + "ab" * 20).pk


def _wallet_sync(ctx) -> int:
    from portfolios.wallets.models import Wallet, WalletSync

    wallet = Wallet.objects.create(portfolio=ctx["portfolio"], address="0x" + "cd" * 20)
    return WalletSync.objects.create(wallet=wallet).pk


def _watched(ctx) -> int:
    from alerts.models import WatchedPool

    return WatchedPool.objects.create(user=ctx["owner"], pool=ctx["position"].pool, seen_at=timezone.now()).pk


def _rule(ctx) -> int:
    from alerts.models import AlertRule

    return AlertRule.objects.create(user=ctx["owner"], pool=ctx["position"].pool, condition="apy_below",
                                    threshold=Decimal(5)).pk


def _notification(ctx) -> int:
    from alerts.models import Notification

    return Notification.objects.create(user=ctx["owner"], pool=ctx["position"].pool, condition="apy_below",
                                       episode=1, title="APY below 5 %", created_at=timezone.now()).pk


# Owned resources: how to make one of the owner's objects whose id fills the route.
OWNED = {
    "api/v1/portfolios/": lambda ctx: ctx["portfolio"].pk,
    "api/v1/positions/": lambda ctx: ctx["position"].pk,
    "api/v1/transactions/": lambda ctx: ctx["transaction"].pk,
    "api/v1/tax-reports/": _tax_report,
    "api/v1/wallets/": _wallet,
    "api/v1/wallet-syncs/": _wallet_sync,
    "api/v1/watchlist/": _watched,
    "api/v1/alert-rules/": _rule,
    "api/v1/notifications/": _notification,
}
# Our own routes, which the owner must reach with GET (other apps test their owners' access).
OURS = ("api/v1/portfolios/", "api/v1/positions/", "api/v1/transactions/")


def test_every_api_route_with_an_id_is_either_owned_or_allowlisted_as_public():
    unknown = [
        route
        for route, _ in routes_with_an_id()
        if not route.startswith(tuple(OWNED)) and not route.startswith(tuple(PUBLIC))
    ]
    assert unknown == [], f"new API routes with an id: add them to OWNED or PUBLIC (with a reason): {unknown}"


@pytest.fixture
def owned(owner, portfolio, amm_pool, eth, usdc, prices):
    """route prefix -> id of one of the owner's objects, for every owned prefix that has routes."""
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=Decimal(1)), LegInput(token=usdc, quantity=Decimal(2000))],
    )
    txn = transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity=Decimal(-2000)), LegInput(token=eth, quantity=Decimal(1))],
    )
    ctx = {"owner": owner, "portfolio": portfolio, "position": position, "transaction": txn}
    routed = {next((p for p in OWNED if route.startswith(p)), None) for route, _ in routes_with_an_id()}
    return {prefix: make(ctx) for prefix, make in OWNED.items() if prefix in routed}


def _owned_prefix(route: str) -> str | None:
    return next((p for p in OWNED if route.startswith(p)), None)


def test_a_stranger_gets_404_from_every_method_of_every_owned_route(api_client, stranger, owned):
    api_client.force_authenticate(stranger)
    checked = []
    for route, pattern in routes_with_an_id():
        prefix = _owned_prefix(route)
        if prefix is None:
            continue
        url = _url(route, owned[prefix])
        for method in _methods(pattern):
            response = getattr(api_client, method)(url, data={}, format="json")
            assert response.status_code == 404, (method.upper(), url, response.status_code)
            checked.append((method, url))
    # portfolios: detail, summary, history, import, export; positions: detail and its actions; transactions
    assert len(checked) >= 20, checked


def test_the_owner_reaches_the_same_get_routes(owner_api, owned):
    for route, pattern in routes_with_an_id():
        prefix = _owned_prefix(route)
        if prefix not in OURS or "get" not in _methods(pattern):
            continue
        url = _url(route, owned[prefix])
        assert owner_api.get(url).status_code == 200, url


def test_an_anonymous_client_is_refused_everywhere(api_client, owned):
    for route, pattern in routes_with_an_id():
        prefix = _owned_prefix(route)
        if prefix is None:
            continue
        for method in _methods(pattern):
            response = getattr(api_client, method)(_url(route, owned[prefix]), data={}, format="json")
            assert response.status_code in (401, 403), (method, route)


def test_creating_in_a_strangers_portfolio_or_position_answers_404(api_client, stranger, owned, eth):
    api_client.force_authenticate(stranger)
    response = api_client.post(
        "/api/v1/positions/",
        {
            "portfolio": owned["api/v1/portfolios/"],
            "kind": "staking",
            "label": "x",
            "opened_at": "2025-06-01T12:00:00Z",
            "deposits": [{"token": eth.pk, "quantity": "1", "fiat_value": "1"}],
        },
        format="json",
    )
    assert response.status_code == 404
    response = api_client.post(
        "/api/v1/transactions/",
        {
            "portfolio": owned["api/v1/portfolios/"],
            "kind": "buy",
            "occurred_at": "2025-06-01T12:00:00Z",
            "legs": [{"asset": "USD", "quantity": "-1"}, {"token": eth.pk, "quantity": "1", "fiat_value": "1"}],
        },
        format="json",
    )
    assert response.status_code == 404
    mine = api_client.post("/api/v1/portfolios/", {"name": "Mine"}, format="json").json()["id"]
    response = api_client.post(
        "/api/v1/transactions/",
        {
            "portfolio": mine,
            "position": owned["api/v1/positions/"],
            "kind": "buy",
            "occurred_at": "2025-06-01T12:00:00Z",
            "legs": [{"asset": "USD", "quantity": "-1"}, {"token": eth.pk, "quantity": "1", "fiat_value": "1"}],
        },
        format="json",
    )
    assert response.status_code == 404


def test_lists_filtered_by_a_strangers_portfolio_are_empty(api_client, stranger, owned):
    api_client.force_authenticate(stranger)
    pid = owned["api/v1/portfolios/"]
    for url in ("/api/v1/portfolios/", f"/api/v1/positions/?portfolio={pid}", f"/api/v1/transactions/?portfolio={pid}"):
        assert api_client.get(url).json()["results"] == []
