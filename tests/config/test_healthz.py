from unittest.mock import patch

import pytest
from django.db import OperationalError
from django.test import override_settings

from config.celery import app

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-monitoring-token"


@pytest.fixture
def monitor(client, settings):
    """A monitoring client without a session: it sees the details through HEALTH_TOKEN."""
    settings.HEALTH_TOKEN = TOKEN
    client.defaults["HTTP_X_HEALTH_TOKEN"] = TOKEN
    return client


def test_healthz_is_ok_when_database_cache_and_broker_answer(monitor, settings):
    response = monitor.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    if settings.REDIS_URL:
        assert body["checks"]["broker"]["mode"] == "redis"


@pytest.fixture
def as_deployed():
    """Tasks go through the broker, as whenever REDIS_URL is set outside tests."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_healthz_says_degraded_but_200_when_the_broker_is_down(monitor, as_deployed):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    # Pages and the API still work (the cache fails open), so the instance stays in rotation.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = monitor.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False


def test_healthz_says_degraded_when_the_cache_is_down(monitor):
    caches = {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=caches):  # Django rebuilds the cache handler on this change
        response = monitor.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False


def test_healthz_is_503_when_the_database_is_down(monitor):
    with patch("config.health.connection.cursor", side_effect=OperationalError("connection refused")):
        response = monitor.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_healthz_shows_only_the_status_to_the_public(client, settings):
    settings.HEALTH_TOKEN = TOKEN
    assert client.get("/healthz").json() == {"status": "ok"}
    wrong = client.get("/healthz", HTTP_X_HEALTH_TOKEN="guess")
    assert set(wrong.json()) == {"status"}


def test_healthz_token_is_off_when_unset(client, settings):
    settings.HEALTH_TOKEN = ""
    assert set(client.get("/healthz", HTTP_X_HEALTH_TOKEN="").json()) == {"status"}


def test_healthz_shows_details_to_staff(admin_client, client, django_user_model):
    body = admin_client.get("/healthz").json()
    assert body["checks"]["database"]["vendor"] == "postgresql"
    assert set(body["checks"]["refresh"]["last_succeeded"]) == {"pools", "prices", "fx"}
    user = django_user_model.objects.create_user("plain@example.com", "pw-12345-abcde")
    client.force_login(user)
    assert set(client.get("/healthz").json()) == {"status"}


def test_healthz_gives_the_last_refresh_times(monitor):
    from pools.models import RefreshRun
    from tests.pools.factories import RefreshRunFactory

    run = RefreshRunFactory(kind=RefreshRun.Kind.FX, status=RefreshRun.Status.SUCCEEDED)
    refresh = monitor.get("/healthz").json()["checks"]["refresh"]
    assert refresh["last_succeeded"]["fx"] == run.finished_at.isoformat()
    assert refresh["last_succeeded"]["pools"] is None


def test_healthz_reports_a_missing_worker_as_degraded(monitor, settings, as_deployed):
    if not settings.REDIS_URL:
        pytest.fail("this test needs REDIS_URL (make test sets it)")
    response = monitor.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False


def test_api_docs_allow_inline_styles_only_there(client):
    docs = client.get("/api/docs/")
    home = client.get("/")
    assert "'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "'unsafe-inline'" not in home["Content-Security-Policy"]
    assert "script-src 'self'" in home["Content-Security-Policy"]


def test_favicon_ico_redirects_to_the_packaged_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"
