"""Ingest a DeFiLlama-size pool list (20,000 pools) into PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_pools_ingest`` (PostgreSQL at
``BENCH_PG``, default ``postgres://postgres@127.0.0.1:5432``). It (re)creates the
database ``yl_bench`` and migrates it.

The payload is the real bundled snapshot (6,107 pools) scaled to 20,000:
records are cloned with new deterministic uuids and metrics perturbed by up to
±30 % (TVL) and ±50 % (APYs). Measured, best of ``--repeat`` fresh loads:

* ``first``: an empty database (20,000 created + tokens + links + snapshots);
* ``unchanged``: the same payload again (must rewrite nothing);
* ``all changed``: a day later, every pool's metrics moved (20,000 updated,
  20,000 new snapshots): the worst case of an hourly refresh;
* the ``COPY`` floor: the same 20,000 pool rows and 20,000 snapshot rows
  streamed with psycopg 3 ``cursor.copy`` into empty tables of the same shape
  (no conflict handling, no indexes but the primary key): nothing can be faster;
* statistics and risk scoring after the upsert (reported apart from the target).

Targets: upsert + snapshots <= 3 s (first load and all-changed), unchanged <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = os.environ.get("BENCH_DB", "yl_bench")
N_POOLS = 20_000


def recreate_database(name: str = BENCH_DB) -> None:
    import psycopg

    with psycopg.connect(f"{BENCH_PG}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def setup_django(name: str = BENCH_DB) -> None:
    os.environ["DATABASE_URL"] = f"{BENCH_PG}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def scaled_records(n: int = N_POOLS, seed: int = 7):
    """The bundled records, cloned to ``n`` pools with new ids and perturbed metrics."""
    from pools.sources import get_source

    base = list(get_source("bundled").fetch_pools().records)
    rng = random.Random(seed)
    out = list(base)
    i = 0
    while len(out) < n:
        src = base[i % len(base)]
        i += 1
        tvl = max(Decimal(1000), (src.tvl_usd * Decimal(str(rng.uniform(0.7, 1.3)))).quantize(Decimal("0.01")))

        def wiggle(v):
            return None if v is None else (v * Decimal(str(rng.uniform(0.5, 1.5)))).quantize(Decimal("0.00001"))

        out.append(replace(src, pool_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{src.pool_id}:{i}")),
                           tvl_usd=tvl, apy=wiggle(src.apy), apy_base=wiggle(src.apy_base),
                           apy_reward=wiggle(src.apy_reward)))
    return out[:n]


def moved(records, when, seed: int = 11):
    rng = random.Random(seed)

    def nudge(v):
        return None if v is None else (v * Decimal(str(rng.uniform(0.9, 1.1)))).quantize(Decimal("0.00001"))

    return [replace(r, updated_at=when, tvl_usd=(r.tvl_usd * Decimal(str(rng.uniform(0.95, 1.05)))
                                                 ).quantize(Decimal("0.01")),
                    apy=nudge(r.apy), apy_base=nudge(r.apy_base), apy_reward=nudge(r.apy_reward)) for r in records]


def reset_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pools_poolsnapshot, pools_poolunderlyingtoken, pools_poolrewardtoken, pools_pool, "
                       "pools_token, pools_protocol, pools_chain, pools_refreshrun RESTART IDENTITY CASCADE")
        cursor.execute("VACUUM ANALYZE")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def copy_floor(records, when) -> float:
    """Plain COPY of the same pool rows and snapshot rows into fresh tables of the same shape."""
    from django.db import connection, transaction

    from pools.services.ingest import POOL_COLUMNS, Q_CENTS, Q_PCT, _pool_row, _record_metrics, quantize

    rows = [_pool_row(r, _record_metrics(r), {}, chain_id=1, protocol_id=1, seen_at=r.updated_at or when, now=when,
                      history_start=when.date()) for r in records]
    snaps = [(i + 1, when.date(), quantize(r.tvl_usd, Q_CENTS), quantize(r.apy, Q_PCT), quantize(r.apy_base, Q_PCT),
              quantize(r.apy_reward, Q_PCT)) for i, r in enumerate(records)]
    cols = ", ".join(f'"{c}"' for c in POOL_COLUMNS)
    snap_cols = "pool_id, day, tvl_usd, apy, apy_base, apy_reward"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pool, bench_snap")
        cursor.execute(f"CREATE TABLE bench_pool AS SELECT {cols} FROM pools_pool WITH NO DATA")  # noqa: S608
        cursor.execute(f"CREATE TABLE bench_snap AS SELECT {snap_cols} FROM pools_poolsnapshot WITH NO DATA")  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_pool ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with cursor.cursor.copy(f"COPY bench_snap ({snap_cols}) FROM STDIN") as copy:
            for row in snaps:
                copy.write_row(row)
        elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_pool, bench_snap")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", type=int, default=N_POOLS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    recreate_database()
    setup_django()
    from pools.services.ingest import pools_ingest
    from pools.services.risk import pool_risk_refresh
    from pools.services.stats import pool_stats_refresh
    from tests.pools.conftest import make_batch

    records = scaled_records(args.pools)
    when = max(r.updated_at for r in records if r.updated_at)
    batch = make_batch(records, fetched_at=when)
    next_day = make_batch(moved(records, when + timedelta(days=1)), fetched_at=when + timedelta(days=1))

    results: dict[str, list[float]] = {k: [] for k in ("first", "unchanged", "all_changed", "copy_floor", "stats",
                                                       "risk", "risk_unchanged")}
    counts = {}
    for _ in range(args.repeat):
        reset_tables()
        seconds, first = timed(lambda: pools_ingest(batch=batch))
        results["first"].append(seconds)
        results["stats"].append(timed(lambda: pool_stats_refresh(as_of=when.date()))[0])
        results["risk"].append(timed(pool_risk_refresh)[0])
        seconds, again = timed(lambda: pools_ingest(batch=batch))
        results["unchanged"].append(seconds)
        results["risk_unchanged"].append(timed(pool_risk_refresh)[0])
        seconds, changed = timed(lambda: pools_ingest(batch=next_day))
        results["all_changed"].append(seconds)
        results["copy_floor"].append(copy_floor(records, when))
        counts = {
            "first": [first.created, first.updated, first.unchanged, first.snapshots_written],
            "unchanged": [again.created, again.updated, again.unchanged, again.snapshots_written],
            "all_changed": [changed.created, changed.updated, changed.unchanged, changed.snapshots_written],
            "first_timings": first.timings,
            "all_changed_timings": changed.timings,
        }
    best = {k: round(min(v), 3) for k, v in results.items()}
    report = {
        "pools": args.pools,
        "seconds_best_of": args.repeat,
        **best,
        "ratio_first_to_copy": round(best["first"] / best["copy_floor"], 1),
        "ratio_all_changed_to_copy": round(best["all_changed"] / best["copy_floor"], 1),
        "counts_created_updated_unchanged_snapshots": counts,
        "targets_met": {"upsert_and_snapshots_le_3s": max(best["first"], best["all_changed"]) <= 3.0,
                        "unchanged_le_1s": best["unchanged"] <= 1.0},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
