"""Uniswap v2 LP matching and v3 position accounting on logs laid out in the
order the real contracts emit them (the chain tests check the same against a node)."""

from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.wallets.chain.erc20 import decode_transfer
from portfolios.wallets.chain.uniswap_v2 import (
    LpDeposit,
    LpWithdrawal,
    V2Burn,
    V2Mint,
    V2Sync,
    decode_pair_event,
    lp_candidate,
    match_lp_events,
)
from portfolios.wallets.chain.uniswap_v3 import (
    V3Collect,
    V3Decrease,
    V3Increase,
    decode_manager_event,
    decode_positions,
    position_histories,
)
from tests.portfolios.wallets.logbuild import ZERO, TxLogs, addr

WALLET, STRANGER, ROUTER, FEE_TO = addr(0xA11CE), addr(0x5757), addr(0x4047), addr(0xFEE)
PAIR, PAIR2, T0, T1, NPM = addr(0x9A1), addr(0x9A2), addr(0x70), addr(0x71), addr(0x3A3)


def router_add(tx: TxLogs, pair, provider, a0, a1, liquidity, *, first=False, fee=0):
    """UniswapV2Router02.addLiquidity -> pair.mint(to), as the contracts order the logs."""
    tx.transfer(T0, provider, pair, a0)
    tx.transfer(T1, provider, pair, a1)
    if fee:
        tx.transfer(pair, ZERO, FEE_TO, fee)  # _mintFee
    if first:
        tx.transfer(pair, ZERO, ZERO, 1000)  # MINIMUM_LIQUIDITY locked
    tx.transfer(pair, ZERO, provider, liquidity)
    tx.v2_sync(pair, 10**21, 10**21)
    return tx.v2_mint(pair, ROUTER, a0, a1)


def router_remove(tx: TxLogs, pair, provider, liquidity, a0, a1, *, to=None, fee=0):
    """UniswapV2Router02.removeLiquidity: LP sent to the pair, then pair.burn(to)."""
    to = to or provider
    tx.transfer(pair, provider, pair, liquidity)
    if fee:
        tx.transfer(pair, ZERO, FEE_TO, fee)
    tx.transfer(pair, pair, ZERO, liquidity)
    tx.transfer(T0, pair, to, a0)
    tx.transfer(T1, pair, to, a1)
    tx.v2_sync(pair, 10**20, 10**20)
    return tx.v2_burn(pair, ROUTER, a0, a1, to)


def test_pair_events_decode():
    tx = TxLogs()
    mint, sync = tx.v2_mint(PAIR, ROUTER, 5, 6), tx.v2_sync(PAIR, 7, 8)
    burn = tx.v2_burn(PAIR, ROUTER, 1, 2, WALLET)
    assert decode_pair_event(mint) == V2Mint(mint.at, PAIR, ROUTER, 5, 6)
    assert decode_pair_event(sync) == V2Sync(sync.at, PAIR, 7, 8)
    assert decode_pair_event(burn) == V2Burn(burn.at, PAIR, ROUTER, 1, 2, WALLET)


def test_first_deposit_with_protocol_fee_gives_the_wallet_its_own_lp_amount():
    tx = TxLogs()
    mint = router_add(tx, PAIR, WALLET, 10**18, 2 * 10**18, 1414213562373093, first=True, fee=77)
    assert match_lp_events(tx.logs, WALLET) == [LpDeposit(mint.at, PAIR, WALLET, 1414213562373093, 10**18, 2 * 10**18)]


def test_withdrawal_is_matched_to_the_lp_the_wallet_sent_the_pair():
    tx = TxLogs()
    burn = router_remove(tx, PAIR, WALLET, 5000, 40, 80, to=ROUTER, fee=3)
    assert match_lp_events(tx.logs, WALLET) == [LpWithdrawal(burn.at, PAIR, WALLET, ROUTER, 5000, 40, 80)]


