"""/api/v1/wallets/ and /api/v1/wallet-syncs/: create, list, detail, update, delete,
sync (202 + Location), status with reconciliation; another user's wallet is a 404 everywhere."""

import pytest
from rest_framework.test import APIClient

from portfolios.models import Portfolio, Transaction
from portfolios.wallets.models import Chain, Wallet, WalletSync
from portfolios.wallets.services.runner import wallet_sync_run
from tests.portfolios.wallets.test_sync import make_chain

pytestmark = [pytest.mark.chain, pytest.mark.django_db]
ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def chain(scenario):
    Chain.objects.update(active=False)  # the shipped mainnets: never reached from tests
    return make_chain(scenario)


@pytest.fixture
def portfolio(owner):
    return Portfolio.objects.create(owner=owner, name="Main")


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.fixture
def stranger_api(stranger):
    client = APIClient()
    client.force_authenticate(stranger)
    return client


def create(api, portfolio, chain, address=ADDRESS, **extra):
    return api.post(
        "/api/v1/wallets/",
        {"portfolio": portfolio.pk, "address": address, "chains": [chain.slug], **extra},
        format="json",
    )


def test_create_returns_the_checksummed_wallet_and_queues_its_first_sync(api, portfolio, chain):
    response = create(api, portfolio, chain, address=ADDRESS.lower(), label="Hot wallet")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["address"] == ADDRESS and body["label"] == "Hot wallet" and body["chains"] == [chain.slug]
    assert WalletSync.objects.get(wallet_id=body["id"]).status == "queued"
    assert body["latest_sync"] == WalletSync.objects.get(wallet_id=body["id"]).pk


