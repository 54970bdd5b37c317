"""Issue 13, item 4 for the pools lists: one vocabulary. ``?ordering=key`` ascending and
``-key`` descending on every list, the same pagination and envelope, junk refused with a
400 that names the parameter."""

from __future__ import annotations

from datetime import date

import pytest

from tests.pools.factories import ChainFactory, PoolFactory, ProtocolFactory, TokenFactory

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/pools/", "/api/v1/chains/", "/api/v1/protocols/", "/api/v1/tokens/"]


@pytest.fixture
def reference_data(db):
    chains = [
        ChainFactory(slug=s, name=n) for s, n in [("base", "Base"), ("arbitrum", "Arbitrum"), ("ethereum", "Ethereum")]
    ]
    protocols = [
        ProtocolFactory(slug="curve-dex", name="Curve DEX", launch_date=date(2020, 1, 1)),
        ProtocolFactory(slug="uniswap-v3", name="Uniswap V3", launch_date=date(2021, 5, 1)),
        ProtocolFactory(slug="aave-v3", name="Aave V3", launch_date=None),
    ]
    tokens = [TokenFactory(chain=chains[0], symbol=s) for s in ("WETH", "AERO", "USDC")]
    PoolFactory(chain=chains[0], protocol=protocols[0])
    PoolFactory(chain=chains[1], protocol=protocols[1])
    return chains, protocols, tokens


def _values(body, key):
    return [row[key] for row in body["results"]]


@pytest.mark.parametrize(
    "url, ordering, key, expected",
    [
        ("/api/v1/chains/", "name", "name", ["Arbitrum", "Base", "Ethereum"]),
        ("/api/v1/chains/", "-name", "name", ["Ethereum", "Base", "Arbitrum"]),
        ("/api/v1/chains/", "slug", "slug", ["arbitrum", "base", "ethereum"]),
        ("/api/v1/protocols/", "name", "slug", ["aave-v3", "curve-dex", "uniswap-v3"]),
        ("/api/v1/protocols/", "-name", "slug", ["uniswap-v3", "curve-dex", "aave-v3"]),
        ("/api/v1/protocols/", "launch_date", "slug", ["curve-dex", "uniswap-v3", "aave-v3"]),  # unknown last
        ("/api/v1/protocols/", "-launch_date", "slug", ["uniswap-v3", "curve-dex", "aave-v3"]),  # ... either way
        ("/api/v1/tokens/", "symbol", "symbol", ["AERO", "USDC", "WETH"]),
        ("/api/v1/tokens/", "-symbol", "symbol", ["WETH", "USDC", "AERO"]),
    ],
)
def test_every_pools_list_sorts_ascending_by_key_and_descending_by_minus_key(
    api_client, reference_data, url, ordering, key, expected
):
    response = api_client.get(url, {"ordering": ordering})
    assert response.status_code == 200, response.content
    assert _values(response.json(), key) == expected


@pytest.mark.parametrize("url", LISTS)
def test_an_unknown_ordering_is_a_400_naming_the_parameter(api_client, reference_data, url):
    response = api_client.get(url, {"ordering": "price_of_tea"})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


@pytest.mark.parametrize("url", LISTS)
def test_every_pools_list_has_the_same_envelope_and_page_parameters(api_client, reference_data, url):
    body = api_client.get(url, {"page_size": 1, "page": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == 1 and body["previous"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("junk", ["null", "abc", "0", "-1", "1.5", "201", "", "1e3"])
def test_a_junk_page_size_is_refused_with_a_400_naming_it(api_client, reference_data, url, junk):
    response = api_client.get(url, {"page_size": junk})
    assert response.status_code == 400, response.content
    assert "page_size" in response.json()["errors"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("junk", ["null", "abc", "0", "-2"])
def test_a_junk_page_is_refused_with_a_400_naming_it(api_client, reference_data, url, junk):
    response = api_client.get(url, {"page": junk})
    assert response.status_code == 400
    assert "page" in response.json()["errors"]


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_a_404_as_drf_says(api_client, reference_data, url):
    assert api_client.get(url, {"page": 99}).status_code == 404


def test_the_chain_filter_takes_any_spelling_of_a_chain(api_client, db):
    PoolFactory(chain=ChainFactory(slug="opbnb", name="opBNB"))
    for spelling in ("opbnb", "op_bnb", "Op_bnb", "opBNB"):
        body = api_client.get("/api/v1/pools/", {"chain": spelling}).json()
        assert body["count"] == 1, spelling
    tokens = api_client.get("/api/v1/tokens/", {"chain": "Op_bnb"})
    assert tokens.status_code == 200


def test_the_schema_documents_the_orderings(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in LISTS:
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "ordering" in params and "page_size" in params, path
    pool_orderings = schema["paths"]["/api/v1/pools/"]["get"]["parameters"]
    ordering = next(p for p in pool_orderings if p["name"] == "ordering")
    assert {"apy", "-apy", "tvl", "-tvl", "risk", "-risk"} <= set(ordering["schema"]["enum"])


def test_the_fast_list_rows_equal_what_drf_would_write(api_client, catalogue):
    """PoolListOut builds rows by hand for speed: the same output as DRF's own fields."""
    from decimal import Decimal

    from rest_framework import serializers

    from pools.api.serializers import PoolListOut
    from pools.models import Pool
    from pools.selectors import pool_list_base

    class Generic(PoolListOut):  # a subclass takes DRF's field-by-field path
        pass

    Pool.objects.filter(pk=catalogue["steth"].pk).update(apy_reward=Decimal("0E-10"), address="0xabc")
    rows = list(pool_list_base().order_by("id"))
    assert isinstance(PoolListOut().fields["tvl_usd"], serializers.DecimalField)
    assert PoolListOut(rows, many=True).data == Generic(rows, many=True).data
    steth = next(r for r in PoolListOut(rows, many=True).data if r["id"] == catalogue["steth"].pk)
    assert steth["apy_reward"] == "0.0000000000" and steth["name"].startswith("STETH")
