"""/api/v1/pools/, chains/, protocols/, tokens/: public, read-only, cached, documented."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pools.models import PoolUnderlyingToken
from pools.services.risk import pool_risk_refresh
from tests.pools.cases import FILTER_CASES, ORDER_CASES
from tests.pools.factories import (
    ChainFactory,
    PoolFactory,
    PoolSnapshotFactory,
    TokenFactory,
    TokenPriceFactory,
)

pytestmark = pytest.mark.django_db


def names(catalogue, body) -> list[str]:
    by_id = {p.pk: k for k, p in catalogue.items()}
    return [by_id[row["id"]] for row in body["results"]]


@pytest.mark.parametrize("params, expected", FILTER_CASES)
def test_the_pool_list_filters_like_the_explorer(api_client, catalogue, params, expected):
    response = api_client.get("/api/v1/pools/", params)
    assert response.status_code == 200, response.content
    assert sorted(names(catalogue, response.json())) == sorted(expected)


@pytest.mark.parametrize("ordering, expected", ORDER_CASES)
def test_the_pool_list_sorts_like_the_explorer(api_client, catalogue, ordering, expected):
    response = api_client.get("/api/v1/pools/", {"ordering": ordering})
    assert names(catalogue, response.json()) == expected


def test_the_pool_list_is_public_and_decimals_are_strings(api_client, catalogue):
    body = api_client.get("/api/v1/pools/", {"chain": "base", "ordering": "apy"}).json()
    row = body["results"][0]
    assert body["count"] == 2
    assert row["symbol"] == "AERO-WETH"
    assert (row["chain"], row["protocol"], row["kind"]) == ("base", "uniswap-v3", "concentrated")
    assert row["apy"] == "85.0000000000"
    assert row["tvl_usd"] == "400000.00"
    assert row["apy_mean_30d"] is None


def test_bad_filter_values_are_a_400(api_client, catalogue):
    response = api_client.get("/api/v1/pools/", {"apy_min": "lots"})
    assert response.status_code == 400
    assert "apy_min" in response.json()["errors"]


def test_the_page_size_is_capped(api_client, db):
    PoolFactory.create_batch(3, chain=ChainFactory())
    body = api_client.get("/api/v1/pools/", {"page_size": 2}).json()
    assert len(body["results"]) == 2 and body["next"]


def test_responses_are_cached_for_a_minute(api_client, catalogue):
    first = api_client.get("/api/v1/pools/").json()
    PoolFactory(symbol="NEW-POOL", chain=catalogue["steth"].chain, tvl_usd=Decimal(1e12))
    with CaptureQueriesContext(connection) as ctx:
        again = api_client.get("/api/v1/pools/")
    assert again.json() == first
    assert len(ctx.captured_queries) == 0
    assert "max-age=60" in again["Cache-Control"]


def test_the_pool_detail_has_tokens_statistics_and_risk(api_client, catalogue):
    pool = catalogue["aero-weth"]
    aero = TokenFactory(chain=pool.chain, symbol="AERO")
    PoolUnderlyingToken.objects.create(pool=pool, token=aero, position=0)
    pool_risk_refresh(pool_ids=[pool.pk], as_of=date(2025, 10, 6))
    body = api_client.get(f"/api/v1/pools/{pool.pk}/").json()
    assert body["external_id"] == pool.external_id
    assert [t["symbol"] for t in body["underlying_tokens"]] == ["AERO"]
    assert body["reward_tokens"] == []
    assert {f["key"] for f in body["risk_factors"]} >= {"tvl", "reward_share", "audits"}
    assert body["risk_score"] == sum(f["points"] for f in body["risk_factors"])
    assert body["protocol_detail"]["slug"] == "uniswap-v3"


def test_an_inactive_pool_is_still_readable_by_id(api_client, catalogue):
    body = api_client.get(f"/api/v1/pools/{catalogue['gone'].pk}/").json()
    assert body["is_active"] is False


def test_pool_history_is_daily_oldest_first_and_can_be_limited(api_client, catalogue):
    pool = catalogue["weth-usdc"]
    today = datetime.now(UTC).date()
    for i in range(5):
        PoolSnapshotFactory(pool=pool, day=today - timedelta(days=i), apy=Decimal(i))
    rows = api_client.get(f"/api/v1/pools/{pool.pk}/history/").json()
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)
    assert len(rows) == 5 and rows[0]["apy"] == "4.0000000000"
    assert len(api_client.get(f"/api/v1/pools/{pool.pk}/history/", {"days": 2}).json()) == 3
    assert api_client.get(f"/api/v1/pools/{pool.pk}/history/", {"days": 0}).status_code == 400


def test_chains_and_protocols(api_client, catalogue):
    chains = api_client.get("/api/v1/chains/").json()["results"]  # paginated like every pools list
    assert [c["slug"] for c in chains] == ["base", "ethereum"]
    protocols = api_client.get("/api/v1/protocols/").json()["results"]
    assert {p["slug"] for p in protocols} == {"uniswap-v3", "curve-dex"}
    one = api_client.get("/api/v1/protocols/curve-dex/").json()
    assert one["audit_count"] is None and one["audit_links"] == []


def test_tokens_filter_by_symbol_chain_and_address(api_client, db):
    eth, base = ChainFactory(slug="ethereum", name="Ethereum"), ChainFactory(slug="base", name="Base")
    weth = TokenFactory(chain=eth, symbol="WETH", address="0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
    TokenFactory(chain=base, symbol="WETH")
    TokenFactory(chain=eth, symbol="USDC")
    assert api_client.get("/api/v1/tokens/", {"symbol": "weth"}).json()["count"] == 2
    only = api_client.get("/api/v1/tokens/", {"symbol": "weth", "chain": "ethereum"}).json()["results"]
    assert [t["id"] for t in only] == [weth.pk]
    by_address = api_client.get("/api/v1/tokens/", {"address": "0xC02AAA39B223FE8D0A0E5C4F27EAD9083C756CC2"})
    assert [t["id"] for t in by_address.json()["results"]] == [weth.pk]


def test_token_prices_are_daily_and_can_start_on_a_day(api_client, db):
    token = TokenFactory()
    for i in range(3):
        TokenPriceFactory(token=token, timestamp=datetime(2025, 9, 28 + i, tzinfo=UTC), price_usd=Decimal(2500 + i))
    rows = api_client.get(f"/api/v1/tokens/{token.pk}/prices/").json()
    assert [r["price_usd"] for r in rows] == ["2500.000000000000000000", "2501.000000000000000000",
                                              "2502.000000000000000000"]
    assert len(api_client.get(f"/api/v1/tokens/{token.pk}/prices/", {"since": "2025-09-29"}).json()) == 2


@pytest.mark.parametrize("url", ["/api/v1/pools/", "/api/v1/chains/", "/api/v1/protocols/", "/api/v1/tokens/"])
def test_every_endpoint_is_read_only(api_client, owner_api, db, url):
    assert api_client.post(url, {}).status_code in (403, 405)
    assert owner_api.post(url, {}).status_code == 405


def test_anonymous_clients_are_throttled_by_the_global_rate(api_client, db, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    assert "anon" in api_settings.DEFAULT_THROTTLE_RATES
    from pools.api.views import PoolViewSet

    assert AnonRateThrottle in [type(t) for t in PoolViewSet().get_throttles()]


def test_the_schema_documents_the_pool_endpoints_without_warnings(capsys):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ["/api/v1/pools/", "/api/v1/pools/{id}/", "/api/v1/pools/{id}/history/", "/api/v1/chains/",
                 "/api/v1/protocols/", "/api/v1/tokens/", "/api/v1/tokens/{id}/prices/"]:
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/v1/pools/"]["get"]["parameters"]}
    assert params >= {"chain", "protocol", "kind", "stablecoin", "no_il_risk", "single_exposure", "min_tvl",
                      "apy_min", "apy_max", "token", "ordering", "page", "page_size"}
    captured = capsys.readouterr()
    pool_warnings = [line for line in (captured.err + captured.out).splitlines() if "pools/" in line]
    assert pool_warnings == []
