"""The dashboard of one portfolio with 500 positions: the summary it is built on, and the
page itself over HTTP with the summary cache.

Run: ``.venv/bin/python -m benchmarks.bench_portfolios_dashboard`` (PostgreSQL at
``BENCH_PG``, default ``postgres://postgres@127.0.0.1:5432``; Redis at ``BENCH_REDIS``,
default ``redis://127.0.0.1:6379/11``). It (re)creates the database ``yl_bench_dash``
(``BENCH_DB``) and builds, with the data builder of ``bench_portfolios_revalue``, one
portfolio of ``--positions`` positions (default 500) on 20 pools of six kinds with a year
of daily prices and pool snapshots. ``--keep`` reuses it.

1. ``portfolios.selectors.portfolio_summary`` (no cache): the constant number of reads of
   the bulk loader plus the pure analytics of every position, best and median of
   ``--repeat`` after one warm-up call (``time.perf_counter``), and its queries. This is
   what the first view after a change (or after ``PORTFOLIO_SUMMARY_CACHE_SECONDS``) costs.
2. The page ``/portfolios/`` (the dashboard: totals, charts, warnings and the 500 position rows)
   served by ``gunicorn`` (3 sync workers, production settings, the Redis cache shared by
   the workers) to a logged-in session, driven by ``bench_pools_api.drive`` at 2 and 8
   requests in flight: p50/p95/p99. The summary comes from the cache (keyed on the
   portfolio's ledger version, ``selectors.portfolio_summary_now``); the rest of the page
   (portfolio list, value history, stale prices, rendering) is done every time.
3. The same page when every view follows a change of the portfolio (a new ledger version
   before each request, one request at a time): the cache-miss cost end to end.

Target (issue 14): the dashboard page with 500 positions p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
import uuid

os.environ.setdefault("BENCH_DB", "yl_bench_dash")
# The session this process signs must be valid for the production-like gunicorn.
from benchmarks.bench_pools_api import PRODUCTION_LIKE  # noqa: E402 - standard library only

os.environ.setdefault("SECRET_KEY", PRODUCTION_LIKE["SECRET_KEY"])

from benchmarks.bench_portfolios_revalue import BENCH_DB, BENCH_PG, prepare  # noqa: E402 - BENCH_DB first

BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/11")
TARGET_PAGE_P95_MS = 100.0
DASHBOARD = "/portfolios/"


def summary_timings(portfolio, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolios.selectors import portfolio_summary

    portfolio_summary(portfolio=portfolio)  # warm-up: content types, prepared lookups, the stableswap cache
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            summary = portfolio_summary(portfolio=portfolio)
            times.append(time.perf_counter() - start)
    return {
        "positions": len(summary.positions),
        "best_ms": round(1000 * min(times), 1),
        "median_ms": round(1000 * sorted(times)[len(times) // 2], 1),
        "queries": len(ctx.captured_queries),
    }


def session_cookie(user) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def page_timings(portfolio, *, requests: int, seconds: float, misses: int, portfolio_positions: int) -> dict:
    import httpx
    import redis

    from benchmarks.bench_pools_api import PORT, drive, percentile, start_gunicorn
    from portfolios.models import Portfolio
    from portfolios.views.dashboard import ROWS_PER_PAGE

    redis.Redis.from_url(BENCH_REDIS).flushdb()  # a database of its own: no stale summary
    cookies = session_cookie(portfolio.owner)
    server = start_gunicorn(f"{BENCH_PG}/{BENCH_DB}", redis_url=BENCH_REDIS)
    report: dict = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", cookies=cookies, timeout=60) as client:
            first = client.get(DASHBOARD)
            # The signed-in dashboard of that portfolio (not the landing page of a visitor).
            # (the first page of the positions table: up to ROWS_PER_PAGE rows)
            rows = len(re.findall(r'href="/portfolios/positions/\d+/"', first.text))
            wanted = min(portfolio_positions, ROWS_PER_PAGE)
            if first.status_code != 200 or 'id="value-h"' not in first.text or rows < wanted:
                raise RuntimeError(f"the dashboard did not render: {first.status_code} "
                                   f"{first.headers.get('location', '')}, {rows} position links")
            report["page_bytes"] = len(first.content)
            drive(lambda n: DASHBOARD, requests=30, seconds=10, cookies=cookies)  # warm every worker
            for threads in (2, 8):
                report[f"page_cached @{threads}"] = drive(lambda n: DASHBOARD, requests=requests, seconds=seconds,
                                                          threads=threads, cookies=cookies)
            latencies = []
            for _ in range(misses):
                Portfolio.objects.filter(pk=portfolio.pk).update(ledger_version=uuid.uuid4())
                start = time.perf_counter()
                assert client.get(DASHBOARD).status_code == 200
                latencies.append(time.perf_counter() - start)
            report["page_after_a_change @1"] = {
                "requests": misses,
                "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
                "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
            }
    finally:
        server.terminate()
        server.wait(30)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dashboard benchmark")
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=600, help="page requests per concurrency")
    parser.add_argument("--seconds", type=float, default=60, help="time cap per concurrency")
    parser.add_argument("--misses", type=int, default=10, help="page views after a change")
    parser.add_argument("--keep", action="store_true", help="reuse the existing database (skip the build)")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    prepare(n_portfolios=1, n_positions=args.positions, keep=args.keep)
    # After django.setup(): these import models.
    from django.db import connection

    from portfolios.models import Portfolio

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    portfolio = Portfolio.objects.select_related("owner").get()
    report: dict[str, object] = {"summary_uncached": summary_timings(portfolio, args.repeat)}
    connection.close()
    pages = page_timings(portfolio, requests=args.requests, seconds=args.seconds, misses=args.misses,
                         portfolio_positions=portfolio.positions.count())
    report.update(pages)
    p95 = pages["page_cached @2"]["p95_ms"]
    report["target"] = (f"dashboard page p95 <= {TARGET_PAGE_P95_MS:.0f} ms at 2 in flight: "
                        f"{'OK' if p95 <= TARGET_PAGE_P95_MS else 'MISSED'} ({p95} ms)")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
