import pytest
from django.core.cache import cache

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached pages live in the cache (Redis in CI):
    every test starts from an empty one."""
    cache.clear()
    yield


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
