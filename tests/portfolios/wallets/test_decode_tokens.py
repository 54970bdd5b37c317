"""ERC-20/721 transfers, net flows, reconciliation, rebasing and vault growth (pure)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.wallets.chain.erc20 import (
    NftTransfer,
    TokenTransfer,
    decode_transfer,
    net_flows,
    reconcile,
    token_amount,
)
from portfolios.wallets.chain.growth import VaultDeposit, VaultWithdraw, decode_vault_event, growth, vault_asset_flows
from portfolios.wallets.chain.logs import RawLog, sort_logs
from tests.portfolios.wallets.logbuild import ZERO, TxLogs, addr

WALLET, OTHER, TOKEN, NFT = addr(0xA11CE), addr(0xB0B), addr(0x70C), addr(0x1F7)


def test_an_erc20_transfer_decodes_to_token_sender_recipient_and_raw_amount():
    tx = TxLogs(block=7)
    log = tx.transfer(TOKEN, OTHER, WALLET, 10**30 + 1)
    t = decode_transfer(log)
    assert t == TokenTransfer(log.at, TOKEN, OTHER, WALLET, 10**30 + 1)
    assert t.signed_for(WALLET) == 10**30 + 1 and t.signed_for(OTHER) == -(10**30 + 1)


def test_an_nft_transfer_has_four_topics_and_carries_the_token_id():
    log = TxLogs().nft_transfer(NFT, ZERO, WALLET, 42)
    assert decode_transfer(log) == NftTransfer(log.at, NFT, ZERO, WALLET, 42)


def test_logs_that_only_look_like_transfers_are_ignored():
    tx = TxLogs()
    wrong_event = tx.emit(
        TOKEN, "Approval(address,address,uint256)", [("address", WALLET), ("address", OTHER)], [("uint256", 5)]
    )
    no_amount = tx.emit(TOKEN, "Transfer(address,address,uint256)", [("address", WALLET), ("address", OTHER)], [])
    assert decode_transfer(wrong_event) is None
    assert decode_transfer(no_amount) is None


def test_a_self_transfer_nets_to_zero():
    tx = TxLogs()
    flows = net_flows([decode_transfer(tx.transfer(TOKEN, WALLET, WALLET, 9))], WALLET)
    assert flows == {TOKEN: 0}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([WALLET, OTHER, ZERO]), st.sampled_from([WALLET, OTHER, ZERO]), st.integers(0, 10**24)
        ),
        max_size=30,
    )
)
def test_net_flow_is_what_came_in_minus_what_went_out(moves):
    tx = TxLogs()
    transfers = [decode_transfer(tx.transfer(TOKEN, s, r, a)) for s, r, a in moves]
    incoming = sum(a for s, r, a in moves if r == WALLET)
    outgoing = sum(a for s, r, a in moves if s == WALLET)
    assert net_flows(transfers, WALLET).get(TOKEN, 0) == incoming - outgoing


def test_reconciliation_reports_each_token_with_its_difference():
    lines = reconcile({TOKEN: 100, OTHER: 5}, {TOKEN: 100, OTHER: 7, NFT: 1}, block=9)
    by_token = {line.token: line for line in lines}
    assert by_token[TOKEN].ok
    assert by_token[OTHER].difference == 2 and not by_token[OTHER].ok
    assert by_token[NFT].expected == 0 and by_token[NFT].difference == 1


def test_reconciliation_counts_the_opening_balance():
    (line,) = reconcile({TOKEN: -40}, {TOKEN: 60}, block=9, opening={TOKEN: 100})
    assert line.ok


def test_token_amount_is_exact_for_any_size():
    assert token_amount(123456789, 6) == Decimal("123.456789")
    assert token_amount(2**256 - 1, 18) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )


def test_growth_is_the_change_not_explained_by_flows():
    g = growth(TOKEN, 10, 20, value_start=1000, value_end=1150, flows=[100, -20])
    assert g.amount == 70


def test_growth_refuses_a_window_that_runs_backwards():
    with pytest.raises(ValueError):
        growth(TOKEN, 20, 10, 0, 0, [])


def test_vault_events_decode_and_flows_count_only_the_wallets_shares():
    tx = TxLogs()
    dep = decode_vault_event(
        tx.emit(
            TOKEN,
            "Deposit(address,address,uint256,uint256)",
            [("address", OTHER), ("address", WALLET)],
            [("uint256", 1000), ("uint256", 990)],
        )
    )
    wd = decode_vault_event(
        tx.emit(
            TOKEN,
            "Withdraw(address,address,address,uint256,uint256)",
            [("address", WALLET), ("address", OTHER), ("address", WALLET)],
            [("uint256", 300), ("uint256", 280)],
        )
    )
    strangers = decode_vault_event(
        tx.emit(
            TOKEN,
            "Deposit(address,address,uint256,uint256)",
            [("address", WALLET), ("address", OTHER)],
            [("uint256", 5), ("uint256", 5)],
        )
    )
    assert isinstance(dep, VaultDeposit) and dep.owner == WALLET and dep.assets == 1000 and dep.shares == 990
    assert isinstance(wd, VaultWithdraw) and wd.receiver == OTHER and wd.assets == 300
    assert vault_asset_flows([dep, wd, strangers], WALLET) == {TOKEN: 700}


def test_rpc_log_objects_parse_and_removed_logs_are_dropped():
    item = {
        "address": "0x" + "AB" * 20,
        "topics": ["0x" + "CD" * 32],
        "data": "0x01",
        "blockNumber": "0x10",
        "transactionHash": "0x" + "EF" * 32,
        "logIndex": "0x2",
        "blockHash": "0x" + "11" * 32,
        "blockTimestamp": "0x5",
        "removed": False,
    }
    log = RawLog.from_rpc(item)
    assert (log.at.block_number, log.at.log_index, log.block_timestamp) == (16, 2, 5)
    assert log.address == "0x" + "ab" * 20 and log.topics == ("0x" + "cd" * 32,) and log.data == b"\x01"
    gone = RawLog.from_rpc({**item, "logIndex": "0x3", "removed": True})
    assert sort_logs([gone, log, log]) == [log]
