"""With Redis down (a closed port), the real app under gunicorn keeps serving pages, API
reads and logins; /healthz says what is down; a task request is saved and says so.
Before config.cache.FailOpenRedisCache every /api/v1/ call and every login was a 500."""

from __future__ import annotations

import re

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from rest_framework.authtoken.models import Token

from pools.models import PoolSnapshot
from portfolios.tax.models import TaxReport
from tests.factories import UserFactory
from tests.ops.server import app_env, database_url, gunicorn
from tests.pools.factories import PoolFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
PASSWORD = "a-strong-passphrase-42"


@pytest.fixture
def site(tmp_path):
    env = app_env(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=DEAD_REDIS,
                  HEALTH_TOKEN="t0ken-for-monitoring")
    with gunicorn(env, log=tmp_path / "gunicorn.log") as base:
        yield base
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Internal Server Error" not in log, log


def test_pages_api_reads_and_login_work_while_redis_is_down(site):
    user = UserFactory(email="dora@example.com")
    hasher = PBKDF2PasswordHasher()  # the server runs with the deployed hashers, not the tests' MD5
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    token = Token.objects.create(user=user)
    pool = PoolFactory()
    assert not PoolSnapshot.objects.filter(pool=pool).exists()  # its page asks for history (cache.add)

    with httpx.Client(base_url=site, timeout=20) as http:
        for path in ("/", "/pools/", f"/pools/{pool.pk}/", "/learn/", "/api/v1/pools/"):
            response = http.get(path)
            assert response.status_code == 200, (path, response.status_code)
            # A dead broker must not hold the page (the history request of a pool page).
            assert response.elapsed.total_seconds() < 5, (path, response.elapsed)
        listed = http.get("/api/v1/pools/").json()
        assert [row["id"] for row in listed["results"]] == [pool.pk]
        mine = http.get("/api/v1/portfolios/", headers={"Authorization": f"Token {token.key}"})
        assert mine.status_code == 200

        form = http.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        login = http.post("/accounts/login/", data={"csrfmiddlewaretoken": csrf, "login": user.email,
                                                     "password": PASSWORD})
        errors = re.findall(r"(?s)<ul class=\"errorlist.{0,300}", login.text)
        assert login.status_code == 302, errors or login.text[-3000:]
        assert http.get("/portfolios/").status_code == 200  # logged in: the dashboard

        # Still serving, so still in rotation (200), but not "ok"; the token shows what is down.
        health = http.get("/healthz", headers={"X-Health-Token": "t0ken-for-monitoring"})
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded"
        assert body["checks"]["cache"]["ok"] is False and body["checks"]["broker"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True


def test_a_tax_report_requested_while_redis_is_down_is_saved_as_queued(site, settings):
    user = UserFactory(email="erin@example.com")
    token = Token.objects.create(user=user)
    with httpx.Client(base_url=site, timeout=20, headers={"Authorization": f"Token {token.key}"}) as http:
        response = http.post("/api/v1/tax-reports/", json={"year": 2024, "jurisdiction": "us", "method": "fifo"})
    assert response.status_code in (201, 202), response.text
    report = TaxReport.objects.get(owner=user)
    assert report.status == TaxReport.Status.PENDING  # kept: a worker builds it once Redis is back
    assert response.json()["status"] == "pending"
