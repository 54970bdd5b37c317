"""pools_ingest: real payloads into the database, idempotency, inactive pools,
spike guard, statistics and risk."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from pools.models import Chain, Pool, PoolRewardToken, PoolSnapshot, PoolUnderlyingToken, Protocol, Token
from pools.services.ingest import pools_ingest
from pools.services.risk import pool_risk_refresh
from pools.services.stats import pool_stats_refresh
from pools.sources.validation import validate_pools
from tests.pools.conftest import DEX, fixture_items, make_batch, records_from, restamp

pytestmark = pytest.mark.django_db


def _row_versions() -> dict[int, str]:
    """PostgreSQL's xmin per pool row: it changes whenever a row is rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM pools_pool")
        return dict(cursor.fetchall())


def test_the_real_full_field_payload_lands_with_every_field(ingested):
    pool = Pool.objects.select_related("chain", "protocol").get(external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    assert (pool.chain.name, pool.chain.slug, pool.chain.coins_prefix) == ("Base", "base", "base")
    assert pool.protocol.slug == "aerodrome-slipstream"
    assert pool.protocol.name == "Aerodrome Slipstream"
    assert pool.symbol == "WETH-OETHB"
    assert pool.tokens_key == "-WETH-OETHB-"
    assert pool.meta == "CL1 - 0.04%"
    assert pool.kind == Pool.Kind.CONCENTRATED
    assert pool.tvl_usd == Decimal("815672271.00")
    assert pool.apy == Decimal("0.07324")
    assert pool.apy_base == Decimal("0.00008")
    assert pool.apy_reward == Decimal("0.07316")
    assert pool.apy_mean_30d == Decimal("0.04008")
    assert pool.apy_mean_30d_computed is False
    assert pool.volume_usd_1d == Decimal("18340.57")
    assert (pool.mu, pool.sigma, pool.count, pool.outlier) == (Decimal("0.04528"), Decimal("0.00161"), 47, False)
    assert (pool.predicted_class, pool.predicted_probability, pool.binned_confidence) == ("Down", Decimal(60), 1)
    assert (pool.stablecoin, pool.il_risk, pool.exposure) == (False, False, "multi")
    assert pool.derived_fields == []
    assert pool.is_active and pool.missed_refreshes == 0
    assert pool.last_seen_at.isoformat() == "2025-08-31T14:07:28.874000+00:00"


def test_underlying_and_reward_tokens_are_linked_in_order(ingested):
    pool = Pool.objects.get(external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    underlying = [link.token for link in PoolUnderlyingToken.objects.filter(pool=pool).select_related("token")]
    assert [t.address for t in underlying] == [
        "0x4200000000000000000000000000000000000006", "0xdbfefd2e8460a6ee4955a68582f85708baea60a3"]
    assert [t.symbol for t in underlying] == ["WETH", "OETHB"]
    assert underlying[0].price_symbol == "ETH"
    assert underlying[0].price_id == "base:0x4200000000000000000000000000000000000006"
    reward = PoolRewardToken.objects.get(pool=pool).token
    assert reward.address == "0x940181a94a35a4569e4529a3cdfb74e38fd98631"  # lower-cased
    assert reward.chain.slug == "base"


def test_the_native_coin_gets_a_coingecko_price_id(ingested):
    token = Token.objects.get(chain__slug="ethereum", address="0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")
    assert token.price_id == "coingecko:ethereum"


def test_todays_snapshot_is_written_for_every_pool(ingested):
    assert PoolSnapshot.objects.count() == 50
    snap = PoolSnapshot.objects.get(pool__external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    assert snap.day == date(2025, 8, 31)
    assert (snap.tvl_usd, snap.apy, snap.apy_base, snap.apy_reward) == (
        Decimal("815672271.00"), Decimal("0.07324"), Decimal("0.00008"), Decimal("0.07316"))


def test_the_first_ingest_creates_everything(db, fullfields_records):
    result = pools_ingest(batch=make_batch(fullfields_records))
    assert (result.created, result.updated, result.unchanged) == (50, 0, 0)
    assert result.snapshots_written == 50
    assert Chain.objects.count() == 4
    assert Protocol.objects.count() == 5


def test_ingesting_the_same_payload_twice_changes_nothing(ingested):
    before = _row_versions()
    snapshots_before = list(PoolSnapshot.objects.values_list("id", "tvl_usd"))
    result = pools_ingest(batch=make_batch(ingested))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 50)
    assert result.snapshots_written == 0
    assert _row_versions() == before  # not a single row rewritten
    assert list(PoolSnapshot.objects.values_list("id", "tvl_usd")) == snapshots_before


def test_risk_and_stats_are_idempotent_too(ingested):
    pool_stats_refresh(as_of=date(2025, 8, 31))
    pool_risk_refresh(as_of=date(2025, 10, 6))
    before = _row_versions()
    assert pool_stats_refresh(as_of=date(2025, 8, 31)) == 0
    assert pool_risk_refresh(as_of=date(2025, 10, 6)) == 0
    assert _row_versions() == before


def test_a_changed_metric_updates_only_that_pool(ingested):
    changed = [replace(r, tvl_usd=r.tvl_usd + 1) if i == 3 else r for i, r in enumerate(ingested)]
    result = pools_ingest(batch=make_batch(changed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 49)
    assert Pool.objects.get(external_id=ingested[3].pool_id).tvl_usd == ingested[3].tvl_usd + 1


def test_a_new_pool_with_a_negative_apy_is_stored_with_that_apy_unknown(db):
    items = fixture_items()[:12]
    items[0] = {**items[0], "apy": -3.5, "apyBase": -3.5, "apyReward": None}
    records, rejections = validate_pools(items)
    result = pools_ingest(batch=make_batch(records, rejections=rejections))
    pool = Pool.objects.get(external_id=items[0]["pool"])
    assert (pool.apy, pool.apy_base, pool.apy_reward) == (None, None, None)
    assert pool.tvl_usd == Decimal(str(items[0]["tvlUsd"])).quantize(Decimal("0.01"))
    assert result.kept_fields == {}  # nothing stored to keep: unknown rather than a made-up 0


def test_rejected_records_are_counted_with_their_reasons(db):
    items = fixture_items()[:12]
    items[1] = {**items[1], "tvlUsd": 12.0}  # a new pool without a usable TVL is not created
    items[2] = {**items[2], "pool": None}
    records, rejections = validate_pools(items)
    result = pools_ingest(batch=make_batch(records, rejections=rejections))
    assert result.rejected == 2
    assert result.rejection_reasons == {"tvl_out_of_range": 1, "missing_pool_id": 1}
    assert Pool.objects.count() == 10


@pytest.mark.parametrize("misses, active", [(1, True), (2, True), (3, False)])
def test_a_pool_missing_from_n_refreshes_becomes_inactive(ingested, t0, misses, active):
    gone = ingested[0].pool_id
    for i in range(misses):
        result = pools_ingest(batch=make_batch(restamp(ingested[1:], t0 + timedelta(hours=i))))
    pool = Pool.objects.get(external_id=gone)
    assert pool.is_active is active
    assert pool.missed_refreshes == misses
    assert result.deactivated == (0 if active else 1)
    assert Pool.objects.filter(is_active=True).count() == 49 + active


def test_nothing_is_deleted_and_an_inactive_pool_stops_counting(ingested, t0, settings):
    settings.POOL_INACTIVE_AFTER_MISSES = 2
    for i in range(4):
        pools_ingest(batch=make_batch(restamp(ingested[1:], t0 + timedelta(hours=i))))
    pool = Pool.objects.get(external_id=ingested[0].pool_id)
    assert (pool.is_active, pool.missed_refreshes) == (False, 2)
    assert Pool.objects.count() == 50


def test_a_returning_pool_is_reactivated(ingested, t0):
    for i in range(3):
        pools_ingest(batch=make_batch(restamp(ingested[1:], t0 + timedelta(hours=i))))
    result = pools_ingest(batch=make_batch(restamp(ingested, t0 + timedelta(hours=9))))
    assert result.reactivated == 1
    pool = Pool.objects.get(external_id=ingested[0].pool_id)
    assert (pool.is_active, pool.missed_refreshes) == (True, 0)


def _jump(records, target, when, **factors):
    jumped = [replace(r, **{f: getattr(r, f) * k for f, k in factors.items()}) if r.pool_id == target.pool_id else r
              for r in records]
    return make_batch(restamp(jumped, when))


def _stored(pool_id: str, field: str):
    return getattr(Pool.objects.get(external_id=pool_id), field)


@pytest.mark.parametrize(
    "field, factor, hours_later, held",
    [
        ("apy", Decimal(6), 1, True),  # 6x up: a glitch until the new level lasts
        ("apy", Decimal("0.1"), 4, True),  # 10x down
        ("tvl_usd", Decimal(10), 2, True),
        ("apy_base", Decimal(50), 1, True),  # every metric is guarded, not only TVL and APY
        ("apy_reward", Decimal(50), 1, True),
        ("volume_usd_1d", Decimal(50), 1, True),
        ("apy", Decimal(4), 1, False),  # 4x: a real move
        ("volume_usd_1d", Decimal(3), 1, False),
    ],
)
def test_the_spike_guard_holds_back_a_jump_against_the_last_accepted_value(db, fullfields_records, t0, field,
                                                                          factor, hours_later, held):
    records = restamp(fullfields_records[:12], t0)
    target = next(r for r in records if r.apy_base and r.apy_reward and r.volume_usd_1d and r.apy > 1)
    pools_ingest(batch=make_batch(records))
    before = _stored(target.pool_id, field)
    result = pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=hours_later), **{field: factor}))
    after = _stored(target.pool_id, field)
    if held:
        assert result.spike_skipped == 1
        assert [(p["pool"], p["field"]) for p in result.spike_pools] == [(target.pool_id, field)]
        assert after == before
        assert result.kept_fields == {field: {"spike": 1}}
    else:
        assert result.spike_skipped == 0
        assert after == (getattr(target, field) * factor).quantize(after)