def test_a_strangers_deposit_and_withdrawal_are_not_the_wallets():
    tx = TxLogs()
    router_add(tx, PAIR, STRANGER, 1, 1, 1)
    router_remove(tx, PAIR, STRANGER, 1, 1, 1)
    assert match_lp_events(tx.logs, WALLET) == []


def test_lp_candidates_are_mints_to_the_wallet_and_lp_sent_to_its_own_pair():
    tx = TxLogs()
    mint = decode_transfer(tx.transfer(PAIR, ZERO, WALLET, 1))
    back = decode_transfer(tx.transfer(PAIR, WALLET, PAIR, 1))
    plain = decode_transfer(tx.transfer(T0, WALLET, PAIR, 1))
    assert lp_candidate(mint, WALLET) and lp_candidate(back, WALLET) and not lp_candidate(plain, WALLET)


ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove"]),
        st.sampled_from([PAIR, PAIR2]),
        st.sampled_from([WALLET, STRANGER]),
        st.integers(1, 10**24),
        st.integers(0, 10**24),
        st.integers(0, 10**24),
        st.integers(0, 50),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_a_multicall_of_deposits_and_withdrawals_yields_exactly_the_wallets_own(operations):
    tx = TxLogs()
    expected = []
    for kind, pair, who, liquidity, a0, a1, fee in operations:
        if kind == "add":
            log = router_add(tx, pair, who, a0, a1, liquidity, fee=fee)
            record = LpDeposit(log.at, pair, who, liquidity, a0, a1)
        else:
            log = router_remove(tx, pair, who, liquidity, a0, a1, fee=fee)
            record = LpWithdrawal(log.at, pair, who, who, liquidity, a0, a1)
        if who == WALLET:
            expected.append(record)
    assert match_lp_events(reversed(tx.logs), WALLET) == expected


# ---- Uniswap v3 ---------------------------------------------------------------


def test_manager_events_decode():
    tx = TxLogs()
    inc = tx.v3(NPM, "Increase", 7, 10**20, 5, 6)
    dec = tx.v3(NPM, "Decrease", 7, 10**19, 1, 2)
    col = tx.v3(NPM, "Collect", 7, WALLET, 3, 4)
    assert decode_manager_event(inc) == V3Increase(inc.at, NPM, 7, 10**20, 5, 6)
    assert decode_manager_event(dec) == V3Decrease(dec.at, NPM, 7, 10**19, 1, 2)
    assert decode_manager_event(col) == V3Collect(col.at, NPM, 7, WALLET, 3, 4)


def test_positions_result_decodes_negative_ticks():
    values = [0, ZERO, T0, T1, 3000, -887220, -60, 123456789, 2**200, 5, 11, 12]
    info = decode_positions(
        encode(
            [
                "uint96",
                "address",
                "address",
                "address",
                "uint24",
                "int24",
                "int24",
                "uint128",
                "uint256",
                "uint256",
                "uint128",
                "uint128",
            ],
            values,
        )
    )
    assert (info.token0, info.token1, info.fee) == (T0, T1, 3000)
    assert (info.tick_lower, info.tick_upper, info.liquidity) == (-887220, -60, 123456789)
    assert (info.fee_growth_inside0_last_x128, info.tokens_owed0, info.tokens_owed1) == (2**200, 11, 12)


def _events(tx: TxLogs):
    return [e for e in (decode_manager_event(log) for log in tx.logs) if e is not None]


def _nfts(tx: TxLogs):
    return [t for t in (decode_transfer(log) for log in tx.logs) if t is not None and hasattr(t, "token_id")]


def test_a_fee_only_collect_is_all_fees():
    tx = TxLogs()
    tx.nft_transfer(NPM, ZERO, WALLET, 1)
    tx.v3(NPM, "Increase", 1, 1000, 500, 700)
    tx.v3(NPM, "Collect", 1, WALLET, 3, 9)
    (h,) = position_histories(_events(tx), _nfts(tx), WALLET, manager=NPM).values()
    assert h.fees == (3, 9) and h.owned and h.liquidity == 1000


