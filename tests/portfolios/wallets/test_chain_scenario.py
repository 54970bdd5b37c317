"""The reader on the played scenario, checked against the chain's own facts.

Facts come from the node through web3.py (its own ABI decoder, not ours):
``balanceOf``, ``getReserves``, ``positions()``, ``ownerOf`` at the right
block, the receipts' token transfers, and fees worked out by hand from the
swap amounts (0.3 % of each amount in; Alice's position is the only liquidity
in range, so every fee is hers, less a few wei of rounding per swap).
"""

import pytest
from web3 import Web3
from web3.logs import DISCARD

from portfolios.wallets.chain.erc20 import reconcile
from portfolios.wallets.chain.growth import VaultDeposit, growth, vault_asset_flows
from portfolios.wallets.chain.reader import WalletReader
from portfolios.wallets.chain.rpc import RpcClient
from portfolios.wallets.chain.uniswap_v2 import LpDeposit, LpWithdrawal
from tests.portfolios.wallets.conftest import local_chain_config
from tests.portfolios.wallets.rig import BLOCK_INTERVAL, GENESIS
from tests.portfolios.wallets.scenario import (
    E18,
    FEE_TIER,
    REBASE_FROM,
    REBASE_TO,
    TICK_LOWER,
    TICK_LOWER_2,
    TICK_UPPER,
    TICK_UPPER_2,
    V3_SWAPS,
    VAULT_DEPOSIT,
    VAULT_DONATION,
)

pytestmark = pytest.mark.chain
WEI_PER_SWAP = 2  # fee rounding: ceil on the fee, floor on fee growth and on the owed amount


@pytest.fixture(scope="module")
def alice_read(scenario):
    with RpcClient([scenario.node.url]) as rpc:
        return WalletReader(rpc, local_chain_config(scenario)).read(scenario.alice, from_block=0)


def cs(address: str) -> str:
    return Web3.to_checksum_address(address)


def transfers_in_receipt(token, receipt, recipient):
    """What ``token`` paid ``recipient`` in a transaction, from the receipt (web3.py's decoding)."""
    events = token.events.Transfer().process_receipt(receipt, errors=DISCARD)
    return sum(e.args.value for e in events if e.address == token.address and e.args.to.lower() == recipient)


