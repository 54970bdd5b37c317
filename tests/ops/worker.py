"""A real Celery worker in its own process (so a test can SIGKILL it, as the kernel's OOM
killer or a lost machine would), against the test run's database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.ops.server import ROOT, app_env, database_url

CELERY = Path(sys.executable).with_name("celery")


def worker_env(**overrides: str) -> dict[str, str]:
    values = {"DATABASE_URL": database_url(connection.settings_dict), "REDIS_URL": settings.REDIS_URL,
              "TASK_HEARTBEAT_SECONDS": "1", "TASK_STALE_AFTER_SECONDS": "3"}
    return app_env(**{**values, **overrides})


def start_worker(*, queues: str = "default,slow", log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``celery worker`` with the solo pool: the task runs in the worker process itself, so
    killing that process kills the task mid-way, with no parent left to notice."""
    return subprocess.Popen(
        [str(CELERY), "-A", "config", "worker", "-P", "solo", "-c", "1", "-Q", queues, "-l", "INFO",
         "--without-gossip", "--without-mingle", "-n", f"killable-{os.getpid()}-{time.monotonic_ns()}@%h"],
        cwd=ROOT, env=env or worker_env(), stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, no warning: nothing in the worker runs afterwards."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
