"""Run the production setup on loopback and drive it with locust (headless); print requests
per second and p50/p95/p99 per endpoint.

    .venv/bin/python -m benchmarks.load.run [--users 40] [--spawn-rate 10] [--time 2m]
        [--web-workers 4] [--csv-prefix /tmp/yl-load]

Seed first: ``.venv/bin/python -m benchmarks.load.seed`` (the database ``BENCH_DB`` on
``BENCH_PG``, default ``yl_bench``). Redis: ``REDIS_URL`` (default
``redis://127.0.0.1:6379/0``).

What runs, as ``docs/operations.md`` deploys it: ``collectstatic`` into a temporary
``STATIC_ROOT``; gunicorn (``--web-workers`` sync workers) with ``DEBUG=false``; a Celery
worker (both queues, concurrency 2) and beat. Departures from production, for loopback:
plain HTTP (``SECURE_SSL_REDIRECT``, ``SESSION_COOKIE_SECURE`` and ``CSRF_COOKIE_SECURE``
off), API throttles raised (every virtual user shares one IP), and the hourly pool refresh
paused in beat (the bundled source would replace the 20,000 scaled pools).
Client and server share the machine: the figures are pessimistic for the server.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("LOAD_PORT", "8798"))


def production_env(db_url: str, redis_url: str, static_root: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production", DATABASE_URL=db_url, REDIS_URL=redis_url,
        SECRET_KEY="load-test-secret-key-not-for-production-0123456789abcdef",  # noqa: S106 - loopback only
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false",
        STATIC_ROOT=static_root, API_THROTTLE_ANON="1000000/min", API_THROTTLE_USER="1000000/min",
        LOG_LEVEL="WARNING", CONN_MAX_AGE="60",
    )
    return env


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def table(stats_csv: Path) -> tuple[str, int, int]:
    lines = ["| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    failures = total = 0
    with open(stats_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
            label = f"{row['Type']} {name}".strip() if row["Type"] else name
            lines.append(f"| {label} | {row['Request Count']} | {row['Failure Count']} | "
                         f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |")
            if row["Name"] == "Aggregated":
                failures, total = int(row["Failure Count"]), int(row["Request Count"])
    return "\n".join(lines), failures, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=40, help="concurrent virtual users")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--time", default="2m")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--csv-prefix", default=str(Path(tempfile.gettempdir()) / "yl-load"))
    args = parser.parse_args(argv)

    from benchmarks import bench_pools_ingest as ingest

    db_url = f"{ingest.BENCH_PG}/{ingest.BENCH_DB}"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    static_root = tempfile.mkdtemp(prefix="yl-load-static-")
    env = production_env(db_url, redis_url, static_root)
    logs = Path(tempfile.mkdtemp(prefix="yl-load-logs-"))

    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    print(f"collectstatic: {time.perf_counter() - started:.1f} s")
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from django_celery_beat.models import PeriodicTask; "
                    "PeriodicTask.objects.filter(name='refresh-pools').update(enabled=False)"],
                   cwd=ROOT, env=env, check=True)

    processes = [
        subprocess.Popen([str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{PORT}",
                          "-w", str(args.web_workers), "--timeout", "60", "--log-level", "warning"],
                         cwd=ROOT, env=env, stdout=open(logs / "web.log", "wb"), stderr=subprocess.STDOUT),  # noqa: SIM115
        subprocess.Popen([str(BIN / "celery"), "-A", "config", "worker", "-Q", "default,slow", "-c", "2",
                          "-l", "WARNING", "-n", f"load-{os.getpid()}@%h"],
                         cwd=ROOT, env=env, stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT),  # noqa: SIM115
        subprocess.Popen([str(BIN / "celery"), "-A", "config", "beat", "-l", "WARNING",
                          "-s", str(logs / "beat-schedule")],
                         cwd=ROOT, env=env, stdout=open(logs / "beat.log", "wb"), stderr=subprocess.STDOUT),  # noqa: SIM115
    ]
    host = f"http://127.0.0.1:{PORT}"
    try:
        wait_up(host + "/healthz")
        subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "benchmarks/load/locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.time, "--host", host,
                        "--csv", args.csv_prefix, "--only-summary", "--loglevel", "WARNING"],
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        health = httpx.get(host + "/healthz", timeout=10).json()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    text, failures, total = table(Path(f"{args.csv_prefix}_stats.csv"))
    print(f"\n{args.users} concurrent users, {args.time}, gunicorn -w {args.web_workers}, worker -c 2, beat; "
          f"/healthz after: {health.get('status')}\n")
    print(text)
    print(f"\n{total} requests, {failures} failures; logs in {logs}")
    errors = (logs / "web.log").read_text(errors="replace").count("Internal Server Error")
    print(f"server errors logged by gunicorn: {errors}")
    return 0 if failures == 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
