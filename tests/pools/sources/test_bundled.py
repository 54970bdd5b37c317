"""BundledSource over the real files in pools/data/ (expected values are read from the files)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pools.sources import BundledSource, DailyPrice, PoolKind, PoolSource, get_source
from pools.sources.bundled import DEFAULT_DATA_DIR
from pools.sources.classify import derive_il_risk, derive_stablecoin
from tests.pools.sources._support import shared_bundled

KNOWN_POOL = "3603d576-a4d7-4317-9ae1-bf451b3e637a"  # pancakeswap-amm-v3 Ethereum WETH-USDT
DATA = DEFAULT_DATA_DIR


@pytest.fixture(scope="module")
def bundled():
    return shared_bundled()


def _json_gz(name: str) -> dict:
    with gzip.open(DATA / "defillama" / name, "rt", encoding="utf-8") as handle:
        return json.loads(handle.read(), parse_float=Decimal)


def _csv_gz(path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


@pytest.fixture(scope="module")
def raw_full() -> list[dict]:
    return _json_gz("pools-2025-08-31-dex-fullfields.json.gz")["data"]


@pytest.fixture(scope="module")
def raw_dex() -> list[dict]:
    return _json_gz("pools-2025-10-06-dex.json.gz")["data"]


@pytest.fixture(scope="module")
def price_rows() -> list[dict[str, str]]:
    return _csv_gz(DATA / "prices" / "daily_usd_long.csv.gz")


# ----------------------------------------------------------------------------- pools
def test_bundled_source_returns_the_union_of_real_pools(bundled, raw_full, raw_dex):
    batch = bundled.fetch_pools()
    expected_ids = {r["pool"] for r in raw_full} | {r["pool"] for r in raw_dex}
    assert len(expected_ids) == 6107
    assert {r.pool_id for r in batch.records} == expected_ids
    assert 5800 <= len(batch.records) <= 6200
    assert batch.rejections == ()
    assert batch.source == "bundled"
    assert batch.fetched_at == max(r.updated_at for r in batch.records)
    assert batch.fetched_at.date() == date(2025, 10, 6)
    tvls = [r.tvl_usd for r in batch.records]
    assert tvls == sorted(tvls, reverse=True)
    assert all(isinstance(r.tvl_usd, Decimal) for r in batch.records)


def test_kinds_follow_the_project_mapping(bundled):
    expected = {
        "uniswap-v3": PoolKind.CONCENTRATED,
        "pancakeswap-amm-v3": PoolKind.CONCENTRATED,
        "aerodrome-slipstream": PoolKind.CONCENTRATED,
        "fluid-dex": PoolKind.CONCENTRATED,
        "curve-dex": PoolKind.STABLESWAP,
        "uniswap-v2": PoolKind.AMM,
        "aerodrome-v1": PoolKind.AMM,
        "pancakeswap-amm": PoolKind.AMM,
    }
    for record in bundled.fetch_pools().records:
        assert record.kind is expected[record.project], record


def test_full_field_records_win_and_keep_their_enrichment(bundled, raw_full):
    by_id = bundled.fetch_pools().by_id()
    for raw in raw_full:
        record = by_id[raw["pool"]]
        assert record.il_risk == raw["ilRisk"]
        assert record.stablecoin == raw["stablecoin"]
        assert record.exposure == raw["exposure"]
        assert record.count == raw["count"] and record.sigma == raw["sigma"] and record.outlier == raw["outlier"]
        assert record.derived == frozenset()


def test_overlap_gets_fresh_metrics_by_default(bundled, raw_dex):
    record = bundled.fetch_pools().by_id()[KNOWN_POOL]
    fresh = next(r for r in raw_dex if r["pool"] == KNOWN_POOL)
    assert record.origin == "bundled:merged"
    assert record.tvl_usd == fresh["tvlUsd"] == Decimal("1839076.0")  # 10-06 value, not 08-31's $18.5M
    assert record.apy == fresh["apy"]
    assert record.updated_at.date() == date(2025, 10, 6)
    assert record.il_risk == "yes" and record.stablecoin is False  # still the full-field labels
    assert record.apy_pct_1d is None and record.predictions is None  # 08-31 point-in-time fields cleared


def test_full_field_record_can_win_verbatim():
    record = BundledSource(prefer_fresh_metrics=False).fetch_pools().by_id()[KNOWN_POOL]
    assert record.origin == "bundled:pools-2025-08-31-dex-fullfields"
    assert record.tvl_usd == Decimal("18493285.0")
    assert record.updated_at.date() == date(2025, 8, 31)


def test_core_field_pools_get_conservative_derived_info(bundled, raw_full):
    full_ids = {r["pool"] for r in raw_full}
    dex_only = [r for r in bundled.fetch_pools().records if r.pool_id not in full_ids]
    assert len(dex_only) == 4973
    assert all(r.derived == {"stablecoin", "il_risk", "exposure"} for r in dex_only)
    assert all(r.exposure in {"single", "multi"} for r in dex_only)
    assert all(r.il_risk in {"yes", "no"} for r in dex_only)
    assert {r.stablecoin for r in dex_only} == {True, False, None}  # unknown stays unknown


def test_derivation_is_never_less_cautious_than_defillama(raw_full):
    """Against the 1,134 real labels: never 'no IL' where DeFiLlama says yes, never 'stable' where it says no."""
    for raw in raw_full:
        if raw["ilRisk"] == "yes":
            assert derive_il_risk(raw["symbol"]) == "yes", raw["symbol"]
        if raw["stablecoin"] is False:
            assert derive_stablecoin(raw["symbol"]) in {False, None}, raw["symbol"]
    agree = sum(derive_il_risk(r["symbol"]) == r["ilRisk"] for r in raw_full)
    assert agree / len(raw_full) > 0.8


# ----------------------------------------------------------------------------- history
def test_history_of_known_pool_is_the_real_chart(bundled):
    points = bundled.fetch_history(KNOWN_POOL)
    chart = json.loads((DATA / "defillama" / f"chart-{KNOWN_POOL}.json").read_text(), parse_float=Decimal)["data"]
    assert len(points) == len(chart) == 882
    assert points[0].timestamp == datetime(2023, 4, 13, 22, 13, 41, 138000, tzinfo=UTC)
    assert points[0].tvl_usd == chart[0]["tvlUsd"] == Decimal("1947730.0")
    assert points[0].apy == chart[0]["apy"] and points[0].apy_reward == chart[0]["apyReward"]
    assert points[-1].timestamp.date() == date(2025, 10, 6) and points[-1].apy == chart[-1]["apy"]
    days = [p.day for p in points]
    assert days == sorted(set(days))  # one point per day


def test_history_from_the_479_pool_csv(bundled):
    rows = [r for r in bundled._chart_rows.values()][0]
    pool_id = rows[0]["pool"]
    points = bundled.fetch_history(pool_id)
    assert len(points) >= len(rows)
    first = points[0]
    assert first.timestamp == datetime.fromisoformat(rows[0]["timestamp"])
    assert first.tvl_usd == Decimal(rows[0]["tvlUsd"])
    assert len(bundled.chart_pool_ids()) == 479


def test_pool_without_chart_gets_history_from_the_daily_snapshots(bundled):
    pool_id = "8ac917c6-12fa-49df-aa0b-ced2ebe54e91"  # uniswap-v2 WISE-WETH: not in any chart file
    assert pool_id not in bundled.chart_pool_ids()
    points = bundled.fetch_history(pool_id)
    assert 1 <= len(points) <= 5
    assert points[-1].timestamp.date() == date(2025, 10, 6)
    assert points[-1].tvl_usd == Decimal("260287191.0")


def test_history_of_unknown_pool_is_empty_and_paths_are_refused(bundled):
    assert bundled.fetch_history("00000000-0000-0000-0000-000000000000") == []
    with pytest.raises(ValueError):
        bundled.fetch_history("../prices/daily_usd_long")


# ----------------------------------------------------------------------------- snapshots
def test_five_daily_snapshots(bundled):
    snapshots = bundled.fetch_snapshots()
    assert [(s.day, len(s.records)) for s in snapshots] == [
        (date(2025, 9, 26), 5932),
        (date(2025, 9, 27), 5918),
        (date(2025, 9, 28), 5906),
        (date(2025, 9, 29), 5862),
        (date(2025, 10, 6), 5872),
    ]
    assert all(s.rejections == () for s in snapshots)
    day, records = snapshots[0]  # unpacks as (day, rows)
    assert day == date(2025, 9, 26) and records is snapshots[0].records
    first = records[0]
    assert first.pool_id == "bc33d1ea-f566-40eb-b0a8-8d8dcf425f18"
    assert first.tvl_usd == Decimal("717244118.0") and first.apy_reward == Decimal("0.01046")
    assert first.updated_at == datetime(2025, 9, 26, 15, 8, 25, 772000, tzinfo=UTC)


# ----------------------------------------------------------------------------- prices
def test_eth_price_on_a_known_date_matches_the_file(bundled, price_rows):
    row = next(r for r in price_rows if r["symbol"] == "ETH" and r["date"] == "2024-03-12")
    assert row["source"] == "moneyflow"
    expected = Decimal(row["price_usd"])
    assert bundled.price_at("ETH", date(2024, 3, 12)) == DailyPrice(date(2024, 3, 12), expected)
    assert (date(2024, 3, 12), expected) in bundled.price_history("eth")
    assert Decimal(3000) < expected < Decimal(5000)


def test_overlapping_sources_prefer_moneyflow(bundled, price_rows):
    day = "2021-06-01"
    rows = {r["source"]: r for r in price_rows if r["symbol"] == "ETH" and r["date"] == day}
    assert set(rows) == {"moneyflow", "crypto-price"}
    assert bundled.price_at("ETH", date.fromisoformat(day)).price_usd == Decimal(rows["moneyflow"]["price_usd"])
    history = bundled.price_history("ETH")
    assert len({d for d, _ in history}) == len(history)  # one price per day


def test_latest_price_and_series_ends(bundled, price_rows):
    last_eth = max((r for r in price_rows if r["symbol"] == "ETH"), key=lambda r: r["date"])
    assert bundled.latest_price("ETH") == (date.fromisoformat(last_eth["date"]), Decimal(last_eth["price_usd"]))
    assert bundled.latest_price("ETH").day == date(2025, 9, 30)
    assert bundled.latest_price("USDC").day == date(2022, 2, 14)
    assert bundled.latest_price("LDO") is None and bundled.price_history("DAI") == []


def test_price_at_uses_nearest_earlier_day(bundled):
    friday = bundled.price_at("UNI", date(2021, 1, 1))
    assert friday is not None and friday.day <= date(2021, 1, 1)
    later = bundled.price_at("USDC", datetime(2025, 1, 1, 12, tzinfo=UTC))
    assert later.day == date(2022, 2, 14)  # stale but nearest earlier...
    assert bundled.price_at("USDC", date(2025, 1, 1), max_age=timedelta(days=7)) is None  # ...unless bounded
    assert bundled.price_at("ETH", date(2000, 1, 1)) is None
    # an aware datetime late on a UTC day still maps to that UTC day
    late = datetime(2024, 3, 12, 23, 30, tzinfo=UTC)
    assert bundled.price_at("ETH", late).day == date(2024, 3, 12)


def test_weth_reads_eth_and_artefact_row_is_skipped(bundled):
    assert bundled.price_history("WETH") == bundled.price_history("ETH")
    aave = bundled.price_history("AAVE")
    assert aave[0].day == date(2020, 10, 3)  # 2020-10-02 (0.5166) is a known Yahoo artefact
    assert bundled.price_points("UNI")[0].price_type == "open"
    assert set(bundled.price_symbols()) >= {"BTC", "ETH", "LINK", "UNI", "AAVE", "CRV", "USDC", "USDT"}


# ----------------------------------------------------------------------------- integrity
def test_bundled_files_match_the_checksums_in_the_data_readme():
    import hashlib
    import re

    readme = (DATA / "README.md").read_text()
    listed = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M))
    assert len(listed) == 5
    for name, digest in listed.items():
        with gzip.open(DATA / f"{name}.gz", "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest, name


# ----------------------------------------------------------------------------- factory
def test_factory_defaults_to_bundled():
    assert isinstance(get_source(), BundledSource)
    assert isinstance(get_source("Bundled"), BundledSource)
    assert isinstance(get_source("bundled"), PoolSource)
    with pytest.raises(ValueError, match="unknown source"):
        get_source("coingecko")


def test_missing_data_dir_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        BundledSource(tmp_path).fetch_pools()
