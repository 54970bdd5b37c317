"""The sync service on the played scenario: what lands in the portfolio, checked against
the chain's own facts (web3.py reads: ``balanceOf``, ``positions()``, receipts) and
fees worked out by hand from the swaps - never against an earlier sync's output."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from web3 import Web3
from web3.logs import DISCARD

from accounts.models import User
from portfolios.ledger import TxKind
from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.wallets.models import Chain, ChainEvent, Reconciliation, SyncCursor, SyncedPosition, Wallet, WalletSync
from portfolios.wallets.services import sync as sync_module
from portfolios.wallets.services.chains import chains_upsert
from portfolios.wallets.services.sync import wallet_chain_sync
from tests.portfolios.wallets.conftest import local_chain_config
from tests.portfolios.wallets.scenario import (
    E18,
    FEE_TIER,
    REBASE_FROM,
    REBASE_TO,
    TICK_LOWER_2,
    TICK_UPPER_2,
    V3_SWAPS,
)

pytestmark = [pytest.mark.chain, pytest.mark.django_db]
WEI_PER_SWAP = 2  # fee rounding in the pool (see test_chain_scenario)
EXPLORER = "https://explorer.example"


def make_chain(scenario, **kwargs):
    config = local_chain_config(scenario, **kwargs)
    chains_upsert([config])
    chain = config_chain(config.chain_id)
    chain.explorer_url = EXPLORER
    chain.save()
    return chain


def config_chain(chain_id):
    return Chain.objects.get(chain_id=chain_id)


def make_wallet(address, chain, *, email="alice@example.com", portfolio=None):
    if portfolio is None:
        user = User.objects.create_user(email=email, password="x-long-password-1")
        portfolio = Portfolio.objects.create(owner=user, name="Main")
    wallet = Wallet.objects.create(portfolio=portfolio, address=address.lower())
    wallet.chains.set([chain])
    return wallet


def run_sync(wallet, chain, **kwargs):
    run = WalletSync.objects.create(wallet=wallet, status=WalletSync.Status.RUNNING)
    result = wallet_chain_sync(wallet=wallet, chain=chain, run=run, **kwargs)
    return run, result


def qty(raw: int) -> Decimal:
    return Decimal(raw) / Decimal(E18)


def legs_of(txn, asset_token=None):
    return {leg.token.address if leg.token else leg.asset: leg.quantity for leg in txn.legs.all()}


def hand_fees(round_no):
    f0 = sum(x * FEE_TIER // 1_000_000 for r, z, x in V3_SWAPS if r == round_no and z)
    f1 = sum(x * FEE_TIER // 1_000_000 for r, z, x in V3_SWAPS if r == round_no and not z)
    return f0, f1


@pytest.fixture
def chain(scenario):
    return make_chain(scenario)


@pytest.fixture
def alice(scenario, chain):
    return make_wallet(scenario.alice, chain)


@pytest.fixture
def synced(scenario, chain, alice):
    run, result = run_sync(alice, chain)
    return run, result


def test_every_token_reconciles_with_balance_of_at_the_synced_block(scenario, synced):
    run, result = synced
    assert result.to_block == scenario.end_block
    rows = {r.token: r for r in Reconciliation.objects.filter(sync=run)}
    w3 = scenario.w3
    for contract in (scenario.token0, scenario.token1, scenario.pair, scenario.eth_pair, scenario.vault):
        row = rows[contract.address.lower()]
        on_chain = contract.functions.balanceOf(Web3.to_checksum_address(scenario.alice)).call(
            block_identifier=result.to_block
        )
        assert row.on_chain == on_chain
        assert row.ok, (contract.address, row.expected, row.on_chain)
    assert w3.eth.block_number == result.to_block


def test_rebasing_growth_is_staking_income_of_exactly_what_the_rebase_gave(scenario, synced):
    held = 90 * E18  # 100 minted, 10 sent to Bob
    growth = held * REBASE_TO // REBASE_FROM - held
    reward = Transaction.objects.get(kind=TxKind.REWARD, income_type="staking")
    (leg,) = reward.legs.all()
    assert leg.token.address == scenario.rebasing.address.lower()
    assert abs(leg.quantity - qty(growth)) <= Decimal("1e-17")
    run, _ = synced
    row = Reconciliation.objects.get(sync=run, token=scenario.rebasing.address.lower())
    assert abs(row.difference) <= 2  # shares rounding, in wei


def test_v2_deposit_and_withdrawal_carry_both_token_amounts_from_the_chain(scenario, synced):
    position = Position.objects.get(synced__key=f"v2:{scenario.pair.address.lower()}")
    deposit, withdrawal = position.transactions.order_by("occurred_at")
    t0, t1 = scenario.token0.address.lower(), scenario.token1.address.lower()
    got = legs_of(deposit)
    assert deposit.kind == TxKind.LP_DEPOSIT
    assert got[t0] == -qty(10_000 * E18) and got[t1] == -qty(20_000 * E18)
    assert got[position.lp_asset] == qty(scenario.lp_minted)
    # The withdrawal: what Alice's balances gained in that block, read from the chain.
    step = scenario.step("v2_remove")
    alice = Web3.to_checksum_address(scenario.alice)
    gained = {
        c.address.lower(): c.functions.balanceOf(alice).call(block_identifier=step.block)
        - c.functions.balanceOf(alice).call(block_identifier=step.block - 1)
        for c in (scenario.token0, scenario.token1)
    }
    got = legs_of(withdrawal)
    assert withdrawal.kind == TxKind.LP_WITHDRAW
    assert got[t0] == qty(gained[t0]) and got[t1] == qty(gained[t1])
    assert got[position.lp_asset] == -qty(scenario.lp_minted // 2)
    assert position.closed_at is None
    assert withdrawal.external_ref == step.tx_hash and withdrawal.external_url == f"{EXPLORER}/tx/{step.tx_hash}"


def test_eth_paid_through_the_router_is_recorded_as_the_native_coin(scenario, synced):
    position = Position.objects.get(synced__key=f"v2:{scenario.eth_pair.address.lower()}")
    (deposit,) = position.transactions.all()
    by_asset = {leg.asset: leg.quantity for leg in deposit.legs.all()}
    assert by_asset["ETH"] == -qty(5 * E18)


def test_v3_fee_only_collect_is_lp_fee_income_of_the_round_one_swap_fees(scenario, synced):
    step = scenario.step("v3_collect_fees")
    fee = Transaction.objects.get(external_ref=step.tx_hash)
    assert fee.kind == TxKind.REWARD and fee.income_type == "lp_fees"
    f0, f1 = hand_fees(1)
    got = legs_of(fee)
    assert 0 <= qty(f0) - got[scenario.token0.address.lower()] <= Decimal(WEI_PER_SWAP) / E18 * 2
    assert 0 <= qty(f1) - got[scenario.token1.address.lower()] <= Decimal(WEI_PER_SWAP) / E18 * 2


def test_v3_decrease_is_a_withdrawal_and_its_collect_only_the_fees_beyond_the_principal(scenario, synced):
    step = scenario.step("v3_decrease_collect")
    txns = Transaction.objects.filter(external_ref=step.tx_hash)
    withdrawal = txns.get(kind=TxKind.LP_WITHDRAW)
    fees = txns.get(kind=TxKind.REWARD)
    # Everything Alice received in that transaction = principal + fees (web3.py decodes the receipt).
    received = {}
    for token in (scenario.token0, scenario.token1):
        events = token.events.Transfer().process_receipt(step.receipt, errors=DISCARD)
        received[token.address.lower()] = sum(
            e.args.value for e in events if e.address == token.address and e.args.to.lower() == scenario.alice
        )
    w, f = legs_of(withdrawal), legs_of(fees)
    for token in received:
        assert w[token] + f.get(token, 0) == qty(received[token])
    f0, f1 = hand_fees(2)
    assert 0 <= qty(f0) - f[scenario.token0.address.lower()] <= Decimal(WEI_PER_SWAP * 2) / E18
    assert 0 <= qty(f1) - f[scenario.token1.address.lower()] <= Decimal(WEI_PER_SWAP * 2) / E18
    assert w[withdrawal.position.lp_asset] == -qty(scenario.v3_liquidity_1 // 2)


def test_the_nft_given_to_a_stranger_closes_the_position_and_the_kept_one_matches_positions(scenario, synced):
    npm = scenario.protocols.position_manager
    gone = SyncedPosition.objects.get(key__endswith=f":{scenario.token_id}")
    give = scenario.step("v3_give")
    assert gone.position.closed_at == datetime.fromtimestamp(scenario.w3.eth.get_block(give.block).timestamp, UTC)
    kept = SyncedPosition.objects.get(key__endswith=f":{scenario.token_id_2}")
    onchain = npm.functions.positions(scenario.token_id_2).call()
    assert kept.position.closed_at is None
    assert (kept.tick_lower, kept.tick_upper) == (TICK_LOWER_2, TICK_UPPER_2) == (onchain[5], onchain[6])
    assert kept.liquidity == onchain[7]
    # Range bounds: price of token0 in token1 at the ticks (both tokens have 18 decimals).
    assert abs(kept.position.range_lower - Decimal("1.0001") ** TICK_LOWER_2) < Decimal("1e-15")
    assert abs(kept.position.range_upper - Decimal("1.0001") ** TICK_UPPER_2) < Decimal("1e-15")
    # Uncollected fees now: no swap since it was minted.
    assert (kept.uncollected0, kept.uncollected1) == (0, 0)


def test_every_synced_transaction_is_marked_and_linked_and_unknown_prices_stay_missing(synced):
    txns = Transaction.objects.all()
    assert txns.count() > 10
    assert set(txns.values_list("source", flat=True)) == {"chain"}
    assert not txns.filter(external_ref="").exclude(external_ref__startswith="growth:").exists()
    unpriced = Leg.objects.filter(token__price_symbol="", token__last_price_usd__isnull=True)
    assert unpriced.exists()
    assert not unpriced.exclude(value_source="missing").exists()  # unknown, never 0
    assert not Leg.objects.filter(fiat_value=0).exists()


def test_a_second_sync_with_nothing_new_writes_nothing(scenario, chain, alice, synced):
    before = (Transaction.objects.count(), Leg.objects.count(), ChainEvent.objects.count())
    _, result = run_sync(alice, chain)
    assert result.created == 0
    assert (Transaction.objects.count(), Leg.objects.count(), ChainEvent.objects.count()) == before
    run2 = WalletSync.objects.latest("pk")
    assert Reconciliation.objects.filter(sync=run2).count() == Reconciliation.objects.filter(sync=synced[0]).count()
    assert all(r.ok or r.token == scenario.rebasing.address.lower() for r in Reconciliation.objects.filter(sync=run2))


def test_a_sync_killed_half_way_resumes_without_duplicates(scenario, chain, alice, monkeypatch):
    monkeypatch.setattr(sync_module, "CHUNK", 5)
    real_save, calls = sync_module._save, []

    def dying_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(sync_module, "_save", dying_save)
    with pytest.raises(SystemExit):
        run_sync(alice, chain)
    assert Transaction.objects.count() == 10  # two chunks of five survived
    assert SyncCursor.objects.get(wallet=alice).last_block == -1  # the checkpoint did not move
    monkeypatch.setattr(sync_module, "_save", real_save)
    _, result = run_sync(alice, chain)
    assert result.skipped_existing == 10
    # The same wallet synced cleanly in another portfolio gives the same records.
    clean = make_wallet(scenario.alice, chain, email="clean@example.com")
    run_sync(clean, chain)
    for wallet in (alice, clean):
        events = ChainEvent.objects.filter(wallet=wallet)
        assert events.values("tx_hash", "log_index").distinct().count() == events.count()
    assert (
        Transaction.objects.filter(portfolio=alice.portfolio).count()
        == Transaction.objects.filter(portfolio=clean.portfolio).count()
    )


def test_blocks_within_the_confirmation_margin_wait_for_the_next_sync(chain_state):
    scenario = chain_state
    chain = make_chain(scenario, confirmations=3)
    alice = make_wallet(scenario.alice, chain)
    token = scenario.token0
    send_block = None
    receipt = token.functions.transfer(Web3.to_checksum_address(scenario.alice), 7 * E18).transact(
        {"from": Web3.to_checksum_address(scenario.trader)}
    )
    send_block = scenario.w3.eth.get_transaction_receipt(receipt).blockNumber
    _, first = run_sync(alice, chain)
    assert first.to_block == send_block - 3
    assert not Transaction.objects.filter(external_ref=receipt.to_0x_hex()).exists()
    scenario.node.rpc("anvil_mine", hex(3))
    _, second = run_sync(alice, chain)
    assert second.from_block == send_block - 2
    (txn,) = Transaction.objects.filter(external_ref=receipt.to_0x_hex())
    assert txn.kind == TxKind.TRANSFER_IN and legs_of(txn)[token.address.lower()] == qty(7 * E18)


def test_a_transfer_to_the_users_other_wallet_is_a_move_and_the_position_follows_the_nft(scenario, chain, alice):
    bob = make_wallet(scenario.bob, chain, portfolio=alice.portfolio)
    run_sync(alice, chain)
    run_sync(bob, chain)
    moved = SyncedPosition.objects.get(key__endswith=f":{scenario.token_id}")
    assert moved.wallet == bob and moved.position.closed_at is None
    sent = Transaction.objects.get(
        portfolio=alice.portfolio, external_ref=scenario.step("rebasing_transfer").tx_hash, kind=TxKind.TRANSFER_OUT
    )
    received = Transaction.objects.get(
        portfolio=alice.portfolio, external_ref=scenario.step("rebasing_transfer").tx_hash, kind=TxKind.TRANSFER_IN
    )
    assert "your wallet" in sent.description and "your wallet" in received.description