def hand_fees(round_no: int) -> tuple[int, int]:
    """0.3 % of what went in, per token, for one round of swaps."""
    f0 = sum(x * FEE_TIER // 1_000_000 for r, zero_for_one, x in V3_SWAPS if r == round_no and zero_for_one)
    f1 = sum(x * FEE_TIER // 1_000_000 for r, zero_for_one, x in V3_SWAPS if r == round_no and not zero_for_one)
    return f0, f1


def swaps_in(round_no: int, zero_for_one: bool) -> int:
    return sum(1 for r, z, _ in V3_SWAPS if r == round_no and z == zero_for_one)


# ---- ERC-20: reconciliation against balanceOf -------------------------------------


def test_net_decoded_transfers_equal_balance_of_at_the_read_block_for_every_plain_token(scenario, alice_read):
    block = alice_read.to_block
    assert block == scenario.end_block
    flows = alice_read.flows()
    tokens = {
        scenario.token0.address,
        scenario.token1.address,
        scenario.pair.address,
        scenario.eth_pair.address,
        scenario.vault.address,
    }
    assert {cs(t) for t in flows} >= tokens
    for token in tokens:
        contract = scenario.w3.eth.contract(address=token, abi=scenario.token0.abi)
        on_chain = contract.functions.balanceOf(cs(scenario.alice)).call(block_identifier=block)
        assert flows[token.lower()] == on_chain, token


def test_reconciliation_flags_only_the_rebasing_token_with_exactly_its_growth(scenario, alice_read, reader):
    block = alice_read.to_block
    balances = reader.balances(scenario.alice, alice_read.tokens, block)
    lines = {line.token: line for line in reconcile(alice_read.flows(), balances, block)}
    off = {token: line.difference for token, line in lines.items() if not line.ok}
    alice_shares = 90 * E18  # 100 minted at one share per token, 10 sent to Bob before any rebase
    expected_growth = alice_shares * REBASE_TO // REBASE_FROM - alice_shares
    assert off == {scenario.rebasing.address.lower(): expected_growth}
    assert expected_growth == 9 * E18


# ---- Uniswap v2 ----------------------------------------------------------------------


def test_v2_deposit_amounts_equal_the_pairs_reserve_change_and_the_lp_minted(scenario, alice_read):
    step = scenario.step("v2_add")
    (deposit,) = [e for e in alice_read.lp_events if e.at.tx_hash == step.tx_hash]
    assert isinstance(deposit, LpDeposit) and deposit.pair == scenario.pair.address.lower()
    assert scenario.w3.eth.get_code(scenario.pair.address, step.block - 1) == b""  # the router created the pair
    after = scenario.pair.functions.getReserves().call(block_identifier=step.block)
    assert (deposit.amount0, deposit.amount1) == (after[0], after[1]) == (10_000 * E18, 20_000 * E18)
    assert deposit.liquidity == scenario.pair.functions.balanceOf(cs(scenario.alice)).call(block_identifier=step.block)
    info = alice_read.pairs[deposit.pair]
    assert (info.token0, info.token1) == (scenario.token0.address.lower(), scenario.token1.address.lower())
    assert info.factory == scenario.protocols.v2_factory.address.lower()


def test_v2_eth_deposit_through_the_router_is_read_with_the_weth_amount_the_wallet_paid(scenario, alice_read):
    step = scenario.step("v2_add_eth")
    (deposit,) = [e for e in alice_read.lp_events if e.at.tx_hash == step.tx_hash]
    info = alice_read.pairs[deposit.pair]
    weth_amount = deposit.amount0 if info.token0 == scenario.protocols.weth.address.lower() else deposit.amount1
    assert weth_amount == scenario.w3.eth.get_transaction(step.tx_hash).value == 5 * E18
    # Alice never held WETH: the router wrapped her ETH. Her ERC-20 flows show no WETH at all.
    assert scenario.protocols.weth.address.lower() not in alice_read.flows()


def test_v2_withdrawal_amounts_equal_the_reserve_change_and_what_alice_received(scenario, alice_read):
    step = scenario.step("v2_remove")
    (withdrawal,) = [e for e in alice_read.lp_events if e.at.tx_hash == step.tx_hash]
    assert isinstance(withdrawal, LpWithdrawal)
    before = scenario.pair.functions.getReserves().call(block_identifier=step.block - 1)
    after = scenario.pair.functions.getReserves().call(block_identifier=step.block)
    assert (withdrawal.amount0, withdrawal.amount1) == (before[0] - after[0], before[1] - after[1])
    assert withdrawal.liquidity == scenario.lp_minted // 2
    assert withdrawal.amount0 == transfers_in_receipt(scenario.token0, step.receipt, scenario.alice)
    assert withdrawal.amount1 == transfers_in_receipt(scenario.token1, step.receipt, scenario.alice)
    # The trader's swap moved the price: Alice gets back more token0 and less token1 than half her deposit.
    assert withdrawal.amount0 > 5_000 * E18 > 10_000 * E18 - withdrawal.amount1


def test_pair_state_read_matches_get_reserves_and_total_supply(scenario, reader):
    block = scenario.step("v2_remove").block
    state = reader.pair_states([scenario.pair.address.lower()], block)[scenario.pair.address.lower()]
    r0, r1, _ = scenario.pair.functions.getReserves().call(block_identifier=block)
    supply = scenario.pair.functions.totalSupply().call(block_identifier=block)
    assert (state.reserve0, state.reserve1, state.total_supply) == (r0, r1, supply)


# ---- Uniswap v3 ----------------------------------------------------------------------


def _position(scenario, read, token_id):
    return read.positions[(scenario.protocols.position_manager.address.lower(), token_id)]


def test_positions_liquidity_and_ticks_match_the_decoded_history(scenario, alice_read, reader):
    npm = scenario.protocols.position_manager
    block = alice_read.to_block
    info = reader.positions_info(npm.address.lower(), [scenario.token_id, scenario.token_id_2], block)
    for token_id, (lower, upper) in (
        (scenario.token_id, (TICK_LOWER, TICK_UPPER)),
        (scenario.token_id_2, (TICK_LOWER_2, TICK_UPPER_2)),
    ):
        facts = npm.functions.positions(token_id).call(block_identifier=block)
        ours = info[token_id]
        assert (ours.token0, ours.token1, ours.fee) == (facts[2].lower(), facts[3].lower(), facts[4])
        assert (ours.tick_lower, ours.tick_upper) == (facts[5], facts[6]) == (lower, upper)
        assert ours.liquidity == facts[7] == _position(scenario, alice_read, token_id).liquidity
        assert (ours.tokens_owed0, ours.tokens_owed1) == (facts[10], facts[11])
    assert _position(scenario, alice_read, scenario.token_id).liquidity == scenario.v3_liquidity_1 - (
        scenario.v3_liquidity_1 // 2
    )


def test_a_fee_only_collect_is_the_round_one_swap_fees_by_hand(scenario, alice_read):
    step = scenario.step("v3_collect_fees")
    history = _position(scenario, alice_read, scenario.token_id)
    (collect,) = [c for c in history.collections if c.at.tx_hash == step.tx_hash]
    f0, f1 = hand_fees(1)
    assert (collect.principal0, collect.principal1) == (0, 0)
    assert abs(collect.fees0 - f0) <= WEI_PER_SWAP * swaps_in(1, True)
    assert abs(collect.fees1 - f1) <= WEI_PER_SWAP * swaps_in(1, False)
    assert (collect.fees0, collect.fees1) == (
        transfers_in_receipt(scenario.token0, step.receipt, scenario.alice),
        transfers_in_receipt(scenario.token1, step.receipt, scenario.alice),
    )


def test_a_decrease_with_collect_is_principal_plus_the_round_two_fees(scenario, alice_read):
    step = scenario.step("v3_decrease_collect")
    history = _position(scenario, alice_read, scenario.token_id)
    (collect,) = [c for c in history.collections if c.at.tx_hash == step.tx_hash]
    (decrease,) = [d for d in history.decreases if d.at.tx_hash == step.tx_hash]
    paid0 = transfers_in_receipt(scenario.token0, step.receipt, scenario.alice)
    paid1 = transfers_in_receipt(scenario.token1, step.receipt, scenario.alice)
    f0, f1 = hand_fees(2)
    assert (collect.principal0 + collect.fees0, collect.principal1 + collect.fees1) == (paid0, paid1)
    assert (collect.principal0, collect.principal1) == (decrease.amount0, decrease.amount1)
    assert decrease.liquidity == scenario.v3_liquidity_1 // 2
    assert abs(collect.fees0 - f0) <= WEI_PER_SWAP * swaps_in(2, True)
    assert abs(collect.fees1 - f1) <= WEI_PER_SWAP * swaps_in(2, False)
    assert (history.owed0, history.owed1) == (0, 0)


def test_the_position_given_to_bob_is_closed_for_alice_and_open_for_bob(scenario, alice_read, reader):
    npm = scenario.protocols.position_manager
    mine = _position(scenario, alice_read, scenario.token_id)
    kept = _position(scenario, alice_read, scenario.token_id_2)
    assert mine.closed and [t.recipient for t in mine.sent] == [scenario.bob]
    assert mine.sent[0].at.tx_hash == scenario.step("v3_give").tx_hash
    assert kept.owned and npm.functions.ownerOf(scenario.token_id_2).call().lower() == scenario.alice
    assert npm.functions.ownerOf(scenario.token_id).call().lower() == scenario.bob
    bobs = reader.read(scenario.bob, from_block=0)
    his = _position(scenario, bobs, scenario.token_id)
    assert his.owned and his.received[0].sender == scenario.alice
    assert his.collections == [] and his.increases == []  # Alice's history stays hers


def test_static_collect_gives_exactly_what_a_real_collect_then_pays(chain_state, reader):
    s = chain_state
    npm, router = s.protocols.position_manager, s.protocols.swap_router
    params = (s.token0.address, s.token1.address, FEE_TIER, cs(s.trader), 2**40, 30 * E18, 0, 0)
    router.functions.exactInputSingle(params).transact({"from": cs(s.trader)})
    owed = reader.uncollected(npm.address.lower(), s.bob, [s.token_id], "latest")[s.token_id]
    assert owed[0] > 0
    tx = npm.functions.collect((s.token_id, cs(s.bob), 2**128 - 1, 2**128 - 1)).transact({"from": cs(s.bob)})
    receipt = s.w3.eth.wait_for_transaction_receipt(tx)
    assert owed == (transfers_in_receipt(s.token0, receipt, s.bob), transfers_in_receipt(s.token1, receipt, s.bob))


# ---- growth without transfers ----------------------------------------------------------


def test_rebasing_growth_between_two_syncs_is_what_the_rebase_gave(scenario, alice_read, reader):
    token = scenario.rebasing.address.lower()
    start, end = scenario.step("rebasing_transfer").block, scenario.step("rebase").block
    before = reader.balances(scenario.alice, [token], start)[token]
    after = reader.balances(scenario.alice, [token], end)[token]
    window = [
        t.signed_for(scenario.alice)
        for t in alice_read.transfers
        if t.token == token and start < t.at.block_number <= end
    ]
    g = growth(token, start, end, before, after, window)
    shares = scenario.rebasing.functions.sharesOf(cs(scenario.alice)).call(block_identifier=end)
    assert g.amount == shares * REBASE_TO // REBASE_FROM - shares == 9 * E18


def test_vault_growth_is_the_donation_less_rounding(scenario, alice_read, reader):
    vault = scenario.vault.address.lower()
    (deposit,) = [e for e in alice_read.vault_events if isinstance(e, VaultDeposit)]
    assert (deposit.owner, deposit.assets) == (scenario.alice, VAULT_DEPOSIT)
    start, end = scenario.step("vault_deposit").block, scenario.step("vault_yield").block
    shares = scenario.vault.functions.balanceOf(cs(scenario.alice)).call(block_identifier=end)
    assert shares == deposit.shares
    held_before = scenario.vault.functions.balanceOf(cs(scenario.alice)).call(block_identifier=start - 1)
    assert held_before == 0  # so the value at the start of the window is 0
    value_end = reader.vault_assets(vault, shares, end)
    flows = vault_asset_flows([e for e in alice_read.vault_events if e.at.block_number >= start], scenario.alice)
    g = growth(vault, start - 1, end, 0, value_end, [flows[vault]])
    # OpenZeppelin 4.9 rounds against the holder with a virtual share and asset: 1 wei short.
    total_assets = VAULT_DEPOSIT + VAULT_DONATION
    assert value_end == shares * (total_assets + 1) // (deposit.shares + 1)
    assert g.amount == value_end - VAULT_DEPOSIT
    assert VAULT_DONATION - 1 <= g.amount <= VAULT_DONATION


# ---- time, finality, windows ------------------------------------------------------------


def test_block_times_are_the_headers_timestamps_in_utc(scenario, alice_read):
    for block, when in alice_read.block_times.items():
        assert when.timestamp() == scenario.w3.eth.get_block(block).timestamp
        assert when == GENESIS.fromtimestamp(GENESIS.timestamp() + BLOCK_INTERVAL * block, GENESIS.tzinfo)
        assert when.tzinfo is not None and when.utcoffset().total_seconds() == 0


def test_an_incremental_read_from_the_checkpoint_finds_the_same_events(scenario, reader, alice_read):
    middle = scenario.step("v3_decrease_collect").block
    first = reader.read(scenario.alice, from_block=0, to_block=middle)
    owned = [key for key, h in first.positions.items() if h.owned]
    owed = {key: (h.owed0, h.owed1) for key, h in first.positions.items()}
    second = reader.read(scenario.alice, from_block=middle + 1, owned_positions=owned, owed_at_start=owed)
    assert first.transfers + second.transfers == alice_read.transfers
    assert first.lp_events + second.lp_events == alice_read.lp_events
    both = {k: first.positions.get(k) for k in alice_read.positions}
    for key, whole in alice_read.positions.items():
        parts = [p for p in (both[key], second.positions.get(key)) if p is not None]
        assert [c for p in parts for c in p.collections] == whole.collections
        assert parts[-1].owned == whole.owned
    again = reader.read(scenario.alice, from_block=second.final_block + 1)
    assert again.transfers == [] and again.lp_events == [] and again.to_block < again.from_block


def test_blocks_within_the_confirmation_margin_are_not_final(scenario, rpc):
    config = local_chain_config(scenario, confirmations=5)
    head = scenario.end_block
    read = WalletReader(rpc, config).read(scenario.alice, from_block=0)
    assert read.final_block == read.to_block == head - 5
    assert all(t.at.block_number <= head - 5 for t in read.transfers)
    tail = WalletReader(rpc, config).read(scenario.alice, from_block=0, include_unconfirmed=True)
    assert tail.to_block == head and tail.final_block == head - 5
    assert not tail.is_final(scenario.step("vault_yield").block)
    assert read.final_hash == scenario.w3.eth.get_block(head - 5).hash.to_0x_hex()
