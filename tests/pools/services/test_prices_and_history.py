"""Token prices (refresh, history, lookups) and pool history backfill."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import httpx
import pytest
from celery.exceptions import Retry

from pools.models import Pool, PoolSnapshot, RefreshRun, Token, TokenPrice
from pools.selectors import token_get, token_price_row_at, token_search, tokens_in_use
from pools.services.prices import prices_refresh, token_price_fetch, token_prices_load_bundled
from pools.services.refresh import pool_history_backfill
from pools.services.tokens import token_get_or_create, token_set_tracked
from pools.sources import DefiLlamaCoinsSource, SourceError
from pools.tasks import backfill_pool_history
from tests.pools.conftest import Transport, fixture_bytes, json_response, llama_source
from tests.pools.factories import ChainFactory, PoolFactory, TokenFactory, TokenPriceFactory

pytestmark = pytest.mark.django_db

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
CHART = "chart-10137e20-efbc-4e15-a733-17ecb52c48e8.json"


@pytest.fixture
def weth(db):
    return token_get_or_create(chain="Ethereum", address=WETH.upper().replace("0X", "0x"), symbol="WETH")


def test_a_token_is_created_once_whatever_the_address_case(weth):
    again = token_get_or_create(chain="ethereum", address=WETH, symbol="WETH")
    assert again.pk == weth.pk
    assert (weth.address, weth.price_id, weth.price_symbol) == (WETH, f"ethereum:{WETH}", "ETH")
    assert token_get(chain="Ethereum", address=WETH.upper().replace("0X", "0x")) == weth
    assert list(token_search(symbol="weth")) == [weth]


def test_tokens_in_use_are_tracked_tokens_and_tokens_of_big_active_pools(db):
    chain = ChainFactory()
    tracked, in_big, in_small, in_inactive, no_price = (TokenFactory(chain=chain) for _ in range(5))
    no_price.price_id = ""
    no_price.save()
    token_set_tracked(token_ids=[tracked.pk, no_price.pk])
    for token, tvl, active in ((in_big, 5e7, True), (in_small, 1e5, True), (in_inactive, 5e7, False)):
        pool = PoolFactory(chain=chain, tvl_usd=Decimal(tvl), is_active=active)
        pool.underlying_tokens.add(token)
    assert set(tokens_in_use()) == {tracked, in_big}


def test_token_set_tracked_is_idempotent(weth):
    assert token_set_tracked(token_ids=[weth.pk]) == 1
    assert token_set_tracked(token_ids=[weth.pk]) == 0
    assert token_set_tracked(token_ids=[weth.pk], tracked=False) == 1


def test_bundled_prices_load_as_daily_history(weth):
    written = token_prices_load_bundled(tokens=[weth])
    assert written > 2800  # ETH from 2017-11-09 to 2025-09-30
    first = TokenPrice.objects.filter(token=weth).order_by("timestamp").first()
    assert first.timestamp == datetime(2017, 11, 9, tzinfo=UTC)
    weth.refresh_from_db()
    assert weth.last_price_at == datetime(2025, 9, 30, tzinfo=UTC)
    assert token_prices_load_bundled(tokens=[weth]) == 0  # idempotent


def test_the_price_at_a_time_is_that_days_price_or_the_day_before(weth):
    TokenPriceFactory(token=weth, timestamp=datetime(2025, 9, 28, tzinfo=UTC), price_usd=Decimal(4000))
    TokenPriceFactory(token=weth, timestamp=datetime(2025, 9, 30, tzinfo=UTC), price_usd=Decimal(4100))
    assert token_price_row_at(token=weth, when=datetime(2025, 9, 30, 18, 0, tzinfo=UTC)).price_usd == 4100
    assert token_price_row_at(token=weth, when=date(2025, 9, 29)).price_usd == 4000
    assert token_price_row_at(token=weth, when=date(2025, 10, 9)) is None  # older than 3 days
    assert token_price_row_at(token=weth, when=date(2025, 10, 9), max_age=None).price_usd == 4100
    assert token_price_row_at(token=weth, when=date(2020, 1, 1)) is None


def test_history_on_demand_fetches_and_stores_a_missing_day(weth):
    price = token_price_fetch(token=weth, when=datetime(2021, 3, 15, 14, 0, tzinfo=UTC))
    assert price.timestamp == datetime(2021, 3, 15, tzinfo=UTC)
    assert price.price_usd > 1000
    assert token_price_fetch(token=weth, when=date(2021, 3, 15)) == price  # stored: no second fetch


def test_the_bundled_price_refresh_updates_latest_prices(weth):
    token_set_tracked(token_ids=[weth.pk])
    run = prices_refresh(source_name="bundled")
    assert (run.status, run.updated) == ("succeeded", 1)
    weth.refresh_from_db()
    assert weth.last_price_at == datetime(2025, 9, 30, tzinfo=UTC)
    assert prices_refresh(source_name="bundled").updated == 0


def _coins(transport):
    return DefiLlamaCoinsSource(client=httpx.Client(transport=httpx.MockTransport(transport)), retries=0,
                                sleep=lambda _s: None)


def test_the_live_price_refresh_reads_coins_llama_fi(weth):
    token_set_tracked(token_ids=[weth.pk])
    transport = Transport(json_response(fixture_bytes("coins-current-weth-fun.json")))
    with patch("pools.services.prices.get_source", return_value=_coins(transport)):
        run = prices_refresh(source_name="defillama")
    assert run.status == "succeeded"
    assert f"ethereum:{WETH}" in str(transport.requests[0].url)
    weth.refresh_from_db()
    assert weth.last_price_usd == Decimal("1582.85")
    assert weth.last_price_at == datetime.fromtimestamp(1667555277, tz=UTC)
    price = TokenPrice.objects.get(token=weth)
    assert (price.timestamp, price.source) == (datetime(2022, 11, 4, tzinfo=UTC), "llama_coins")


def test_a_failed_price_refresh_is_recorded_and_raised(weth):
    token_set_tracked(token_ids=[weth.pk])
    transport = Transport(json_response(b"{}", status=500))
    with patch("pools.services.prices.get_source", return_value=_coins(transport)), pytest.raises(SourceError):
        prices_refresh(source_name="defillama")
    assert RefreshRun.objects.get(kind="prices").status == "failed"
    assert not TokenPrice.objects.exists()


# ------------------------------------------------------------------------------------------ pool history
@pytest.fixture
def aero_pool(db):
    return PoolFactory(external_id="10137e20-efbc-4e15-a733-17ecb52c48e8", symbol="WETH-USDC",
                       last_seen_at=datetime(2025, 10, 6, tzinfo=UTC))


def test_backfill_loads_the_real_chart_history(aero_pool):
    source = llama_source(Transport(json_response(fixture_bytes(CHART))))
    run = pool_history_backfill(pool_id=aero_pool.pk, source=source)
    assert (run.kind, run.status, run.snapshots_written) == ("history", "succeeded", 83)
    pool = Pool.objects.get(pk=aero_pool.pk)
    assert pool.history_start == date(2025, 7, 10)
    assert pool.history_backfilled_at is not None
    assert pool.apy_sigma_30d is not None  # our own statistics from the new history
    first = PoolSnapshot.objects.filter(pool=pool).order_by("day").first()
    assert (first.tvl_usd, first.apy_base, first.apy_reward) == (
        Decimal("97698294.00"), Decimal("56.08914"), Decimal("77.09028"))
    history = {f["key"]: f for f in pool.risk_factors}["history"]
    assert history["value"] == "89 days of data (since 2025-07-10)"  # its first history point .. 2025-10-06


def test_backfill_twice_writes_nothing_new(aero_pool):
    for expected in (83, 0):
        source = llama_source(Transport(json_response(fixture_bytes(CHART))))
        assert pool_history_backfill(pool_id=aero_pool.pk, source=source).snapshots_written == expected


def test_a_failed_backfill_is_recorded_and_retried(aero_pool):
    source = llama_source(Transport(httpx.ConnectTimeout("slow")))
    with pytest.raises(SourceError):
        pool_history_backfill(pool_id=aero_pool.pk, source=source)
    assert RefreshRun.objects.get(kind="history").status == "failed"
    assert Pool.objects.get(pk=aero_pool.pk).history_backfilled_at is None
    # ... and the task schedules a retry
    with patch("pools.services.refresh.pool_source", return_value=source), \
            patch.object(backfill_pool_history, "retry",
                         side_effect=lambda **kw: Retry("again", exc=kw["exc"])) as retry:
        with pytest.raises(Retry):
            backfill_pool_history.run(pool_id=aero_pool.pk)
    assert isinstance(retry.call_args.kwargs["exc"], SourceError)
    assert retry.call_args.kwargs["countdown"] >= 54  # the first retry waits about a minute


def test_the_backfill_task_takes_the_pool_id(aero_pool):
    source = llama_source(Transport(json_response(fixture_bytes(CHART))))
    with patch("pools.services.refresh.pool_source", return_value=source):
        result = backfill_pool_history.delay(pool_id=aero_pool.pk).get()
    assert result["status"] == "succeeded"


def test_the_backfill_runs_on_the_slow_queue(settings):
    assert settings.CELERY_TASK_ROUTES["pools.tasks.backfill_pool_history"] == {"queue": "slow"}


def test_tokens_without_a_known_price_are_skipped_not_failed(db):
    token = TokenFactory(symbol="OBSCURE", price_id="", price_symbol="NOPE")
    token_set_tracked(token_ids=[token.pk])
    run = prices_refresh(source_name="bundled")
    assert (run.status, run.rejected) == ("succeeded", 1)
    assert Token.objects.get(pk=token.pk).last_price_usd is None
    assert (datetime.now(UTC) - run.finished_at) < timedelta(minutes=1)
