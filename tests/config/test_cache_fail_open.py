"""The cache fails open (config/cache.py): with Redis unreachable, cache calls miss instead of
raising, a warning is logged, and logging in still works (the limits stop counting)."""

import logging

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

DEAD = {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


@pytest.fixture
def dead_redis(caplog):
    with override_settings(CACHES=DEAD), caplog.at_level(logging.WARNING, logger="config.cache"):
        yield caplog


def test_calls_miss_instead_of_raising_and_warn(dead_redis):
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k", 1, 10) is True
    cache.set("k", 1, 10)
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False
    assert "serving without the cache" in dead_redis.text


@pytest.mark.django_db
def test_logging_in_and_the_api_work_while_redis_is_down(dead_redis, client, owner, password):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": password})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    token = client.post("/api/v1/auth/token/", {"email": owner.email, "password": password},
                        content_type="application/json")
    assert token.status_code == 200
