"""Latency of the pool list API and the explorer page with 20,000 pools and a
year of daily history (365 x 20,000 = 7.3 M PoolSnapshot rows).

Run: ``.venv/bin/python -m benchmarks.bench_pools_api`` (PostgreSQL at
``BENCH_PG``; (re)creates the database ``yl_bench``). Steps:

1. ingest the 20,000-pool scaled payload (see ``bench_pools_ingest``);
2. generate a year of snapshots *inside PostgreSQL* (``INSERT … SELECT`` over
   ``generate_series``: no Python round trip; faster than COPY for generated
   data), then ``VACUUM ANALYZE``; time the hourly statistics and risk passes
   over that history;
3. start ``gunicorn config.wsgi`` (3 sync workers, as the README says) on
   127.0.0.1 with production settings (``DEBUG=false``) and drive it from this
   process with ``httpx`` at each ``--threads`` concurrency (default 2 and 8
   requests in flight) — a bounded number of requests per scenario and a time
   cap — then report p50 / p95 / p99 and throughput. Client and server share the
   2 cores: at 2 in flight a request waits for little but its own work (the
   latency targets are read there); at 8 in flight every request queues behind
   others (about 4 per core), which shows throughput and saturated latency.

Scenarios: the API list with every request a cache miss (a unique ``_b``
parameter defeats ``cache_page``) over a mix of filters and orderings; the same
list when cached; the explorer page over the same mix (never cached); one pool's
page (365-day charts); one pool's ``/history/``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8799"))

QUERIES = [
    "",
    "ordering=apy",
    "ordering=risk",
    "ordering=apy_mean_30d",
    "ordering=-tvl",
    "chain=ethereum&ordering=apy",
    "chain=base&min_tvl=1000000",
    "protocol=uniswap-v3&ordering=apy_base",
    "kind=stableswap&ordering=risk",
    "stablecoin=true&ordering=apy",
    "no_il_risk=true&single_exposure=true",
    "token=usdc&ordering=apy",
    "token=weth&chain=arbitrum",
    "apy_min=5&apy_max=50&ordering=apy_reward",
    "page=50",
    "ordering=apy&page=20",
]


def generate_history(days: int) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(day) FROM pools_poolsnapshot")
        last = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO pools_poolsnapshot (pool_id, day, tvl_usd, apy, apy_base, apy_reward)
            SELECT p.id, d.day::date,
                   round(p.tvl_usd * (0.7 + 0.6 * random())::numeric, 2),
                   round(coalesce(p.apy, 0) * (0.5 + random())::numeric, 10),
                   round(coalesce(p.apy_base, 0) * (0.5 + random())::numeric, 10),
                   CASE WHEN p.apy_reward IS NULL THEN NULL
                        ELSE round(p.apy_reward * (0.5 + random())::numeric, 10) END
            FROM pools_pool p
            CROSS JOIN generate_series(%s::date - %s, %s::date - 1, interval '1 day') AS d(day)
            ON CONFLICT (pool_id, day) DO NOTHING
            """,
            [last, days - 1, last],
        )
        cursor.execute("UPDATE pools_pool SET history_start = %s::date - %s", [last, days - 1])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def drive(urls, *, requests: int, seconds: float, threads: int = 8, cookies: dict | None = None) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    def worker():
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=30, cookies=cookies) as client:
            while time.monotonic() < deadline:
                n = next(counter)
                if n >= requests:
                    return
                url = urls(n)
                start = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1),
        "req_per_s": round(len(latencies) / wall, 1),
    }


#: As production runs it (DEBUG off: no query log, no debug pages), over plain HTTP on loopback.
PRODUCTION_LIKE = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "false",
    "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: S105 - loopback only
    "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
    "API_THROTTLE_ANON": "100000000/min", "API_THROTTLE_USER": "100000000/min", "LOG_LEVEL": "WARNING",
}


