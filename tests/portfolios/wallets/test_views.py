"""Wallet pages: add, detail (progress, checkpoints, reconciliation, coverage), sync now,
remove; synced badges and explorer links on the portfolio pages; a synced transaction's
form refuses changes that contradict the chain; every page is the owner's only."""

import pytest
from django.urls import reverse

from portfolios.models import Portfolio, Transaction
from portfolios.wallets.models import Chain, SyncedPosition, Wallet, WalletSync
from portfolios.wallets.services.runner import wallet_sync_run
from tests.portfolios.wallets.test_sync import EXPLORER, make_chain

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


@pytest.fixture
def chain(scenario):
    Chain.objects.update(active=False)
    return make_chain(scenario)


@pytest.fixture
def portfolio(owner):
    return Portfolio.objects.create(owner=owner, name="Main")


@pytest.fixture
def synced_wallet(owner_client, portfolio, chain, scenario):
    response = owner_client.post(
        reverse("wallets:list", args=[portfolio.pk]),
        {"address": scenario.alice, "label": "Alice", "chains": [chain.pk]},
    )
    wallet = Wallet.objects.get(portfolio=portfolio)
    assert response.status_code == 302 and response["Location"] == reverse("wallets:detail", args=[wallet.pk])
    wallet_sync_run(sync_id=WalletSync.objects.get(wallet=wallet).pk)
    return wallet


def test_the_add_form_explains_a_bad_address_and_keeps_nothing(owner_client, portfolio, chain):
    response = owner_client.post(reverse("wallets:list", args=[portfolio.pk]), {"address": "0xnothex"})
    assert response.status_code == 200
    assert "0x followed by 40 hexadecimal digits" in response.content.decode()
    assert not Wallet.objects.exists()


def test_the_wallet_page_shows_checkpoint_reconciliation_positions_and_what_is_not_covered(
    owner_client, synced_wallet, scenario
):
    page = owner_client.get(reverse("wallets:detail", args=[synced_wallet.pk])).content.decode()
    assert scenario.w3.to_checksum_address(scenario.alice) in page
    assert f">{scenario.end_block}<" in page  # the last synced block
    assert "matches" in page and "Done" in page
    assert "No block explorer key" in page  # the local chain has no explorer API configured
    assert "Uniswap v3" in page and "closed" in page and "open" in page
    # Position #1's collected fees in token units (by hand: 0.3 % of 300 TKA and of 200 TKB swapped in,
    # less a few wei of pool rounding, shown rounded), not raw.
    assert "0.9 TKA<br>0.6 TKB" in page and " raw" not in page
    assert "<script>" not in page and 'src="/static/wallets/wallets.js"' in page


def test_sync_now_queues_a_run_and_the_page_polls_its_status(owner_client, synced_wallet):
    response = owner_client.post(reverse("wallets:sync", args=[synced_wallet.pk]))
    assert response.status_code == 302
    run = WalletSync.objects.filter(wallet=synced_wallet).latest("created_at")
    assert run.status == "queued"
    page = owner_client.get(reverse("wallets:detail", args=[synced_wallet.pk])).content.decode()
    assert f'data-status-url="/api/v1/wallet-syncs/{run.pk}/"' in page and 'data-finished="0"' in page
    status = owner_client.get(f"/api/v1/wallet-syncs/{run.pk}/").json()  # what the script reads
    assert status["status"] == "queued"


def test_the_transaction_list_marks_synced_records_with_an_explorer_link(owner_client, synced_wallet, scenario):
    page = owner_client.get(reverse("portfolios:transaction_list", args=[synced_wallet.portfolio_id])).content.decode()
    step = scenario.step("v2_add")
    assert ">synced</span>" in page
    assert f'href="{EXPLORER}/tx/{step.tx_hash}"' in page


def test_a_synced_transaction_form_refuses_a_new_date_but_saves_a_note(owner_client, synced_wallet):
    txn = Transaction.objects.filter(portfolio=synced_wallet.portfolio, kind="transfer_out").first()
    url = reverse("portfolios:transaction_edit", args=[txn.pk])
    page = owner_client.get(url).content.decode()
    assert "Read from the chain" in page
    base = {
        "kind": txn.kind,
        "income_type": "",
        "occurred_at": txn.occurred_at.strftime("%Y-%m-%dT%H:%M"),
        "position": "",
        "description": "Gift to Bob",
    }
    moved = owner_client.post(url, {**base, "occurred_at": "2020-01-01T00:00"})
    assert moved.status_code == 200 and "cannot be changed" in moved.content.decode()
    txn.refresh_from_db()
    assert txn.description != "Gift to Bob"


def test_removing_a_wallet_removes_what_it_synced(owner_client, synced_wallet):
    portfolio = synced_wallet.portfolio
    assert Transaction.objects.filter(portfolio=portfolio).exists()
    response = owner_client.post(reverse("wallets:delete", args=[synced_wallet.pk]))
    assert response.status_code == 302
    assert not Wallet.objects.exists() and not Transaction.objects.filter(portfolio=portfolio).exists()


def test_a_stranger_gets_404_on_every_wallet_page(client, stranger, password, portfolio, chain):
    wallet = Wallet.objects.create(portfolio=portfolio, address="0x" + "ab" * 20)
    client.login(email=stranger.email, password=password)
    assert client.get(reverse("wallets:list", args=[portfolio.pk])).status_code == 404
    assert client.post(reverse("wallets:list", args=[portfolio.pk]), {"address": "0x" + "1" * 40}).status_code == 404
    assert client.get(reverse("wallets:detail", args=[wallet.pk])).status_code == 404
    assert client.post(reverse("wallets:sync", args=[wallet.pk])).status_code == 404
    assert client.get(reverse("wallets:delete", args=[wallet.pk])).status_code == 404
    assert client.post(reverse("wallets:delete", args=[wallet.pk])).status_code == 404
    assert Wallet.objects.filter(pk=wallet.pk).exists() and not WalletSync.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, portfolio):
    response = client.get(reverse("wallets:list", args=[portfolio.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_synced_position_page_carries_the_synced_badge(owner_client, synced_wallet):
    synced = SyncedPosition.objects.filter(wallet=synced_wallet).first()
    page = owner_client.get(reverse("portfolios:position_detail", args=[synced.position_id])).content.decode()
    assert ">synced</span>" in page
