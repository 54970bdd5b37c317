import pytest
from django.test import override_settings

from config.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_cache_and_broker_answer(client, settings):
    response = client.get("/healthz")
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


def test_healthz_is_503_when_the_broker_is_down(client, as_deployed):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False


def test_healthz_is_503_when_the_cache_is_down(client):
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=caches):  # Django rebuilds the cache handler on this change
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


def test_healthz_reports_a_missing_worker_as_degraded(client, settings, as_deployed):
    if not settings.REDIS_URL:
        pytest.fail("this test needs REDIS_URL (make test sets it)")
    response = client.get("/healthz")
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