@pytest.mark.parametrize(
    "address, message",
    [
        ("0x123", "0x followed by 40"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum"),  # one letter's case wrong
    ],
)
def test_a_bad_address_is_refused_with_the_reason(api, portfolio, chain, address, message):
    response = create(api, portfolio, chain, address=address)
    assert response.status_code == 400
    assert message in str(response.json()["errors"]["address"])
    assert not Wallet.objects.exists()


def test_the_same_address_twice_in_a_portfolio_is_refused(api, portfolio, chain):
    assert create(api, portfolio, chain).status_code == 201
    response = create(api, portfolio, chain, address=ADDRESS.upper().replace("0X", "0x"))
    assert response.status_code == 400 and "already" in str(response.json())


def test_an_unknown_chain_is_refused(api, portfolio, chain):
    response = api.post("/api/v1/wallets/", {"portfolio": portfolio.pk, "address": ADDRESS, "chains": ["nope"]})
    assert response.status_code == 400 and "Unknown chain" in str(response.json())


def test_sync_answers_202_with_the_status_location_and_the_status_reports_reconciliation(
    api, portfolio, chain, scenario
):
    wallet_id = create(api, portfolio, chain, address=scenario.alice).json()["id"]
    first = WalletSync.objects.get(wallet_id=wallet_id)
    response = api.post(f"/api/v1/wallets/{wallet_id}/sync/")
    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/wallet-syncs/{first.pk}/"  # the queued run is reused
    wallet_sync_run(sync_id=first.pk)
    status = api.get(response["Location"]).json()
    assert status["status"] == "done" and status["chains_done"] == status["chains_total"] == 1
    assert status["records_created"] == Transaction.objects.filter(portfolio=portfolio).count() > 0
    lines = {line["token"]: line for line in status["reconciliation"]}
    assert lines[scenario.token0.address.lower()]["ok"] is True
    assert lines[scenario.token0.address.lower()]["difference"] == "0"
    detail = api.get(f"/api/v1/wallets/{wallet_id}/").json()
    (checkpoint,) = detail["checkpoints"]
    assert checkpoint["chain"] == chain.slug and checkpoint["last_block"] == scenario.end_block
    again = api.post(f"/api/v1/wallets/{wallet_id}/sync/")
    assert again["Location"] != response["Location"]  # finished: a new run


def test_synced_transactions_show_their_chain_reference_in_the_transactions_api(api, portfolio, chain, scenario):
    wallet_id = create(api, portfolio, chain, address=scenario.alice).json()["id"]
    wallet_sync_run(sync_id=WalletSync.objects.get(wallet_id=wallet_id).pk)
    rows = api.get("/api/v1/transactions/", {"portfolio": portfolio.pk}).json()["results"]
    step = scenario.step("v2_add")
    (row,) = [r for r in rows if r["external_ref"] == step.tx_hash]
    assert row["source"] == "chain" and row["external_url"].endswith(f"/tx/{step.tx_hash}")


def test_a_synced_transaction_cannot_be_edited_or_deleted_but_can_be_annotated(api, portfolio, chain, scenario):
    wallet_id = create(api, portfolio, chain, address=scenario.alice).json()["id"]
    wallet_sync_run(sync_id=WalletSync.objects.get(wallet_id=wallet_id).pk)
    txn = Transaction.objects.filter(portfolio=portfolio, kind="transfer_out").first()
    url = f"/api/v1/transactions/{txn.pk}/"
    assert api.patch(url, {"occurred_at": "2024-01-01T00:00:00Z"}, format="json").status_code == 400
    assert api.delete(url).status_code == 400
    response = api.patch(url, {"description": "A gift to Bob"}, format="json")
    assert response.status_code == 200, response.json()
    txn.refresh_from_db()
    assert txn.description == "A gift to Bob" and txn.source == "chain"


def test_update_and_delete_remove_what_the_wallet_synced(api, portfolio, chain, scenario):
    wallet_id = create(api, portfolio, chain, address=scenario.alice).json()["id"]
    wallet_sync_run(sync_id=WalletSync.objects.get(wallet_id=wallet_id).pk)
    response = api.patch(f"/api/v1/wallets/{wallet_id}/", {"label": "Cold", "active": False}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "Cold" and response.json()["active"] is False
    assert Transaction.objects.filter(portfolio=portfolio).exists()
    assert api.delete(f"/api/v1/wallets/{wallet_id}/").status_code == 204
    assert not Transaction.objects.filter(portfolio=portfolio).exists()
    assert not portfolio.positions.exists()


def test_the_list_runs_a_constant_number_of_queries(api, portfolio, chain, django_assert_max_num_queries):
    for i in range(6):
        create(api, portfolio, chain, address="0x" + f"{i:040x}")
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/wallets/")
    assert response.json()["count"] == 6


def test_the_list_speaks_the_api_list_vocabulary(api, owner, portfolio, chain):
    """Strict ?ordering= over label, created_at and id, and a strict ?portfolio=, as every list."""
    other = Portfolio.objects.create(owner=owner, name="Other")
    for label, address, target in (("b", "0x" + "2" * 40, portfolio), ("a", "0x" + "3" * 40, portfolio),
                                   ("c", "0x" + "4" * 40, other)):
        assert create(api, target, chain, address=address, label=label).status_code == 201
    labels = [w["label"] for w in api.get("/api/v1/wallets/", {"ordering": "label"}).json()["results"]]
    assert labels == ["a", "b", "c"]
    labels = [w["label"] for w in api.get("/api/v1/wallets/", {"ordering": "-label"}).json()["results"]]
    assert labels == ["c", "b", "a"]
    mine = api.get("/api/v1/wallets/", {"portfolio": portfolio.pk, "ordering": "label"}).json()["results"]
    assert [w["label"] for w in mine] == ["a", "b"]
    for params, field in (({"ordering": "address"}, "ordering"), ({"portfolio": "abc"}, "portfolio")):
        response = api.get("/api/v1/wallets/", params)
        assert response.status_code == 400 and field in response.json()["errors"], response.json()


def test_another_users_wallet_and_sync_are_404_on_every_endpoint(api, stranger_api, portfolio, chain):
    wallet_id = create(api, portfolio, chain).json()["id"]
    sync_id = WalletSync.objects.get(wallet_id=wallet_id).pk
    assert stranger_api.get("/api/v1/wallets/").json()["count"] == 0
    assert stranger_api.get(f"/api/v1/wallets/{wallet_id}/").status_code == 404
    assert stranger_api.patch(f"/api/v1/wallets/{wallet_id}/", {"label": "x"}, format="json").status_code == 404
    assert stranger_api.post(f"/api/v1/wallets/{wallet_id}/sync/").status_code == 404
    assert stranger_api.delete(f"/api/v1/wallets/{wallet_id}/").status_code == 404
    assert stranger_api.get(f"/api/v1/wallet-syncs/{sync_id}/").status_code == 404
    # Nor can a wallet be added to someone else's portfolio.
    assert create(stranger_api, portfolio, chain, address="0x" + "1" * 40).status_code == 404
    assert Wallet.objects.filter(pk=wallet_id).exists() and Wallet.objects.count() == 1


def test_anonymous_requests_are_refused(portfolio, chain):
    client = APIClient()
    assert client.get("/api/v1/wallets/").status_code in (401, 403)
    assert client.post("/api/v1/wallets/", {}).status_code in (401, 403)
