"""config.cache.FailOpenRedisCache: a dead Redis reads as an empty cache that lets every
caller go ahead, with one warning per outage; a live Redis is an ordinary cache."""

import logging

import pytest
from django.conf import settings

from config.cache import FailOpenRedisCache


def dead_cache() -> FailOpenRedisCache:
    return FailOpenRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})


def test_a_dead_redis_reads_as_misses_and_lets_writers_go_ahead(caplog):
    cache = dead_cache()
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert cache.get("k", "fallback") == "fallback"
        assert cache.add("lock", 1, 10) is True  # allauth's lock loop and our locks proceed
        assert cache.set("k", 1) is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("k") is False
        assert cache.delete("k") is False
        with pytest.raises(ValueError):
            cache.incr("counter")
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per call
    assert cache.is_down


def test_a_live_redis_behaves_as_a_normal_cache():
    if not settings.REDIS_URL:
        pytest.fail("this test needs REDIS_URL (make test sets it)")
    cache = FailOpenRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "yl-test-failopen"})
    cache.delete("k")
    assert cache.add("k", 1, 10) is True
    assert cache.add("k", 2, 10) is False  # a real SET NX: the second add loses
    assert cache.incr("k") == 2
    assert cache.get("k") == 2
    cache.delete("k")
    assert not cache.is_down


def test_the_configured_cache_fails_open():
    if not settings.REDIS_URL:
        pytest.fail("this test needs REDIS_URL (make test sets it)")
    assert settings.CACHES["default"]["BACKEND"] == "config.cache.FailOpenRedisCache"
    assert settings.CACHES["default"]["OPTIONS"]["socket_timeout"] <= 2
