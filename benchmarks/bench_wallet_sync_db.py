"""Benchmark a full wallet sync - chain reads *and* database writes - on a local anvil node.

    .venv/bin/python -m benchmarks.bench_wallet_sync_db [--transfers 10000] [--v2 25] [--v3 25]
        [--pages 500] [--batch-size 50] [--repeat 3]

Builds (not timed) the same wallet as ``bench_wallet_sync``: ``--transfers`` ERC-20
transfers in and out over eight tokens, ``--v2`` Uniswap v2 LP positions and ``--v3``
v3 positions, on a fresh anvil with the real Uniswap contracts. The local chain is
configured like a mainnet (a ``wallets.Chain`` row) with a log page size that splits
it into ``--pages`` ``eth_getLogs`` pages per filter.

Timed (``time.perf_counter``; PostgreSQL in ``BENCH_DATABASE_URL``, default database
``yl_bench_wallets``, created and migrated if missing):

- **from scratch**: ``wallet_chain_sync`` for a wallet with no checkpoint: every log
  page, receipts, position events, token metadata, one pools token per contract, the
  prices looked up per token and day, every transaction, leg and chain event written
  (bulk, in chunks), positions created, reconciliation against ``balanceOf``. Best of
  ``--repeat``; the wallet is removed (with what it wrote) between repeats.
- **unchanged**: the next sync from the checkpoint with nothing new on the chain.

The portfolio revaluation the sync enqueues is a separate task and is not timed here
(it is stubbed out; ``bench_portfolios_revalue`` times it).
Targets (issue 12): < 60 s from scratch, < 2 s unchanged.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from unittest.mock import patch

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yl_bench_wallets"
EMAIL = "bench-wallets@example.com"


def _setup(url: str) -> None:
    from benchmarks.bench_tax_task import _ensure_database

    _ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(node, *, transfers: int, v2: int, v3: int, pages: int, batch_size: int, repeat: int,
        n_tokens: int = 8, n_others: int = 8) -> dict:  # fmt: skip
    """Build the wallet on ``node``, sync it into the database; returns the numbers :func:`main` prints."""

    from accounts.models import User
    from benchmarks.bench_wallet_sync import build
    from portfolios.models import Portfolio
    from portfolios.wallets.models import Chain, Wallet, WalletSync
    from portfolios.wallets.services import sync as sync_module
    from portfolios.wallets.services.chains import chains_upsert
    from portfolios.wallets.services.wallets import wallet_delete

    started = time.perf_counter()
    built = build(node, transfers, v2, v3, n_tokens, n_others)
    head, address = built["head"], built["wallet"]
    page = max(1, head // pages)
    out = {"build_s": time.perf_counter() - started, "blocks": head, "page": page, "pages": -(-head // page)}

    from dataclasses import replace

    config = replace(built["config"], max_log_range=page, batch_size=batch_size)
    Chain.objects.filter(chain_id=config.chain_id).delete()
    Chain.objects.exclude(chain_id=config.chain_id).update(active=False)
    chains_upsert([config])
    chain = Chain.objects.get(chain_id=config.chain_id)
    User.objects.filter(email=EMAIL).delete()
    user = User.objects.create_user(EMAIL, "bench-password-123")
    portfolio = Portfolio.objects.create(owner=user, name="Wallet sync benchmark")

    def fresh_wallet() -> Wallet:
        for old in Wallet.objects.filter(portfolio=portfolio):
            wallet_delete(wallet=old)
        wallet = Wallet.objects.create(portfolio=portfolio, address=address)
        wallet.chains.set([chain])
        return wallet

    def sync(wallet: Wallet):
        run_row = WalletSync.objects.create(wallet=wallet, status=WalletSync.Status.RUNNING)
        return run_row, sync_module.wallet_chain_sync(wallet=wallet, chain=chain, run=run_row)

    # The revaluation the sync queues is a task of its own: not timed (restored afterwards).
    from portfolios.services import changes

    with patch.object(changes.revalue_portfolio_task, "delay_on_commit", lambda **kwargs: None):
        return _timed(out, portfolio, user, fresh_wallet, sync, repeat)


def _timed(out: dict, portfolio, user, fresh_wallet, sync, repeat: int) -> dict:
    from django.db import transaction

    from portfolios.models import Leg, Transaction
    from portfolios.wallets.models import ChainEvent, Reconciliation, SyncedPosition

    best = float("inf")
    for _ in range(repeat):
        wallet = fresh_wallet()
        start = time.perf_counter()
        run_row, result = sync(wallet)
        best = min(best, time.perf_counter() - start)
    out["scratch_s"] = best
    out["records"] = result.created
    out["transactions"] = Transaction.objects.filter(portfolio=portfolio).count()
    out["legs"] = Leg.objects.filter(transaction__portfolio=portfolio).count()
    out["events"] = ChainEvent.objects.filter(wallet=wallet).count()
    out["positions"] = SyncedPosition.objects.filter(wallet=wallet).count()
    recs = list(Reconciliation.objects.filter(sync=run_row))
    out["reconciled"] = len(recs)
    out["mismatches"] = sum(not r.ok for r in recs)

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        _, again = sync(wallet)
        best = min(best, time.perf_counter() - start)
        if again.created:
            raise RuntimeError("the unchanged sync wrote new records")
    out["unchanged_s"] = best
    with transaction.atomic():
        user.delete()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wallet sync (reads + database writes) benchmark")
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--v2", type=int, default=25)
    parser.add_argument("--v3", type=int, default=25)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    _setup(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    from tests.portfolios.wallets.rig import AnvilNode

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with AnvilNode(chain_id=31337) as node:
        r = run(node, transfers=args.transfers, v2=args.v2, v3=args.v3, pages=args.pages,
                batch_size=args.batch_size, repeat=args.repeat)  # fmt: skip
    print(f"built in {r['build_s']:.1f} s: {r['blocks']} blocks, {r['pages']} log pages of {r['page']} blocks")
    print(
        f"from scratch: {r['scratch_s']:.2f} s  ({r['transactions']} transactions, {r['legs']} legs, "
        f"{r['events']} chain events, {r['positions']} positions; {r['reconciled']} tokens reconciled, "
        f"{r['mismatches']} mismatches)"
    )
    print(f"unchanged:    {r['unchanged_s']:.2f} s")
    met = r["scratch_s"] < 60 and r["unchanged_s"] < 2
    print(f"targets (< 60 s from scratch, < 2 s unchanged; reads + writes): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