def start_gunicorn(db_url: str, workers: int = 3, redis_url: str = "") -> subprocess.Popen:
    """gunicorn on loopback; with ``redis_url`` the workers share a Redis cache (and tasks
    are queued there, not run), else each has its own local-memory cache."""
    import httpx

    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(PRODUCTION_LIKE, DATABASE_URL=db_url)
    if redis_url:
        env["REDIS_URL"] = redis_url
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(workers),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/api/v1/chains/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def database_is_built() -> bool:
    """True when the benchmark database already holds the pools and their year of history."""
    import psycopg

    from benchmarks import bench_pools_ingest as ingest

    try:
        with psycopg.connect(f"{ingest.BENCH_PG}/{ingest.BENCH_DB}") as conn:
            pools = (conn.execute("SELECT count(*) FROM pools_pool").fetchone() or (0,))[0]
            days = (conn.execute("SELECT count(DISTINCT day) FROM pools_poolsnapshot").fetchone() or (0,))[0]
    except psycopg.Error:
        return False
    return pools >= ingest.N_POOLS and days >= 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=1500, help="per scenario")
    parser.add_argument("--seconds", type=float, default=60, help="time cap per scenario")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of an earlier run (migrated, not rebuilt): for iterating")
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 8],
                        help="client concurrency: each scenario is driven at each of these")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    from benchmarks import bench_pools_ingest as ingest

    if not (args.reuse and database_is_built()):
        ingest.recreate_database()
        args.reuse = False
    ingest.setup_django()
    from django.db import connection

    from pools.models import Pool
    from pools.services.ingest import pools_ingest
    from pools.services.risk import pool_risk_refresh
    from pools.services.stats import pool_stats_refresh
    from tests.pools.conftest import make_batch

    report: dict = {}
    if not args.reuse:
        records = ingest.scaled_records()
        when = max(r.updated_at for r in records if r.updated_at)
        report["ingest_seconds"] = round(ingest.timed(lambda: pools_ingest(batch=make_batch(records,
                                                                                            fetched_at=when)))[0], 2)
        report["history_generate_seconds"] = round(generate_history(args.days), 1)
        report["stats_seconds_with_year_of_history"] = round(
            ingest.timed(lambda: pool_stats_refresh(as_of=when.date()))[0], 2)
        report["risk_seconds"] = round(ingest.timed(pool_risk_refresh)[0], 2)
        Pool.objects.update(history_backfilled_at=when)  # no backfill enqueued by the page views
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('pools_poolsnapshot')) "
                       "FROM pools_poolsnapshot")
        report["snapshot_rows"], report["snapshot_table_size"] = cursor.fetchone()
    busiest = Pool.objects.filter(is_active=True).order_by("-tvl_usd").values_list("pk", flat=True)[0]
    connection.close()

    server = start_gunicorn(f"{ingest.BENCH_PG}/{ingest.BENCH_DB}")
    try:
        def api_uncached(n):
            return f"/api/v1/pools/?{QUERIES[n % len(QUERIES)]}&_b={n}"

        def api_cached(n):
            return f"/api/v1/pools/?{QUERIES[n % 4]}"

        def explorer(n):
            return f"/pools/?{QUERIES[n % len(QUERIES)]}"

        scenarios = {
            "api_list_uncached": api_uncached,
            "api_list_cached": api_cached,
            "explorer_page": explorer,
            "pool_page_365_days": lambda n: f"/pools/{busiest}/",
            "api_history_365_days": lambda n: f"/api/v1/pools/{busiest}/history/?_b={n}",
        }
        for name, urls in scenarios.items():
            if args.only and name not in args.only:
                continue
            drive(urls, requests=40, seconds=10)  # warm up each worker
            for threads in args.threads:
                report[f"{name} @{threads}"] = drive(urls, requests=args.requests, seconds=args.seconds,
                                                     threads=threads)
    finally:
        server.terminate()
        try:
            server.wait(30)  # a loaded machine may take a while; the figures must still print
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    report["note"] = ("gunicorn -w 3 (sync) and an httpx client of @N threads (N requests in flight) on the same "
                      "2-core machine; DEBUG=false (production settings over plain HTTP; no collectstatic); "
                      "local-memory cache per worker")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
