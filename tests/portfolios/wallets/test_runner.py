"""Sync runs: several chains in one portfolio, one chain's failure does not stop the
others, the per-chain concurrency limit, a real Celery worker running a sync end to end,
and the reaper re-queueing a sync whose worker died."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from web3 import Web3

from config.heartbeat import reap
from portfolios.models import Portfolio, Transaction
from portfolios.wallets import tasks
from portfolios.wallets.models import Chain, SyncCursor, Wallet, WalletSync
from portfolios.wallets.services.limits import ChainBusy, chain_slot
from portfolios.wallets.services.reaping import STALE_WALLET_SYNCS
from portfolios.wallets.services.runner import wallet_sync_run
from portfolios.wallets.services.wallets import wallet_create, wallet_sync_start
from tests.portfolios.wallets.rig import deploy, send
from tests.portfolios.wallets.test_sync import E18, make_chain

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def second_chain_token(second_anvil_node):
    """On the second chain: a token and 42 of it sent to the first chain's Alice address."""
    w3 = second_anvil_node.web3()
    snapshot = second_anvil_node.snapshot()  # the node is shared with other modules: leave it as found
    deployer, alice = w3.eth.accounts[0], w3.eth.accounts[1]
    token = deploy(w3, "ERC20PresetMinterPauser", "Other chain token", "OCT")
    send(token.functions.mint(alice, 42 * E18), deployer)
    yield token
    second_anvil_node.revert(snapshot)


@pytest.fixture
def chains(scenario, second_anvil_node, second_chain_token, db):
    Chain.objects.update(active=False)
    first = make_chain(scenario)
    w3 = second_anvil_node.web3()
    second = Chain.objects.create(
        chain_id=second_anvil_node.chain_id, slug="anvil-second", name="Second local chain", native_symbol="ETH",
        native_price_id="coingecko:ethereum", rpc_urls=[second_anvil_node.url], confirmations=0,
    )  # fmt: skip
    assert w3.eth.chain_id != scenario.w3.eth.chain_id
    return first, second


@pytest.fixture
def portfolio(owner):
    return Portfolio.objects.create(owner=owner, name="Main")


def test_one_portfolio_holds_records_of_two_chains(scenario, second_anvil_node, second_chain_token, chains, portfolio):
    first, second = chains
    w3 = second_anvil_node.web3()
    # Anvil's default accounts are the same on both nodes: Alice is accounts[1] on each.
    assert w3.eth.accounts[1].lower() == scenario.alice
    wallet = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[first, second], sync=False)
    run = wallet_sync_start(wallet=wallet)
    run = wallet_sync_run(sync_id=run.pk)
    assert run.status == "done" and run.chains_done == 2, run.error
    oct_address = second_chain_token.address.lower()
    # The same contract address exists on both chains (same deployer, same nonce): tokens are per chain.
    (received,) = Transaction.objects.filter(portfolio=portfolio, legs__token__address=oct_address).exclude(
        legs__token__symbol="WETH"
    )
    assert received.legs.get().token.symbol == "OCT"
    assert received.kind == "transfer_in" and received.legs.get().quantity == 42
    balance = second_chain_token.functions.balanceOf(Web3.to_checksum_address(scenario.alice)).call()
    assert balance == 42 * E18
    assert Transaction.objects.filter(portfolio=portfolio).exclude(pk=received.pk).exists()  # the first chain's
    assert {c.chain.slug for c in SyncCursor.objects.filter(wallet=wallet)} == {first.slug, second.slug}
    assert run.reconciliations.filter(chain=second, token=oct_address).get().ok


def test_a_chain_that_fails_is_reported_and_the_others_still_sync(scenario, chains, portfolio, settings):
    first, second = chains
    settings.WALLETS_RPC_RETRIES = 0
    second.rpc_urls = ["http://127.0.0.1:9"]  # nothing listens there
    second.save()
    wallet = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[second, first], sync=False)
    run = wallet_sync_run(sync_id=wallet_sync_start(wallet=wallet).pk)
    assert run.status == "failed" and run.chains_done == 2
    assert run.error.startswith("Second local chain:")
    assert SyncCursor.objects.get(wallet=wallet, chain=first).last_block == scenario.end_block
    assert Transaction.objects.filter(portfolio=portfolio).count() > 10


def test_a_run_is_claimed_once(scenario, chains, portfolio):
    wallet = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[chains[0]], sync=False)
    run = wallet_sync_start(wallet=wallet)
    assert wallet_sync_start(wallet=wallet) == run  # still queued: the same run
    assert wallet_sync_run(sync_id=run.pk).status == "done"
    assert wallet_sync_run(sync_id=run.pk) is None  # a redelivered message does nothing


def test_the_chain_limit_lets_n_syncs_in_and_makes_the_next_wait(settings):
    slug = f"limit-test-{timezone.now().timestamp()}"
    with chain_slot(slug, limit=2) as a, chain_slot(slug, limit=2) as b:
        assert {a, b} == {0, 1}
        with pytest.raises(ChainBusy):
            with chain_slot(slug, limit=2, wait=0.3):
                pass
    with chain_slot(slug, limit=2) as c:  # released on exit
        assert c == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sync_queued_on_commit(scenario, real_worker, owner):
    Chain.objects.update(active=False)
    chain = make_chain(scenario)
    portfolio = Portfolio.objects.create(owner=owner, name="Worker")
    wallet = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[chain])  # commits: task sent
    run = WalletSync.objects.get(wallet=wallet)
    deadline = timezone.now() + timedelta(seconds=90)
    while timezone.now() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.5)
    assert run.status == "done", run.error
    assert run.heartbeat_at is not None
    assert SyncCursor.objects.get(wallet=wallet).last_block == scenario.end_block


def test_a_sync_whose_worker_died_is_failed_and_queued_again(scenario, chains, portfolio):
    wallet = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[chains[0]], sync=False)
    run = wallet_sync_start(wallet=wallet)
    long_ago = timezone.now() - timedelta(hours=1)
    WalletSync.objects.filter(pk=run.pk).update(status="running", started_at=long_ago, heartbeat_at=long_ago)
    (reaped,) = reap(STALE_WALLET_SYNCS)
    run.refresh_from_db()
    assert reaped.pk == run.pk and run.status == "failed" and "stopped heartbeating" in run.error
    # The requeue runs on commit; call it as the reaper would.
    STALE_WALLET_SYNCS.requeue([run])
    assert WalletSync.objects.filter(wallet=wallet, status="queued").exclude(pk=run.pk).exists()
    assert Wallet.objects.get(pk=wallet.pk)


def test_the_beat_task_queues_each_active_wallet_once(scenario, chains, portfolio, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.sync_wallet, "delay_on_commit", lambda **kwargs: sent.append(kwargs["sync_id"]))
    active = wallet_create(portfolio=portfolio, address=scenario.alice, chains=[chains[0]], sync=False)
    paused = wallet_create(portfolio=portfolio, address=scenario.bob, chains=[chains[0]], sync=False)
    paused.active = False
    paused.save()
    assert tasks.sync_active_wallets() == 1
    (run,) = WalletSync.objects.filter(wallet=active)
    assert sent == [run.pk] and not WalletSync.objects.filter(wallet=paused).exists()
    assert tasks.sync_active_wallets() == 0  # already queued: not queued twice
    assert sent == [run.pk]
