"""Pool explorer and pool page (server-rendered, no JavaScript)."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.urls import reverse

from pools.models import PoolRewardToken, PoolUnderlyingToken
from pools.services.risk import pool_risk_refresh
from tests.pools.cases import FILTER_CASES, ORDER_CASES
from tests.pools.factories import (
    ChainFactory,
    PoolFactory,
    PoolSnapshotFactory,
    RefreshRunFactory,
    TokenFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal


def names(catalogue, response) -> list[str]:
    by_id = {p.pk: k for k, p in catalogue.items()}
    return [by_id[p.pk] for p in response.context["pools"]]


@pytest.mark.parametrize("params, expected", FILTER_CASES)
def test_the_explorer_filters(client, catalogue, params, expected):
    response = client.get(reverse("pools:explorer"), params)
    assert response.status_code == 200
    assert sorted(names(catalogue, response)) == sorted(expected)


@pytest.mark.parametrize("ordering, expected", ORDER_CASES)
def test_the_explorer_sorts(client, catalogue, ordering, expected):
    response = client.get(reverse("pools:explorer"), {"ordering": ordering})
    assert names(catalogue, response) == expected


def test_inactive_pools_are_not_listed(client, catalogue):
    response = client.get(reverse("pools:explorer"))
    assert catalogue["gone"].pk not in [p.pk for p in response.context["pools"]]


def test_invalid_filter_values_are_reported_not_fatal(client, catalogue):
    response = client.get(reverse("pools:explorer"), {"apy_min": "lots", "chain": "nowhere"})
    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()


def test_the_explorer_paginates_50_per_page_and_keeps_the_filters(client):
    chain = ChainFactory()
    PoolFactory.create_batch(60, chain=chain, symbol="USDC-DAI", tokens_key="-USDC-DAI-")
    first = client.get(reverse("pools:explorer"), {"token": "dai"})
    assert len(first.context["pools"]) == 50
    html = first.content.decode()
    assert "page=2" in html and "token=dai" in html
    second = client.get(reverse("pools:explorer"), {"token": "dai", "page": 2})
    assert len(second.context["pools"]) == 10


def test_the_explorer_says_how_fresh_the_data_is(client, catalogue):
    RefreshRunFactory(source="defillama", finished_at=datetime.now(UTC) - timedelta(minutes=20),
                      data_as_of=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    with patch("pools.selectors.timezone.now", return_value=datetime(2026, 3, 1, 13, 0, tzinfo=UTC)):
        html = client.get(reverse("pools:explorer")).content.decode()
    assert "Pool data as of" in html and "1 Mar 2026, 12:00" in html
    assert "stale" not in html


def test_the_explorer_warns_when_the_data_is_stale(client, catalogue):
    RefreshRunFactory(source="bundled", finished_at=datetime.now(UTC) - timedelta(hours=4),
                      data_as_of=datetime(2025, 10, 6, 7, 9, tzinfo=UTC))
    html = client.get(reverse("pools:explorer")).content.decode()
    assert "This data is stale" in html
    assert "bundled snapshot" in html


def test_the_explorer_says_when_nothing_was_loaded_yet(client):
    assert "No pool data has been loaded yet" in client.get(reverse("pools:explorer")).content.decode()


def test_only_succeeded_runs_count_for_freshness(client, catalogue):
    RefreshRunFactory(status="failed", data_as_of=None)
    assert "No pool data has been loaded yet" in client.get(reverse("pools:explorer")).content.decode()


# ------------------------------------------------------------------------------------------ detail page
@pytest.fixture
def pool_page(catalogue):
    pool = catalogue["aero-weth"]
    for i in range(10):
        PoolSnapshotFactory(pool=pool, day=date(2025, 9, 20) + timedelta(days=i), apy=D(80 + i),
                            apy_base=D(5), apy_reward=D(75 + i), tvl_usd=D(400_000 + i))
    weth, aero = TokenFactory(chain=pool.chain, symbol="WETH"), TokenFactory(chain=pool.chain, symbol="AERO")
    PoolUnderlyingToken.objects.create(pool=pool, token=aero, position=0)
    PoolUnderlyingToken.objects.create(pool=pool, token=weth, position=1)
    PoolRewardToken.objects.create(pool=pool, token=aero, position=0)
    pool.history_backfilled_at = datetime.now(UTC)
    pool.save()
    pool_risk_refresh(pool_ids=[pool.pk], as_of=date(2025, 10, 6))
    return pool


def test_the_pool_page_shows_metrics_history_and_tokens(client, pool_page):
    response = client.get(reverse("pools:detail", args=[pool_page.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "AERO-WETH" in html and "Uniswap V3" in html and "Base" in html
    assert "85.00%" in html and "$400.0k" in html
    assert html.count('<svg class="chart"') == 2
    assert "Base (fees)" in html and "Rewards" in html  # APY split into base and reward
    assert "10 daily points since 20 Sep 2025" in html
    assert html.index("AERO</strong>") < html.index("WETH</strong>")


def test_the_pool_page_shows_the_risk_breakdown(client, pool_page):
    pool_page.refresh_from_db()
    html = client.get(reverse("pools:detail", args=[pool_page.pk])).content.decode()
    assert "Risk breakdown" in html
    for factor in pool_page.risk_factors:
        assert factor["label"] in html
    assert f"{pool_page.risk_score} / 100" in html
    assert "<meter" in html


def test_the_pool_page_links_the_right_articles(client, pool_page):
    html = client.get(reverse("pools:detail", args=[pool_page.pk])).content.decode()
    assert 'href="/learn/articles/impermanent-loss/"' in html
    assert 'href="/learn/articles/concentrated-liquidity/"' in html
    assert 'href="/learn/articles/apr-vs-apy-and-real-yield/"' in html  # 94 % of the APY is rewards
    assert 'href="/learn/articles/evaluating-a-pool/"' in html


def test_a_stable_fee_pool_links_only_the_evaluation_article(client, catalogue):
    pool = catalogue["steth"]
    pool.history_backfilled_at = datetime.now(UTC)
    pool.save()
    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()
    assert "/learn/articles/impermanent-loss/" not in html
    assert "/learn/articles/apr-vs-apy-and-real-yield/" not in html
    assert "/learn/articles/concentrated-liquidity/" not in html
    assert "/learn/articles/evaluating-a-pool/" in html


def test_the_pool_page_offers_to_add_it_to_a_portfolio(client, pool_page):
    html = client.get(reverse("pools:detail", args=[pool_page.pk])).content.decode()
    assert f'href="/portfolios/positions/new/?pool={pool_page.pk}"' in html


def test_an_inactive_pool_still_has_a_page_that_says_so(client, catalogue):
    html = client.get(reverse("pools:detail", args=[catalogue["gone"].pk])).content.decode()
    assert "inactive" in html


def test_an_unknown_pool_is_404(client, db):
    assert client.get(reverse("pools:detail", args=[999999])).status_code == 404


def test_the_first_view_of_a_pool_enqueues_its_history_backfill_once(client, catalogue,
                                                                   django_capture_on_commit_callbacks):
    pool = catalogue["weth-usdc"]
    with patch("pools.tasks.backfill_pool_history.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            first = client.get(reverse("pools:detail", args=[pool.pk]))
            client.get(reverse("pools:detail", args=[pool.pk]))
    delay.assert_called_once_with(pool_id=pool.pk)
    assert "Loading this pool" in first.content.decode()


def test_a_backfilled_pool_is_not_enqueued_again(client, pool_page, django_capture_on_commit_callbacks):
    with patch("pools.tasks.backfill_pool_history.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            client.get(reverse("pools:detail", args=[pool_page.pk]))
    delay.assert_not_called()


def test_the_pages_load_their_own_stylesheet_and_no_inline_script(client, pool_page):
    scripts = {
        reverse("pools:explorer"): ['<script src="/static/js/charts.js" defer>',
                                    '<script src="/static/pools/filters.js" defer>'],
        reverse("pools:detail", args=[pool_page.pk]): ['<script src="/static/js/charts.js" defer>'],
    }
    for url, expected in scripts.items():
        html = client.get(url).content.decode()
        assert "pools/pools.css" in html
        # Static files only: the chart value caption, the explorer's filter panel (CSP: script-src 'self').
        assert re.findall(r"<script[^>]*>", html) == expected
        assert 'style="' not in html  # CSP: no inline styles


def test_the_pool_page_says_how_many_days_its_own_mean_covers(client):
    pool = PoolFactory(apy_mean_30d=D("12"), apy_mean_30d_computed=True)
    today = date.today()
    for back in range(5):
        PoolSnapshotFactory(pool=pool, day=today - timedelta(days=back), apy=D("12"))
    PoolSnapshotFactory(pool=pool, day=today - timedelta(days=45), apy=D("30"))  # outside the window
    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()
    assert "our own: the mean of 5 daily APYs in the last 30 days" in html
