"""PostgreSQL goes away under the running app (gunicorn): pages answer a styled 503, the
API a 503 problem JSON; when it comes back the same processes serve again, untouched.
Before config/outage.py every request was Django's generic HTML 500."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.ops.postgres import PrivatePostgres
from tests.ops.server import ROOT, app_env, gunicorn

pytestmark = pytest.mark.slow_service


@pytest.fixture(scope="module")
def postgres():
    server = PrivatePostgres()
    try:
        server.init()
        env = app_env(DATABASE_URL=server.url, REDIS_URL="")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True, timeout=600)
        yield server
    finally:
        server.destroy()


def get_until(http: httpx.Client, path: str, status: int, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def test_the_app_answers_503_while_the_database_is_down_and_recovers_alone(postgres, tmp_path):
    env = app_env(DATABASE_URL=postgres.url, REDIS_URL="", DATABASE_CONNECT_TIMEOUT="2")
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, workers=2, log=log) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/pools/").status_code == 200
        assert http.get("/api/v1/pools/").status_code == 200

        postgres.stop()
        page = http.get("/pools/")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "Temporarily unavailable" in page.text and "css/site.css" in page.text
        assert page.headers["Retry-After"] == "30"
        api = http.get("/api/v1/pools/")
        assert api.status_code == 503
        assert api.headers["content-type"] == "application/problem+json"
        problem = api.json()
        assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
        assert "database" in problem["detail"]
        health = http.get("/healthz")
        assert health.status_code == 503

        postgres.start()  # the same gunicorn processes, not restarted
        assert get_until(http, "/pools/", 200).status_code == 200
        assert get_until(http, "/api/v1/pools/", 200).status_code == 200
        assert http.get("/healthz").status_code == 200
