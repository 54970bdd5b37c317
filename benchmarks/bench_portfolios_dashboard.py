"""The dashboard summary of one portfolio with 500 positions (the page's one big read).

Run: ``.venv/bin/python -m benchmarks.bench_portfolios_dashboard`` (PostgreSQL at
``BENCH_PG``, default ``postgres://postgres@127.0.0.1:5432``). It (re)creates the
database ``yl_bench_dash`` (``BENCH_DB``) and builds, with the data builder of
``bench_portfolios_revalue``, one portfolio of ``--positions`` positions (default
500) on 20 pools of six kinds with a year of daily prices and pool snapshots.

Timed (``time.perf_counter``, best of ``--repeat`` after one warm-up call):
``portfolios.selectors.portfolio_summary`` - the constant number of reads of the
bulk loader plus the pure analytics of every position - and the queries it ran.
Target: under 3 s (the bound the test suite used to assert on the wall clock; the
query count stays pinned in tests/portfolios/selectors/test_queries.py).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("BENCH_DB", "yl_bench_dash")

from benchmarks.bench_portfolios_revalue import prepare  # noqa: E402 - BENCH_DB first

TARGET_SECONDS = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dashboard summary benchmark")
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the existing database (skip the build)")
    args = parser.parse_args(argv)

    prepare(n_portfolios=1, n_positions=args.positions, keep=args.keep)
    # After django.setup(): these import models.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolios.models import Portfolio
    from portfolios.selectors import portfolio_summary

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    portfolio = Portfolio.objects.select_related("owner").get()
    portfolio_summary(portfolio=portfolio)  # warm-up: content types, prepared lookups, the stableswap cache
    times = []
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            summary = portfolio_summary(portfolio=portfolio)
            times.append(time.perf_counter() - start)
    best = min(times)
    print(
        f"portfolio_summary, {len(summary.positions)} positions: best {best:.3f} s, median "
        f"{sorted(times)[len(times) // 2]:.3f} s of {args.repeat}, {len(ctx.captured_queries)} queries - "
        f"target < {TARGET_SECONDS:.0f} s: {'OK' if best < TARGET_SECONDS else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
