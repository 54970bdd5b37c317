"""Issue 16, item 3: an explorer that surfaces real pools. Fee tier and meta wherever a pool
is named, APY sorts without outliers and dust pools by default (with a switch), native
coins finding their wrapped tokens, one row per chain, and only kinds that have pools.
Issue 13, item 4: the sort choices are the API's ordering values."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from pools.filters import ORDERING_CHOICES
from pools.models import Chain, Pool, PoolRewardToken, PoolUnderlyingToken, Token, TokenPrice
from pools.services.ingest import pools_ingest
from tests.pools.conftest import make_batch, records_from
from tests.pools.factories import ChainFactory, PoolFactory, ProtocolFactory, TokenFactory

pytestmark = pytest.mark.django_db

D = Decimal


def _listed(response) -> list[str]:
    return [p.symbol for p in response.context["pools"]]


# ------------------------------------------------------------------------------------------ names
def test_same_symbol_pools_are_told_apart_by_fee_tier_in_the_list_and_on_the_page(client):
    eth, uni = ChainFactory(), ProtocolFactory(slug="uniswap-v3", name="Uniswap V3")
    five = PoolFactory(chain=eth, protocol=uni, symbol="USDC-WETH", meta="0.05%", tvl_usd=D(2e8))
    thirty = PoolFactory(chain=eth, protocol=uni, symbol="USDC-WETH", meta="0.3%", tvl_usd=D(1e8))
    html = client.get(reverse("pools:explorer")).content.decode()
    assert "USDC-WETH 0.05\u00a0%" in html and "USDC-WETH 0.3\u00a0%" in html
    page = client.get(reverse("pools:detail", args=[five.pk])).content.decode()
    assert "<title>USDC-WETH 0.05\u00a0% · Uniswap V3 · Ethereum · Yieldledger</title>" in page
    assert thirty.display_name == "USDC-WETH 0.3\u00a0% · Uniswap V3 · Ethereum"


def test_without_meta_the_pool_contract_tells_pools_apart(client):
    pool = PoolFactory(symbol="USDC-WETH", meta="", address="0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640")
    html = client.get(reverse("pools:explorer")).content.decode()
    assert (
        '>USDC-WETH</a> <span class="muted small" title="Pool contract 0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640">'
        "0x88e6…5640</span>" in html
    )
    assert pool.label == "USDC-WETH pool 0x88e6…5640"


def test_the_bundled_data_keeps_the_pool_contract_address(db):
    from tests.pools.conftest import DEX, fixture_items

    items = fixture_items(DEX)[:3]
    pools_ingest(batch=make_batch(records_from(items)))
    pool = Pool.objects.get(external_id=items[0]["pool"])
    assert pool.address == items[0]["pool_old"].lower() != ""


def test_the_pool_name_filter_is_there_for_other_apps():
    from django.template import Context, Template

    pool = PoolFactory(symbol="WETH-USDC", meta="CL200 - 0.3%")
    html = Template("{% load pools_tags %}{{ pool|pool_name }}").render(Context({"pool": pool}))
    assert html == f"WETH-USDC CL200 0.3\u00a0% · {pool.protocol.name} · {pool.chain.name}"


# ------------------------------------------------------------------------------------------ APY sorts
@pytest.fixture
def yields(db):
    eth, proto = ChainFactory(), ProtocolFactory()
    return {
        "big": PoolFactory(chain=eth, protocol=proto, symbol="BIG", tvl_usd=D(5e7), apy=D(12)),
        "dust": PoolFactory(chain=eth, protocol=proto, symbol="DUST", tvl_usd=D(12000), apy=D(234514)),
        "flagged": PoolFactory(chain=eth, protocol=proto, symbol="FLAGGED", tvl_usd=D(9e6), apy=D(40), outlier=True),
        "wild": PoolFactory(chain=eth, protocol=proto, symbol="WILD", tvl_usd=D(3e6), apy=D(5000)),
        "fine": PoolFactory(chain=eth, protocol=proto, symbol="FINE", tvl_usd=D(2e5), apy=D(30)),
    }


@pytest.mark.parametrize("ordering", ["-apy", "apy", "-apy_base", "apy_reward", "-apy_mean_30d"])
def test_apy_sorts_leave_out_outliers_and_small_pools_by_default(client, api_client, yields, ordering):
    page = client.get(reverse("pools:explorer"), {"ordering": ordering})
    assert sorted(_listed(page)) == ["BIG", "FINE"]
    assert "Show all pools" in page.content.decode()
    api = api_client.get("/api/v1/pools/", {"ordering": ordering}).json()
    assert sorted(r["symbol"] for r in api["results"]) == ["BIG", "FINE"]


def test_the_switch_shows_every_pool(client, api_client, yields):
    page = client.get(reverse("pools:explorer"), {"ordering": "-apy", "show_all": "true"})
    assert _listed(page) == ["DUST", "WILD", "FLAGGED", "FINE", "BIG"]
    api = api_client.get("/api/v1/pools/", {"ordering": "-apy", "show_all": "true"}).json()
    assert [r["symbol"] for r in api["results"]] == ["DUST", "WILD", "FLAGGED", "FINE", "BIG"]


def test_other_sorts_show_every_pool(client, yields):
    assert len(_listed(client.get(reverse("pools:explorer"), {"ordering": "-tvl"}))) == 5
    assert "Show all pools</a>" not in client.get(reverse("pools:explorer")).content.decode()


def test_the_floor_and_the_outlier_cap_are_settings(client, yields, settings):
    settings.POOL_APY_SORT_MIN_TVL_USD = 10_000
    settings.POOL_APY_OUTLIER_PCT = 10_000
    assert _listed(client.get(reverse("pools:explorer"), {"ordering": "-apy"})) == ["WILD", "FINE", "BIG"]


# ------------------------------------------------------------------------------------------ sorting vocabulary
def test_the_sort_menu_offers_api_ordering_values_with_plain_labels(client, catalogue):
    html = client.get(reverse("pools:explorer")).content.decode()
    assert '<option value="-apy">APY, highest first</option>' in html
    assert '<option value="apy">APY, lowest first</option>' in html
    menu = html[html.index('name="ordering"') :]
    assert menu.index('<option value="-tvl"') < menu.index("<option value=", menu.index('<option value="-tvl"') + 1)
    assert '<option value="-tvl">TVL, largest first</option>' in menu  # the first choice: the default
    assert dict(ORDERING_CHOICES)["risk"] == "Risk, lowest first"


def test_a_column_header_sorts_its_natural_way_first_then_flips(client, catalogue):
    headers = {h["key"]: h for h in client.get(reverse("pools:explorer")).context["headers"]}
    assert headers["apy"]["href"].endswith("ordering=-apy") and headers["risk"]["href"].endswith("ordering=risk")
    assert headers["tvl"]["aria_sort"] == "descending" and headers["tvl"]["href"].endswith("ordering=tvl")
    flipped = {h["key"]: h for h in client.get(reverse("pools:explorer"), {"ordering": "-apy"}).context["headers"]}
    assert flipped["apy"]["aria_sort"] == "descending" and flipped["apy"]["href"].endswith("ordering=apy")


# ------------------------------------------------------------------------------------------ native / wrapped
def test_a_search_for_a_native_coin_finds_its_wrapped_token_pools(client):
    chain = ChainFactory()
    PoolFactory(chain=chain, symbol="WETH-USDT", tokens_key="-WETH-USDT-", tvl_usd=D(1.7e8))
    PoolFactory(chain=chain, symbol="WSTETH-ETH", tokens_key="-WSTETH-ETH-")
    PoolFactory(chain=chain, symbol="WBNB-USDT", tokens_key="-WBNB-USDT-")
    PoolFactory(chain=chain, symbol="STETH-USDC", tokens_key="-STETH-USDC-")
    assert sorted(_listed(client.get(reverse("pools:explorer"), {"token": "ETH"}))) == ["WETH-USDT", "WSTETH-ETH"]
    assert _listed(client.get(reverse("pools:explorer"), {"token": "bnb"})) == ["WBNB-USDT"]


# ------------------------------------------------------------------------------------------ chains
def test_two_spellings_of_a_chain_become_one_chain_at_ingest(db):
    from tests.pools.conftest import fixture_items

    items = fixture_items()[:4]
    items[0] = {**items[0], "chain": "Op_bnb"}
    items[1] = {**items[1], "chain": "Opbnb"}
    pools_ingest(batch=make_batch(records_from(items)))
    chain = Chain.objects.get(slug="opbnb")
    assert chain.name == "opBNB"
    assert Pool.objects.filter(chain=chain).count() == 2
    assert not Chain.objects.filter(slug__in=["op_bnb", "Opbnb"]).exists()


def test_the_data_migration_merges_chains_that_are_one(db):
    """Chains stored before normalisation ("op_bnb" and "opbnb") are merged, tokens with
    them: links and prices of a token present on both move to the survivor."""
    merge = importlib.import_module("pools.migrations.0009_merge_chain_spellings")
    old = Chain.objects.create(slug="op_bnb", name="Op_bnb")
    new = Chain.objects.create(slug="opbnb_old", name="Opbnb")
    wbnb_old = TokenFactory(chain=old, address="0x4200000000000000000000000000000000000006", symbol="WBNB")
    wbnb_new = TokenFactory(chain=new, address="0x4200000000000000000000000000000000000006", symbol="WBNB")
    only_old = TokenFactory(chain=old, address="0x9e5aac1ba1a2e6aed6b32689dfcf62a509ca96f3", symbol="USDT")
    a, b = PoolFactory(chain=old), PoolFactory(chain=new)
    PoolFactory(chain=new)
    PoolUnderlyingToken.objects.create(pool=a, token=wbnb_old, position=0)
    PoolUnderlyingToken.objects.create(pool=b, token=wbnb_new, position=0)
    PoolRewardToken.objects.create(pool=a, token=wbnb_old, position=0)
    day = datetime(2025, 10, 1, tzinfo=UTC)
    TokenPrice.objects.create(token=wbnb_old, timestamp=day, price_usd=D(600))
    TokenPrice.objects.create(token=wbnb_new, timestamp=day, price_usd=D(601))
    TokenPrice.objects.create(token=wbnb_old, timestamp=day.replace(day=2), price_usd=D(610))

    merge.merge_chains(apps, None)
    merge.merge_chains(apps, None)  # a re-run changes nothing

    chain = Chain.objects.get()
    assert (chain.pk, chain.slug, chain.name) == (new.pk, "opbnb", "opBNB")  # the one with more pools
    assert Pool.objects.filter(chain=chain).count() == 3
    assert list(Token.objects.filter(address=wbnb_new.address).values_list("pk", flat=True)) == [wbnb_new.pk]
    assert Token.objects.get(pk=only_old.pk).chain == chain
    assert set(PoolUnderlyingToken.objects.values_list("pool_id", "token_id")) == {
        (a.pk, wbnb_new.pk),
        (b.pk, wbnb_new.pk),
    }
    assert PoolRewardToken.objects.get().token_id == wbnb_new.pk
    prices = dict(TokenPrice.objects.filter(token=wbnb_new).values_list("timestamp__day", "price_usd"))
    assert prices == {1: D(601), 2: D(610)}  # the survivor's own price wins a clash


def test_the_explorer_lists_each_chain_once_by_its_normalised_name(client):
    from tests.pools.conftest import fixture_items

    items = fixture_items()[:4]
    items[0], items[1] = {**items[0], "chain": "Op_bnb"}, {**items[1], "chain": "Opbnb"}
    pools_ingest(batch=make_batch(records_from(items)))
    html = client.get(reverse("pools:explorer")).content.decode()
    assert html.count(">opBNB</option>") == 1 and "Op_bnb" not in html and "Opbnb" not in html


# ------------------------------------------------------------------------------------------ kinds
def test_only_kinds_that_have_pools_are_offered_with_their_counts(client, catalogue):
    form = client.get(reverse("pools:explorer")).context["filter"].form
    offered = dict(form.fields["kind"].widget.choices)
    assert offered == {
        "": "All kinds",
        "concentrated": "Concentrated liquidity (2)",
        "stableswap": "Stableswap (1)",
        "liquid_staking": "Liquid staking (1)",
        "amm": "Constant-product AMM (1)",
    }


def test_a_kind_without_pools_says_why(client, catalogue):
    response = client.get(reverse("pools:explorer"), {"kind": "lending"})
    assert response.status_code == 200 and _listed(response) == []
    assert "No lending pools in the current data" in response.content.decode()


def test_the_kind_counts_follow_a_refresh(client, catalogue):
    client.get(reverse("pools:explorer"))  # cached now
    from tests.pools.conftest import fixture_items

    pools_ingest(batch=make_batch(records_from(fixture_items()[:2])))  # bumps the data version on commit
    from django.db import connection

    for callback in connection.run_on_commit:  # the test's transaction never commits
        callback[1]()
    offered = dict(client.get(reverse("pools:explorer")).context["filter"].form.fields["kind"].widget.choices)
    concentrated = Pool.objects.filter(is_active=True, kind="concentrated").count()
    assert concentrated > 2
    assert offered["concentrated"] == f"Concentrated liquidity ({concentrated})"


def test_the_grade_meanings_are_on_the_pool_page(client):
    pool = PoolFactory(risk_score=55, risk_grade="D")
    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()
    from django.utils.html import escape

    from pools.risk import GRADE_MEANINGS

    assert "What the grades mean" in html
    for _grade, low, high, meaning in GRADE_MEANINGS:
        assert f"{low}–{high}" in html and escape(meaning) in html
    assert html.count("(this pool)") == 1