def test_a_value_unchanged_for_hours_still_guards_against_a_spike(db, fullfields_records, t0):
    """The old guard compared only with values changed within 5 hours: a pool whose TVL had
    not moved for 6 hourly refreshes took a 50x glitch at once."""
    records = restamp(fullfields_records[:12], t0)
    target = records[0]
    for hour in range(7):
        pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(hours=hour))))
    result = pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=7), tvl_usd=Decimal(50)))
    assert result.spike_skipped == 1
    assert _stored(target.pool_id, "tvl_usd") == target.tvl_usd.quantize(Decimal("0.01"))


def test_a_held_level_is_accepted_once_it_has_lasted_the_window(db, fullfields_records, t0, settings):
    settings.POOL_SPIKE_WINDOW_HOURS = 5
    records = restamp(fullfields_records[:12], t0)
    target = records[0]
    pools_ingest(batch=make_batch(records))
    for hour in (1, 2, 3, 4, 5):
        result = pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=hour), tvl_usd=Decimal(20)))
        assert result.spike_skipped == 1, hour
        assert Pool.objects.get(external_id=target.pool_id).spike_hold["tvl_usd"]["since"] == (
            t0 + timedelta(hours=1)).isoformat()
    result = pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=6), tvl_usd=Decimal(20)))
    assert result.spike_skipped == 0
    pool = Pool.objects.get(external_id=target.pool_id)
    assert pool.tvl_usd == (target.tvl_usd * 20).quantize(Decimal("0.01"))
    assert pool.spike_hold == {}