def test_a_decrease_with_collect_pays_the_principal_first_and_the_rest_is_fees():
    tx = TxLogs()
    tx.nft_transfer(NPM, ZERO, WALLET, 1)
    tx.v3(NPM, "Increase", 1, 1000, 500, 700)
    tx.v3(NPM, "Decrease", 1, 400, 200, 280)
    tx.v3(NPM, "Collect", 1, WALLET, 205, 280)  # 5 of token0 were fees; none of token1
    (h,) = position_histories(_events(tx), _nfts(tx), WALLET, manager=NPM).values()
    (c,) = h.collections
    assert (c.principal0, c.principal1, c.fees0, c.fees1) == (200, 280, 5, 0)
    assert h.liquidity == 600 and (h.owed0, h.owed1) == (0, 0)


def test_principal_left_uncollected_is_paid_by_a_later_collect_before_fees():
    tx = TxLogs()
    tx.nft_transfer(NPM, ZERO, WALLET, 1)
    tx.v3(NPM, "Decrease", 1, 10, 100, 100)
    tx.v3(NPM, "Collect", 1, WALLET, 60, 0)  # a partial collect: still principal
    later = TxLogs(tx="0x" + "cd" * 32, block=101)
    later.v3(NPM, "Collect", 1, WALLET, 50, 100)
    events = _events(tx) + _events(later)
    (h,) = position_histories(events, _nfts(tx), WALLET, manager=NPM).values()
    assert [(c.principal0, c.fees0, c.principal1, c.fees1) for c in h.collections] == [(60, 0, 0, 0), (40, 10, 100, 0)]


def test_events_after_the_nft_left_the_wallet_belong_to_the_new_owner():
    tx = TxLogs()
    tx.nft_transfer(NPM, ZERO, WALLET, 1)
    tx.v3(NPM, "Increase", 1, 1000, 1, 1)
    tx.nft_transfer(NPM, WALLET, STRANGER, 1)
    tx.v3(NPM, "Collect", 1, STRANGER, 8, 8)
    mine = position_histories(_events(tx), _nfts(tx), WALLET, manager=NPM)[1]
    theirs = position_histories(_events(tx), _nfts(tx), STRANGER, manager=NPM)[1]
    assert mine.closed and mine.collections == [] and len(mine.sent) == 1
    assert theirs.owned and theirs.fees == (8, 8) and theirs.increases == []


def test_a_position_held_before_the_window_continues_from_the_carried_state():
    tx = TxLogs()
    tx.v3(NPM, "Collect", 5, WALLET, 30, 30)
    h = position_histories(_events(tx), [], WALLET, manager=NPM, owned_at_start=[5], owed_at_start={5: (20, 0)})[5]
    (c,) = h.collections
    assert (c.principal0, c.fees0, c.principal1, c.fees1) == (20, 10, 0, 30)


steps = st.lists(
    st.tuples(st.sampled_from(["decrease", "collect"]), st.integers(0, 10**20), st.integers(0, 10**20)), max_size=20
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_fee_split_never_negative_and_never_pays_more_principal_than_was_released(sequence):
    tx = TxLogs()
    tx.nft_transfer(NPM, ZERO, WALLET, 1)
    for kind, a0, a1 in sequence:
        if kind == "decrease":
            tx.v3(NPM, "Decrease", 1, 1, a0, a1)
        else:
            tx.v3(NPM, "Collect", 1, WALLET, a0, a1)
    h = position_histories(_events(tx), _nfts(tx), WALLET, manager=NPM)[1]
    released = (sum(d.amount0 for d in h.decreases), sum(d.amount1 for d in h.decreases))
    collected = [(c.principal0, c.fees0, c.principal1, c.fees1) for c in h.collections]
    assert all(min(c) >= 0 for c in collected)
    assert sum(c[0] for c in collected) + h.owed0 == released[0]
    assert sum(c[2] for c in collected) + h.owed1 == released[1]
    raw = [(a0, a1) for kind, a0, a1 in sequence if kind == "collect"]
    assert [(c[0] + c[1], c[2] + c[3]) for c in collected] == raw
