"""The pool list's hand-built rows equal DRF's field-by-field output, in UTC and in another
current time zone (the datetime is written without building the serializer's fields)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from pools.api.serializers import PoolListOut
from pools.selectors import pool_list_base
from tests.pools.factories import PoolFactory

pytestmark = pytest.mark.django_db


class GenericPoolListOut(PoolListOut):
    """The same declared fields through DRF's own machinery."""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_hand_built_rows_match_drf(zone):
    made = [PoolFactory(last_seen_at=datetime(2025, 10, 6, 12, 30, 15, 123456, tzinfo=UTC)),
            PoolFactory(last_seen_at=datetime(2025, 7, 1, 23, 59, tzinfo=UTC), apy=None, risk_score=None)]
    pools = list(pool_list_base().filter(pk__in=[p.pk for p in made]).order_by("pk"))  # as the list reads them
    with timezone.override(zone):
        for pool in pools:
            assert PoolListOut(pool).data == GenericPoolListOut(pool).data
    with timezone.override("UTC"):
        assert PoolListOut(pools[0]).data["last_seen_at"] == "2025-10-06T12:30:15.123456Z"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["show_all=-282857", "stablecoin=1", "no_il_risk=yes",
                                   "show_all=true&show_all=false"])
def test_a_boolean_filter_takes_true_or_false_only(client, query):
    response = client.get(f"/api/v1/pools/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [query.split("=")[0]]


@pytest.mark.django_db
def test_true_and_false_are_accepted(client):
    assert client.get("/api/v1/pools/?show_all=true&stablecoin=false").status_code == 200