def test_a_glitch_that_goes_away_leaves_nothing_behind(db, fullfields_records, t0):
    records = restamp(fullfields_records[:12], t0)
    target = records[0]
    pools_ingest(batch=make_batch(records))
    pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=1), apy=Decimal(50)))
    result = pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(hours=2))))
    assert result.spike_skipped == 0
    pool = Pool.objects.get(external_id=target.pool_id)
    assert (pool.apy, pool.spike_hold) == (target.apy.quantize(pool.apy), {})


def test_a_pool_back_after_a_long_absence_takes_its_new_values_at_once(db, fullfields_records, t0):
    records = restamp(fullfields_records[:12], t0)
    target = records[0]
    pools_ingest(batch=make_batch(records))
    pools_ingest(batch=make_batch(restamp(records[1:], t0 + timedelta(hours=8))))  # not listed
    result = pools_ingest(batch=_jump(records, target, t0 + timedelta(hours=9), tvl_usd=Decimal(10)))
    assert result.spike_skipped == 0
    assert _stored(target.pool_id, "tvl_usd") == (target.tvl_usd * 10).quantize(Decimal("0.01"))


def test_a_spike_held_pool_is_not_counted_as_missing(db, fullfields_records, t0):
    records = restamp(fullfields_records[:12], t0)
    pools_ingest(batch=make_batch(records))
    jumped = [replace(records[0], tvl_usd=records[0].tvl_usd * 20), *records[1:]]
    pools_ingest(batch=make_batch(restamp(jumped, t0 + timedelta(hours=1))))
    assert Pool.objects.get(external_id=records[0].pool_id).missed_refreshes == 0


