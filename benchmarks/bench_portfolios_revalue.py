"""Revalue 10,000 portfolios of 10 positions each through the Celery task path.

Run: ``.venv/bin/python -m benchmarks.bench_portfolios_revalue`` (PostgreSQL at
``BENCH_PG``, default ``postgres://postgres@127.0.0.1:5432``). It (re)creates the
database ``yl_bench_port`` (``BENCH_DB``), migrates it and bulk-creates:

* 6 tokens with a year of daily prices, 20 pools (constant product,
  concentrated, stableswap, weighted, staking, farm) with a year of daily
  snapshots each;
* 1,000 users x 10 portfolios x 10 positions = 100,000 positions, each with its
  deposit (2-3 token legs + the LP# receipt), half with a reward claim, one in
  ten partially withdrawn, plus a loose buy per portfolio - about 165,000
  transactions and 480,000 legs.

Timed (``time.perf_counter``, data already in place, tables analysed):

* ``revalue_all_portfolios.delay()`` with tasks eager (``CELERY_TASK_ALWAYS_EAGER``,
  the embedded default): the task lists the ids and fans out
  ``revalue_portfolios`` in chunks of 200, each one batch of reads (constant
  queries), the pure analytics and one bulk UPDATE - all in this one process.
  Target: under 60 s.
* the same chunks spread over ``--processes`` worker processes (what a Celery
  worker pool with that concurrency does), when ``--processes`` > 1.
* ``snapshot_all_portfolios`` for one day (eager), for information.

Measured on the 2-CPU development machine (shared with other work; the load
average is printed first because it moves these numbers a lot):

=====================================  ==============  ==============
                                       load avg 2.1    load avg 6.7
=====================================  ==============  ==============
revalue_all_portfolios, eager          42.2 s          85.3 s
same chunks on 2 worker processes      34.6 s          70.5 s
snapshot_all_portfolios, one day       35.1 s          -
=====================================  ==============  ==============

(build of the data: about 2 minutes, not timed.) Per portfolio of 10
positions: ~4 ms, of which about half is the database reads and half the
Decimal analytics (60-digit ``pools.amm`` valuations).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = os.environ.get("BENCH_DB", "yl_bench_port")
D = Decimal
START = date(2025, 1, 1)
DAYS = 365


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{BENCH_PG}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django(migrate: bool = False) -> None:
    os.environ["DATABASE_URL"] = f"{BENCH_PG}/{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.pop("REDIS_URL", None)  # eager tasks, in-memory cache
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def build(n_portfolios: int, n_positions: int, seed: int = 5) -> dict:
    from accounts.models import User
    from pools.models import Chain, Pool, PoolSnapshot, PoolUnderlyingToken, Protocol, Token, TokenPrice
    from portfolios.models import Leg, Portfolio, Position, Transaction

    rng = random.Random(seed)
    chain = Chain.objects.create(slug="ethereum", name="Ethereum")
    protocols = [Protocol.objects.create(slug=s, name=s.title()) for s in ("uniswap", "curve", "balancer", "lido")]
    spec = {
        "WETH": ("ETH", D(2500), False),
        "USDC": ("USDC", D(1), True),
        "USDT": ("USDT", D(1), True),
        "WBTC": ("BTC", D(60000), False),
        "CRV": ("CRV", D("0.6"), False),
        "BAL": ("BAL", D(4), False),
    }
    tokens = {}
    for i, (symbol, (price_symbol, price, stable)) in enumerate(spec.items()):
        tokens[symbol] = Token.objects.create(
            chain=chain,
            address=f"0x{i:040x}",
            symbol=symbol,
            price_symbol=price_symbol,
            is_stablecoin=stable,
            is_tracked=True,
            last_price_usd=price * D("1.2") if not stable else price,
            last_price_at=_at(START + timedelta(days=DAYS - 1), 0),
        )
    prices = {}
    rows = []
    for symbol, token in tokens.items():
        base = spec[symbol][1]
        level = base
        for d in range(DAYS):
            day = START + timedelta(days=d)
            if not spec[symbol][2]:
                level = (level * D(str(1 + rng.uniform(-0.03, 0.032)))).quantize(D("1e-8"))
            prices[(symbol, day)] = level
            rows.append(TokenPrice(token=token, timestamp=_at(day, 0), price_usd=level, source="bench"))
    TokenPrice.objects.bulk_create(rows, batch_size=5000)
    kinds = [
        ("amm", ["WETH", "USDC"], ""),
        ("concentrated", ["WETH", "USDC"], "0.05%"),
        ("stableswap", ["USDC", "USDT"], ""),
        ("weighted", ["WBTC", "WETH"], "80/20"),
        ("staking", ["WETH"], ""),
        ("farm", ["WETH", "USDT"], ""),
    ]
    pools = []
    for i in range(20):
        kind, syms, meta = kinds[i % len(kinds)]
        pool = Pool.objects.create(
            external_id=f"bench-{i}",
            chain=chain,
            protocol=protocols[i % len(protocols)],
            symbol="-".join(syms),
            meta=meta,
            kind=kind,
            apy=D(8),
            apy_base=D(6),
            apy_reward=D(2),
            first_seen_at=_at(START),
            last_seen_at=_at(START),
        )
        for pos, sym in enumerate(syms):
            PoolUnderlyingToken.objects.create(pool=pool, token=tokens[sym], position=pos)
        pools.append((pool, kind, syms))
    PoolSnapshot.objects.bulk_create(
        [
            PoolSnapshot(
                pool=pool,
                day=START + timedelta(days=d),
                tvl_usd=D(10**7),
                apy_base=D(str(round(rng.uniform(2, 15), 4))),
                apy_reward=D(str(round(rng.uniform(0, 5), 4))),
                apy=D(10),
            )
            for pool, _, _ in pools
            for d in range(DAYS)
        ],
        batch_size=5000,
    )

    users = User.objects.bulk_create(
        [
            User(email=f"bench{i}@example.com", password="!")  # noqa: S106 - unusable
            for i in range(max(1, n_portfolios // 10))
        ],
        batch_size=5000,
    )
    portfolios = Portfolio.objects.bulk_create(
        [Portfolio(owner=users[i % len(users)], name=f"Portfolio {i}") for i in range(n_portfolios)], batch_size=5000
    )
    pos_kind = {
        "amm": "lp",
        "concentrated": "concentrated_lp",
        "stableswap": "lp",
        "weighted": "lp",
        "staking": "staking",
        "farm": "farm",
    }
    positions, plans = [], []
    for portfolio in portfolios:
        for _ in range(n_positions):
            pool, kind, syms = pools[rng.randrange(len(pools))]
            opened = START + timedelta(days=rng.randrange(0, 200))
            p0 = prices[(syms[0], opened)]
            p1 = prices[(syms[1], opened)] if len(syms) > 1 else None
            lower = upper = None
            if kind == "concentrated":
                assert p1 is not None  # a concentrated pool has two tokens
                ratio = p0 / p1
                lower, upper = (ratio * D("0.8")).quantize(D("0.01")), (ratio * D("1.25")).quantize(D("0.01"))
            positions.append(
                Position(
                    portfolio=portfolio,
                    pool=pool,
                    kind=pos_kind[kind],
                    opened_at=_at(opened),
                    range_lower=lower,
                    range_upper=upper,
                )
            )
            plans.append((syms, opened, p0, p1))
    positions = Position.objects.bulk_create(positions, batch_size=5000)

    txns, leg_specs = [], []
    for position, (syms, opened, p0, p1) in zip(positions, plans, strict=True):
        usd = D(rng.randrange(500, 20000))
        amounts = [(syms[0], (usd / 2 / p0).quantize(D("1e-12")) if p1 else (usd / p0).quantize(D("1e-12")), p0)]
        if p1:
            amounts.append((syms[1], (usd / 2 / p1).quantize(D("1e-12")), p1))
        value = sum((q * p for _, q, p in amounts), D(0)).quantize(D("1e-8"))
        txns.append(
            Transaction(
                portfolio_id=position.portfolio_id,
                position=position,
                kind="lp_deposit" if position.kind not in ("staking",) else "stake",
                occurred_at=position.opened_at,
            )
        )
        leg_specs.append(
            [(s, -q, (q * p).quantize(D("1e-8"))) for s, q, p in amounts] + [(f"LP#{position.pk}", value, value)]
        )
        if rng.random() < 0.5:
            day = opened + timedelta(days=rng.randrange(10, 150))
            qty = D(rng.randrange(1, 100))
            txns.append(
                Transaction(
                    portfolio_id=position.portfolio_id,
                    position=position,
                    kind="reward",
                    income_type="liquidity_mining",
                    occurred_at=_at(day),
                )
            )
            leg_specs.append([("CRV", qty, (qty * prices[("CRV", day)]).quantize(D("1e-8")))])
        if rng.random() < 0.1:
            day = opened + timedelta(days=rng.randrange(5, 150))
            out = [(s, (q * D("0.3")).quantize(D("1e-12")), prices[(s, day)]) for s, q, _ in amounts]
            txns.append(
                Transaction(
                    portfolio_id=position.portfolio_id,
                    position=position,
                    kind="lp_withdraw" if position.kind != "staking" else "unstake",
                    occurred_at=_at(day, 13),
                )
            )
            leg_specs.append(
                [(s, q, (q * p).quantize(D("1e-8"))) for s, q, p in out]
                + [(f"LP#{position.pk}", -(value * D("0.3")), (value * D("0.3")))]
            )
    for portfolio in portfolios:
        txns.append(Transaction(portfolio=portfolio, kind="buy", occurred_at=_at(START)))
        leg_specs.append([("USD", D(-2500), D(2500)), ("WETH", D(1), D(2500))])
    txns = Transaction.objects.bulk_create(txns, batch_size=5000)
    legs = []
    for txn, spec_legs in zip(txns, leg_specs, strict=True):
        for asset, qty, fiat in spec_legs:
            legs.append(
                Leg(
                    transaction=txn,
                    asset=asset,
                    token=tokens.get(asset),
                    quantity=qty,
                    fiat_value=fiat,
                    value_source="entered",
                )
            )
    Leg.objects.bulk_create(legs, batch_size=10000)
    return {"portfolios": len(portfolios), "positions": len(positions), "transactions": len(txns), "legs": len(legs)}


def _chunk_worker(ids: list[int]) -> int:
    setup_django()
    from django.db import connection

    from portfolios.tasks import revalue_portfolios

    connection.close()
    return revalue_portfolios.apply(kwargs={"portfolio_ids": ids}).get()


def prepare(*, n_portfolios: int, n_positions: int, keep: bool) -> None:
    """Print the machine and its load, then (re)build the data unless ``keep``; Django is set up."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f}")
    if keep:
        setup_django()
        return
    recreate_database()
    setup_django(migrate=True)
    start = time.perf_counter()
    counts = build(n_portfolios, n_positions)
    print(f"built {counts} in {time.perf_counter() - start:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="portfolio revaluation benchmark")
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=10)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="reuse the existing database (skip the build)")
    args = parser.parse_args(argv)

    prepare(n_portfolios=args.portfolios, n_positions=args.positions, keep=args.keep)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    from portfolios.models import Portfolio
    from portfolios.tasks import REVALUE_CHUNK, revalue_all_portfolios, snapshot_all_portfolios

    Portfolio.objects.update(valued_at=None)
    start = time.perf_counter()
    revalue_all_portfolios.delay()
    eager = time.perf_counter() - start
    valued = Portfolio.objects.filter(valued_at__isnull=False).count()
    print(
        f"revalue_all_portfolios (eager, 1 process): {valued} portfolios in {eager:.1f} s "
        f"({eager / max(valued, 1) * 1000:.2f} ms/portfolio) - target < 60 s: {'OK' if eager < 60 else 'MISSED'}"
    )

    if args.processes > 1:
        import multiprocessing as mp

        ids = list(Portfolio.objects.order_by("pk").values_list("pk", flat=True))
        chunks = [ids[i : i + REVALUE_CHUNK] for i in range(0, len(ids), REVALUE_CHUNK)]
        connection.close()
        start = time.perf_counter()
        with mp.get_context("fork").Pool(args.processes) as pool:
            done = sum(pool.map(_chunk_worker, chunks))
        parallel = time.perf_counter() - start
        print(f"revalue_portfolios chunks on {args.processes} worker processes: {done} portfolios in {parallel:.1f} s")

    start = time.perf_counter()
    snapshot_all_portfolios.delay(day=(START + timedelta(days=DAYS - 1)).isoformat())
    print(f"snapshot_all_portfolios (eager, one day): {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
