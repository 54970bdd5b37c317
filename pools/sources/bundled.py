"""Offline source backed by the real DeFiLlama / price files shipped in ``pools/data/``.

See ``pools/data/README.md`` for provenance and licences. Everything goes
through the same validation as the live source (``pools.sources.validation``).

Pools (``fetch_pools``)
    Union of ``pools-2025-08-31-dex-fullfields`` (1,134 pools, every API field)
    and ``pools-2025-10-06-dex`` (5,872 pools, 12 core fields): 6,107 pools.
    Where both list a pool (899 pools), the full-field record wins -- it carries
    ilRisk / stablecoin / exposure / poolMeta / mu / sigma / count / outlier.
    The 10-06 file fills in the rest, with stablecoin / ilRisk / exposure derived
    from the symbol (``pools.sources.classify``; listed in ``PoolRecord.derived``).

    By default (``prefer_fresh_metrics=True``) the winning full-field record gets
    the newer 10-06 TVL / APYs / token lists / timestamp overlaid (origin
    ``bundled:merged``), and the fields that only described the 08-31 moment
    (apyPct1D/7D/30D, volumeUsd1d/7d, apyBase7d, apyMean30d, predictions) are
    cleared to ``None`` -- otherwise a pool could show a five-week-old TVL (e.g.
    ``3603d576-...``: $18.5M on 08-31, $1.84M on 10-06). ``prefer_fresh_metrics=False``
    keeps the full-field record exactly as it is. ``fetched_at`` is the newest
    record timestamp (the data's as-of time), not the wall clock.

History (``fetch_history``)
    One point per UTC day, merged from (highest priority first) the per-pool
    ``chart-{pool}.json`` files, ``chart-history-dex-479-pools.csv`` and the
    five daily snapshots (stamped with the pool's own ``pool_timestamp``).

Snapshots (``fetch_snapshots``)
    The five daily snapshots (2025-09-26/27/28/29 and 2025-10-06) as
    ``DailySnapshot(day, records, rejections)`` sorted by day; each unpacks as
    ``day, records``.

Prices (``price_history``, ``latest_price``, ``price_at``)
    Daily USD prices by symbol from ``prices/daily_usd_long.csv``. Where two
    upstream sources give the same day, the preferred one is moneyflow (Yahoo
    close), then assets_risk_metrics (Yahoo *open*, UNI only), then
    crypto-price. The known Yahoo artefact (AAVE 2020-10-02 = 0.5166) is
    skipped. ``WETH`` is read as ``ETH``. Several series end on 2022-02-14 (see
    the data README): ``price_at`` returns the nearest earlier day however old
    unless ``max_age`` is given -- check ``DailyPrice.day``.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import IO, Any, NamedTuple

from pools.sources.defillama import unwrap_envelope
from pools.sources.types import MalformedPayloadError, PoolBatch, PoolHistoryPoint, PoolRecord, Rejection
from pools.sources.validation import InvalidRecord, loads_json, parse_history_point, validate_pools

__all__ = ["DEFAULT_DATA_DIR", "BundledSource", "DailyPrice", "DailySnapshot", "PricePoint"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"

FULLFIELDS_FILE = "defillama/pools-2025-08-31-dex-fullfields.json"
DEX_FILE = "defillama/pools-2025-10-06-dex.json"
SNAPSHOTS_FILE = "defillama/pools-dex-daily-snapshots-2025-09-26_2025-10-06.csv"
CHART_HISTORY_FILE = "defillama/chart-history-dex-479-pools.csv"
CHART_JSON_PATTERN = "defillama/chart-{pool}.json"
PRICES_FILE = "prices/daily_usd_long.csv"

#: Lower number wins when two upstream price sources cover the same day.
PRICE_SOURCE_PRIORITY = {"moneyflow": 0, "assets_risk_metrics": 1, "crypto-price": 2}
#: (symbol, day) rows known to be upstream artefacts (see the data README).
KNOWN_BAD_PRICE_ROWS = frozenset({("AAVE", date(2020, 10, 2))})
SYMBOL_ALIASES = {"WETH": "ETH"}

#: Taken from the newer 10-06 record when both files list a pool (``prefer_fresh_metrics``).
FRESH_METRIC_FIELDS = ("tvl_usd", "apy", "apy_base", "apy_reward", "underlying_tokens", "reward_tokens", "updated_at")
#: Point-in-time fields of the 08-31 record that no longer match the overlaid metrics.
STALE_FIELDS_CLEARED = (
    "apy_pct_1d",
    "apy_pct_7d",
    "apy_pct_30d",
    "volume_usd_1d",
    "volume_usd_7d",
    "apy_base_7d",
    "apy_mean_30d",
    "predictions",
)


@dataclass(frozen=True, slots=True)
class DailySnapshot:
    """One day of snapshot rows; unpacks as ``day, records = snapshot``."""

    day: date
    records: tuple[PoolRecord, ...]
    rejections: tuple[Rejection, ...] = ()

    def __iter__(self) -> Iterator[Any]:
        return iter((self.day, self.records))


class DailyPrice(NamedTuple):
    day: date
    price_usd: Decimal


class PricePoint(NamedTuple):
    day: date
    price_usd: Decimal
    price_type: str  # "close" or "open"
    source: str


def _utc_day(when: date | datetime) -> date:
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        return when.date()
    return when


class BundledSource:
    """Pools, history, snapshots and prices from the files in ``pools/data/``."""

    name = "bundled"

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        prefer_fresh_metrics: bool = True,
        categories: Mapping[str, str] | None = None,
    ):
        self.data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        self.prefer_fresh_metrics = prefer_fresh_metrics
        self.categories = dict(categories or {})

    # ------------------------------------------------------------------ file access
    def _path(self, name: str) -> Path:
        plain = self.data_dir / name
        packed = plain.with_name(plain.name + ".gz")
        if packed.exists():
            return packed
        if plain.exists():
            return plain
        raise FileNotFoundError(f"bundled data file missing: {packed} (or {plain})")

    def _open_text(self, name: str) -> IO[str]:
        path = self._path(name)
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
        return path.open("r", encoding="utf-8", newline="")

    def _load_json(self, name: str) -> Any:
        with self._open_text(name) as handle:
            text = handle.read()
        try:
            return loads_json(text)
        except json.JSONDecodeError as exc:
            raise MalformedPayloadError(f"bundled file {name} is not valid JSON: {exc}") from exc

    def _read_csv(self, name: str) -> list[dict[str, str]]:
        with self._open_text(name) as handle:
            return list(csv.DictReader(handle))

    # ------------------------------------------------------------------ pools
    @cached_property
    def _pool_batch(self) -> PoolBatch:
        full_records, full_rejections = validate_pools(
            unwrap_envelope(self._load_json(FULLFIELDS_FILE), FULLFIELDS_FILE),
            origin=f"bundled:{Path(FULLFIELDS_FILE).stem}",
            categories=self.categories,
        )
        dex_records, dex_rejections = validate_pools(
            unwrap_envelope(self._load_json(DEX_FILE), DEX_FILE),
            origin=f"bundled:{Path(DEX_FILE).stem}",
            categories=self.categories,
        )
        merged: dict[str, PoolRecord] = {r.pool_id: r for r in full_records}
        for record in dex_records:
            existing = merged.get(record.pool_id)
            if existing is None:
                merged[record.pool_id] = record
            elif self.prefer_fresh_metrics:
                fresh: dict[str, Any] = {name: getattr(record, name) for name in FRESH_METRIC_FIELDS}
                fresh.update(dict.fromkeys(STALE_FIELDS_CLEARED))
                merged[record.pool_id] = replace(existing, **fresh, origin="bundled:merged")
        records = sorted(merged.values(), key=lambda r: (-(r.tvl_usd or 0), r.pool_id))
        stamps = [r.updated_at for r in records if r.updated_at is not None]
        fetched_at = max(stamps) if stamps else datetime(2025, 10, 6, tzinfo=UTC)
        return PoolBatch(tuple(records), tuple(full_rejections + dex_rejections), fetched_at, source=self.name)

    def fetch_pools(self) -> PoolBatch:
        return self._pool_batch

    # ------------------------------------------------------------------ history
    @cached_property
    def _chart_rows(self) -> dict[str, list[dict[str, str]]]:
        rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self._read_csv(CHART_HISTORY_FILE):
            rows[row["pool"]].append(row)
        return dict(rows)

    @cached_property
    def _snapshot_rows(self) -> list[dict[str, str]]:
        return self._read_csv(SNAPSHOTS_FILE)

    @cached_property
    def _snapshot_rows_by_pool(self) -> dict[str, list[dict[str, str]]]:
        rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self._snapshot_rows:
            rows[row["pool"]].append(row)
        return dict(rows)

    def chart_pool_ids(self) -> set[str]:
        """Pools with a real ``/chart`` history in the bundle (CSV or JSON)."""
        ids = set(self._chart_rows)
        for path in (self.data_dir / "defillama").glob("chart-*.json*"):
            name = path.name.removesuffix(".gz").removesuffix(".json")
            ids.add(name.removeprefix("chart-"))
        return ids

    def _chart_json_points(self, pool_id: str) -> list[PoolHistoryPoint]:
        name = CHART_JSON_PATTERN.format(pool=pool_id)
        try:
            self._path(name)
        except FileNotFoundError:
            return []
        return self._parse_points(unwrap_envelope(self._load_json(name), name))

    @staticmethod
    def _parse_points(items: list[Any]) -> list[PoolHistoryPoint]:
        points = []
        for item in items:
            try:
                points.append(parse_history_point(item))
            except InvalidRecord:
                continue
        return points

    def fetch_history(self, pool_id: str) -> list[PoolHistoryPoint]:
        """Daily history for ``pool_id`` (empty list if the bundle has none)."""
        if "/" in pool_id or "\\" in pool_id or pool_id.startswith("."):
            raise ValueError(f"not a pool id: {pool_id!r}")
        chart_json = self._chart_json_points(pool_id)
        chart_csv = self._parse_points(self._chart_rows.get(pool_id, []))
        snapshots = self._parse_points(
            [
                {
                    "timestamp": row["pool_timestamp"] or row["snapshot_date"],
                    "tvlUsd": row["tvlUsd"],
                    "apy": row["apy"],
                    "apyBase": row["apyBase"],
                    "apyReward": row["apyReward"],
                }
                for row in self._snapshot_rows_by_pool.get(pool_id, [])
            ]
        )
        by_day: dict[date, PoolHistoryPoint] = {}
        for series in (snapshots, chart_csv, chart_json):  # later series override earlier ones
            for point in sorted(series, key=lambda p: p.timestamp):
                by_day[point.day] = point
        return [by_day[day] for day in sorted(by_day)]

    # ------------------------------------------------------------------ snapshots
    def fetch_snapshots(self) -> list[DailySnapshot]:
        """The five daily snapshots as validated :class:`PoolRecord` rows, oldest first."""
        return list(self._snapshots)

    @cached_property
    def _snapshots(self) -> tuple[DailySnapshot, ...]:
        by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
        for row in self._snapshot_rows:
            by_day[date.fromisoformat(row["snapshot_date"])].append(
                {
                    "pool": row["pool"],
                    "project": row["project"],
                    "chain": row["chain"],
                    "symbol": row["symbol"],
                    "tvlUsd": row["tvlUsd"],
                    "apy": row["apy"],
                    "apyBase": row["apyBase"],
                    "apyReward": row["apyReward"],
                    "timestamp": row["pool_timestamp"] or None,
                }
            )
        result = []
        for day in sorted(by_day):
            records, rejections = validate_pools(
                by_day[day], origin=f"bundled:snapshot-{day.isoformat()}", categories=self.categories
            )
            result.append(DailySnapshot(day, tuple(records), tuple(rejections)))
        return tuple(result)

    # ------------------------------------------------------------------ prices
    @cached_property
    def _prices(self) -> dict[str, tuple[list[date], list[PricePoint]]]:
        best: dict[tuple[str, date], PricePoint] = {}
        for row in self._read_csv(PRICES_FILE):
            symbol = row["symbol"].strip().upper()
            day = date.fromisoformat(row["date"])
            if (symbol, day) in KNOWN_BAD_PRICE_ROWS:
                continue
            price = Decimal(row["price_usd"])
            if not price.is_finite() or price <= 0:
                continue
            point = PricePoint(day, price, row["price_type"], row["source"])
            current = best.get((symbol, day))
            if current is None or PRICE_SOURCE_PRIORITY.get(point.source, 99) < PRICE_SOURCE_PRIORITY.get(
                current.source, 99
            ):
                best[(symbol, day)] = point
        series: dict[str, list[PricePoint]] = defaultdict(list)
        for (symbol, _day), point in best.items():
            series[symbol].append(point)
        out = {}
        for symbol, points in series.items():
            points.sort(key=lambda p: p.day)
            out[symbol] = ([p.day for p in points], points)
        return out

    def _series(self, symbol: str) -> tuple[list[date], list[PricePoint]]:
        key = symbol.strip().upper()
        key = SYMBOL_ALIASES.get(key, key)
        return self._prices.get(key, ([], []))

    def price_symbols(self) -> list[str]:
        return sorted(self._prices)

    def price_points(self, symbol: str) -> list[PricePoint]:
        """Like :meth:`price_history` but with price type (close/open) and upstream source."""
        return list(self._series(symbol)[1])

    def price_history(self, symbol: str) -> list[DailyPrice]:
        """``[(day, price_usd), ...]`` oldest first; empty for an unknown symbol."""
        return [DailyPrice(p.day, p.price_usd) for p in self._series(symbol)[1]]

    def latest_price(self, symbol: str) -> DailyPrice | None:
        points = self._series(symbol)[1]
        return DailyPrice(points[-1].day, points[-1].price_usd) if points else None

    def price_at(self, symbol: str, when: date | datetime, *, max_age: timedelta | None = None) -> DailyPrice | None:
        """Price on ``when``'s UTC day, else the nearest earlier day (``None`` if none,
        or if that day is older than ``max_age``). Naive datetimes are read as UTC."""
        day = _utc_day(when)
        days, points = self._series(symbol)
        index = bisect.bisect_right(days, day) - 1
        if index < 0:
            return None
        point = points[index]
        if max_age is not None and day - point.day > max_age:
            return None
        return DailyPrice(point.day, point.price_usd)