def test_invalid_fields_keep_their_last_good_values_while_valid_fields_update(db, t0):
    items = fixture_items()[:12]
    records = restamp(records_from(items), t0)
    pools_ingest(batch=make_batch(records))
    target = items[3]
    before = Pool.objects.get(external_id=target["pool"])
    bad = {**target, "apyBase": -1, "apyReward": float("nan"), "sigma": None, "volumeUsd1d": 1e301,
           "volumeUsd7d": float("inf"), "tvlUsd": target["tvlUsd"] * 1.5, "mu": 0.5}
    records, rejections = validate_pools([bad if i is target else i for i in items])
    result = pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(hours=1))))
    after = Pool.objects.get(external_id=target["pool"])
    assert (after.apy_base, after.apy_reward, after.volume_usd_1d, after.volume_usd_7d) == (
        before.apy_base, before.apy_reward, before.volume_usd_1d, before.volume_usd_7d)  # invalid: last good kept
    assert after.tvl_usd == Decimal(str(target["tvlUsd"] * 1.5)).quantize(Decimal("0.01"))  # valid: updated
    assert after.mu == Decimal("0.5")
    assert after.sigma is None  # a null the source may send: accepted
    assert result.kept_fields == {"apy_base": {"negative": 1}, "apy_reward": {"non_finite": 1},
                                  "volume_usd_1d": {"out_of_range": 1}, "volume_usd_7d": {"non_finite": 1}}
    # today's snapshot carries the kept values too
    snapshot = PoolSnapshot.objects.get(pool=after, day=(t0 + timedelta(hours=1)).date())
    assert (snapshot.apy_base, snapshot.apy_reward) == (before.apy_base, before.apy_reward)


@pytest.mark.parametrize(
    "changes, kept",
    [
        ({"apy": None}, {"apy"}),  # a null total APY never erases a known one
        ({"apyReward": None}, {"apy_reward"}),  # apy != apyBase: the reward did not just stop
        ({"apyBase": None}, {"apy_base"}),
    ],
)
def test_a_null_apy_component_does_not_erase_a_known_one(db, t0, changes, kept):
    items = fixture_items()[:12]
    target = next(i for i in items if (i["apyBase"] or 0) > 1 and (i["apyReward"] or 0) > 1)
    pools_ingest(batch=make_batch(restamp(records_from(items), t0)))
    before = Pool.objects.get(external_id=target["pool"])
    changed = [{**i, **changes} if i is target else i for i in items]
    result = pools_ingest(batch=make_batch(restamp(records_from(changed), t0 + timedelta(hours=1))))
    after = Pool.objects.get(external_id=target["pool"])
    for field in kept:
        assert getattr(after, field) == getattr(before, field) is not None
    assert result.kept_fields == {field: {"missing": 1} for field in kept}


def test_a_reward_that_ends_is_a_null_reward_apy_with_the_total_equal_to_the_base(db, t0):
    items = fixture_items()[:12]
    target = next(i for i in items if (i["apyBase"] or 0) > 1 and (i["apyReward"] or 0) > 1)
    pools_ingest(batch=make_batch(restamp(records_from(items), t0)))
    ended = {**target, "apyReward": None, "apy": target["apyBase"]}
    result = pools_ingest(batch=make_batch(restamp(records_from([ended if i is target else i for i in items]),
                                                   t0 + timedelta(hours=1))))
    after = Pool.objects.get(external_id=target["pool"])
    assert after.apy_reward is None
    assert after.apy == Decimal(str(target["apyBase"])).quantize(after.apy)
    assert result.kept_fields == {}


def test_a_rejected_record_is_not_counted_as_a_miss(db, t0, settings):
    """Three payloads in a row whose record for a pool fails validation must not deactivate it."""
    settings.POOL_INACTIVE_AFTER_MISSES = 3
    items = fixture_items()[:12]
    pools_ingest(batch=make_batch(restamp(records_from(items), t0)))
    broken = [{**i, "chain": None} if n == 0 else i for n, i in enumerate(items)]
    for hour in (1, 2, 3, 4):
        records, rejections = validate_pools(broken)
        assert [r.reason for r in rejections] == ["missing_field"]
        pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(hours=hour)), rejections=rejections))
    pool = Pool.objects.get(external_id=items[0]["pool"])
    assert (pool.is_active, pool.missed_refreshes) == (True, 0)


