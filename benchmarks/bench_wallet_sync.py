"""Benchmark the chain-reading half of a wallet sync on a local anvil node.

    .venv/bin/python -m benchmarks.bench_wallet_sync [--transfers 10000] [--v2 25] [--v3 25]
        [--pages 500] [--batch-size 50] [--repeat 3]

Builds (not timed) a wallet on a fresh anvil with the real Uniswap contracts:
``--transfers`` ERC-20 transfers in and out over eight tokens and eight
counterparties (real transactions, 20 per block), ``--v2`` Uniswap v2 LP
positions (one per pair) and ``--v3`` v3 positions (five ranges in each of
five pools).

Timed, best of ``--repeat`` (time.perf_counter, client in this process, node on
127.0.0.1):

- **from scratch**: ``WalletReader.read`` from block 0 (every log page, the LP
  receipts, the position managers' events, block times) plus the state a
  valuation needs at the final block: token metadata, ``balanceOf`` for every
  token, ``getReserves``/``totalSupply`` of the pairs, ``positions()`` and a
  static ``collect`` for every v3 position.
- **unchanged**: the next sync from the checkpoint when nothing happened:
  ``read`` from ``final_block + 1`` with the positions carried over, plus the
  same state reads.

The local chain is short (a few hundred blocks), so ``--pages`` sets the log
page size to split it into at least that many ``eth_getLogs`` pages per filter:
500 pages is what a wallet with two years of Ethereum history (5 M blocks) costs
at the usual 10,000-block limit. Targets (issue 12, with phase 2's database
writes on top): < 60 s from scratch, < 2 s unchanged.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from itertools import combinations

import httpx

from portfolios.wallets.chain.config import parse_chains
from portfolios.wallets.chain.reader import WalletReader
from portfolios.wallets.chain.rpc import RpcClient
from tests.portfolios.wallets.rig import AnvilNode, deploy, deploy_protocols, send, sqrt_price_x96

E18 = 10**18
PER_BLOCK = 20


def build(node: AnvilNode, transfers: int, v2: int, v3: int, n_tokens: int = 8, n_others: int = 8) -> dict:
    w3 = node.web3()
    accounts = list(w3.eth.accounts)
    wallet, others, deployer = accounts[1], accounts[2 : 2 + n_others], accounts[0]
    protocols = deploy_protocols(w3)
    tokens = [deploy(w3, "ERC20PresetMinterPauser", f"Bench {i}", f"B{i}") for i in range(n_tokens)]
    tokens.sort(key=lambda c: int(c.address, 16))
    for token in tokens:
        for who in (wallet, *others):
            send(token.functions.mint(who, 10**9 * E18), deployer)
        for spender in (protocols.v2_router, protocols.position_manager):
            send(token.functions.approve(spender.address, 2**256 - 1), wallet)

    pairs = list(combinations(tokens, 2))
    for a, b in pairs[:v2]:
        send(
            protocols.v2_router.functions.addLiquidity(
                a.address, b.address, 1000 * E18, 1000 * E18, 0, 0, wallet, 2**40
            ),
            wallet,
        )
    npm = protocols.position_manager
    pools = pairs[:5]
    for a, b in pools:
        send(npm.functions.createAndInitializePoolIfNecessary(a.address, b.address, 3000, sqrt_price_x96(1)), deployer)
    for i in range(v3):
        a, b = pools[i % len(pools)]
        width = 60 * (1 + i // len(pools))
        mint = (a.address, b.address, 3000, -width, width, 100 * E18, 100 * E18, 0, 0, wallet, 2**40)
        send(npm.functions.mint(mint), wallet)

    # Plain transfers, in and out, 20 per block: sent as JSON-RPC batches with explicit nonces.
    node.rpc("evm_setAutomine", False)
    nonces: dict[str, int] = {a: w3.eth.get_transaction_count(a) for a in (wallet, *others)}
    http = httpx.Client(timeout=120)
    for start in range(0, transfers, PER_BLOCK):
        batch = []
        for i in range(start, min(start + PER_BLOCK, transfers)):
            token, other = tokens[i % len(tokens)], others[(i // 2) % len(others)]
            sender, recipient = (wallet, other) if i % 2 else (other, wallet)
            data = token.functions.transfer(recipient, 10**15 + i)._encode_transaction_data()
            tx = {"from": sender, "to": token.address, "data": data, "gas": hex(100_000), "nonce": hex(nonces[sender])}
            nonces[sender] += 1
            batch.append({"jsonrpc": "2.0", "id": i, "method": "eth_sendTransaction", "params": [tx]})
        errors = [a for a in http.post(node.url, json=batch).json() if "error" in a]
        if errors:
            raise RuntimeError(f"sending transfers failed: {errors[:3]}")
        node.rpc("evm_mine")
    node.rpc("evm_setAutomine", True)
    config = protocols.chain_config(node.chain_id, node.url)
    return {
        "wallet": wallet.lower(),
        "config": parse_chains({"format": 1, "chains": [config]})[0],
        "tokens": [t.address.lower() for t in tokens],
        "head": w3.eth.block_number,
    }


def state_reads(reader: WalletReader, wallet: str, read, positions, block: int) -> int:
    """What a valuation needs at ``block``; returns how many values were read."""
    tokens = set(read.tokens) if read.transfers else set()
    tokens |= {t for p in read.pairs.values() for t in (p.token0, p.token1)}
    meta = reader.token_meta(tokens)
    balances = reader.balances(wallet, tokens | set(read.pairs), block)
    states = reader.pair_states(read.pairs, block)
    count = len(meta) + len(balances) + len(states)
    for manager in {m for m, _ in positions}:
        ids = [i for m, i in positions if m == manager]
        count += len(reader.positions_info(manager, ids, block))
        count += len(reader.uncollected(manager, wallet, ids, block))
    return count


def best_of(repeat: int, fn):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(
    node: AnvilNode,
    *,
    transfers: int,
    v2: int,
    v3: int,
    pages: int,
    batch_size: int,
    repeat: int,
    n_tokens: int = 8,
    n_others: int = 8,
) -> dict:
    """Build the wallet on ``node`` and time both reads; returns the numbers printed by :func:`main`."""
    started = time.perf_counter()
    built = build(node, transfers, v2, v3, n_tokens, n_others)
    head, wallet, config = built["head"], built["wallet"], built["config"]
    page = max(1, head // pages)  # at least `pages` pages per filter
    out = {"build_s": time.perf_counter() - started, "blocks": head, "page": page, "pages": -(-head // page)}

    def client() -> RpcClient:
        return RpcClient([node.url], batch_size=batch_size, max_log_range=page)

    def scratch():
        with client() as rpc:
            reader = WalletReader(rpc, config)
            read = reader.read(wallet, from_block=0)
            owned = [key for key, h in read.positions.items() if h.owned]
            return read, owned, state_reads(reader, wallet, read, owned, read.final_block), rpc.stats

    out["scratch_s"], (read, owned, values, stats) = best_of(repeat, scratch)

    def unchanged():
        with client() as rpc:
            reader = WalletReader(rpc, config)
            again = reader.read(wallet, from_block=read.final_block + 1, owned_positions=owned)
            return again, state_reads(reader, wallet, read, owned, again.final_block), rpc.stats

    out["unchanged_s"], (again, values_again, stats_again) = best_of(repeat, unchanged)
    if again.transfers or values_again != values:
        raise RuntimeError("the unchanged re-read found something new")
    out.update(
        transfers=len(read.transfers),
        lp_events=len(read.lp_events),
        positions=len(owned),
        values=values,
        calls=stats.calls,
        http=stats.http_requests,
        calls_again=stats_again.calls,
        http_again=stats_again.http_requests,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wallet sync (chain reading) benchmark")
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--v2", type=int, default=25)
    parser.add_argument("--v3", type=int, default=25)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with AnvilNode(chain_id=31337) as node:
        r = run(
            node,
            transfers=args.transfers,
            v2=args.v2,
            v3=args.v3,
            pages=args.pages,
            batch_size=args.batch_size,
            repeat=args.repeat,
        )
    print(f"built in {r['build_s']:.1f} s: {r['blocks']} blocks, {r['pages']} log pages of {r['page']} blocks")
    print(
        f"from scratch: {r['scratch_s']:.2f} s  ({r['transfers']} ERC-20 transfers, {r['lp_events']} v2 LP events, "
        f"{r['positions']} v3 positions, {r['values']} state values; {r['calls']} JSON-RPC calls in {r['http']} "
        f"HTTP requests)"
    )
    print(
        f"unchanged:    {r['unchanged_s']:.2f} s  ({r['calls_again']} JSON-RPC calls in {r['http_again']} HTTP "
        f"requests)"
    )
    met = r["scratch_s"] < 60 and r["unchanged_s"] < 2
    print(f"targets (< 60 s from scratch, < 2 s unchanged; reading only): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