def test_our_own_30_day_mean_fills_in_when_the_source_has_none(db, dex_records, t0):
    records = dex_records[:12]
    for i, apy in enumerate([4, 8, 4, 8, 6]):
        pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(days=i), apy=Decimal(apy))))
    pool_stats_refresh(as_of=(t0 + timedelta(days=4)).date())
    pool = Pool.objects.get(external_id=records[0].pool_id)
    assert pool.apy_mean_30d == Decimal(6)
    assert pool.apy_mean_30d_computed is True
    assert pool.apy_sigma_30d == Decimal(2)
    assert pool.history_start == t0.date()
    # the next refresh (no apyMean30d again) keeps our mean instead of blanking it
    result = pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(days=4), apy=Decimal(6))))
    assert result.updated == 0
    assert Pool.objects.get(pk=pool.pk).apy_mean_30d == Decimal(6)


def test_sigma_waits_for_five_days_in_the_window(db, dex_records, t0):
    records = dex_records[:12]
    for i, apy in enumerate([4, 8, 4, 8]):
        pools_ingest(batch=make_batch(restamp(records, t0 + timedelta(days=i), apy=Decimal(apy))))
    pool_stats_refresh(as_of=(t0 + timedelta(days=3)).date())
    pool = Pool.objects.get(external_id=records[0].pool_id)
    assert (pool.apy_mean_30d, pool.apy_sigma_30d) == (Decimal(6), None)


def test_the_sources_own_mean_wins_over_ours(ingested):
    pool_stats_refresh(as_of=date(2025, 8, 31))
    pool = Pool.objects.get(external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    assert pool.apy_mean_30d == Decimal("0.04008")
    assert pool.apy_mean_30d_computed is False
    assert pool.apy_sigma_30d is None  # one day of our own data: no sigma yet


def test_risk_scores_and_factors_are_stored_for_every_pool(ingested):
    pool_risk_refresh(as_of=date(2025, 10, 6))
    assert not Pool.objects.filter(risk_score__isnull=True).exists()
    pool = Pool.objects.get(external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    factors = {f["key"]: f for f in pool.risk_factors}
    assert set(factors) == {"tvl", "history", "apy_volatility", "reward_share", "il_risk", "stablecoin", "outlier",
                            "audits", "protocol_age"}
    assert factors["tvl"]["points"] == 0  # $815M
    assert factors["history"]["value"] == "47 days of data"  # DeFiLlama's count
    assert factors["audits"]["value"] == "2 audits, last 2021-03-23"  # the bundled facts of a new protocol
    assert pool.risk_score == sum(f["points"] for f in pool.risk_factors)
    assert pool.risk_grade in "ABCDEF"


def test_the_same_pool_list_from_the_dex_file_derives_missing_flags(db, dex_records):
    pools_ingest(batch=make_batch(dex_records))
    pool = Pool.objects.get(external_id="8ac917c6-12fa-49df-aa0b-ced2ebe54e91")
    assert pool.derived_fields == ["exposure", "il_risk", "stablecoin"]
    assert (pool.stablecoin, pool.il_risk, pool.exposure) == (False, True, "multi")


def test_dex_and_full_field_files_share_tokens(db, dex_records, fullfields_records):
    pools_ingest(batch=make_batch(fullfields_records))
    pools_ingest(batch=make_batch(fullfields_records + [r for r in dex_records
                                                        if r.pool_id not in {f.pool_id for f in fullfields_records}]))
    weth = Token.objects.filter(chain__slug="ethereum", address="0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
    assert weth.count() == 1


def test_records_without_a_timestamp_use_the_batch_time(db, fullfields_records, t0):
    records = [replace(r, updated_at=None) for r in fullfields_records[:12]]
    pools_ingest(batch=make_batch(records, fetched_at=t0))
    assert set(Pool.objects.values_list("last_seen_at", flat=True)) == {t0}
    assert set(PoolSnapshot.objects.values_list("day", flat=True)) == {t0.date()}


def test_the_rejected_file_records_never_reach_the_database(db):
    items = fixture_items(DEX)[:12]
    items[0] = {**items[0], "symbol": None}
    items[1] = {**items[1], "tvlUsd": "NaN"}
    records, rejections = validate_pools(items)
    assert [(r.pool_id, r.reason) for r in rejections] == [(items[0]["pool"], "missing_field")]
    result = pools_ingest(batch=make_batch(records, rejections=rejections))
    assert not Pool.objects.filter(external_id__in=[items[0]["pool"], items[1]["pool"]]).exists()
    assert result.rejection_reasons == {"missing_field": 1, "non_finite": 1}
