"""Pool and price data sources (no Django imports; settings are passed in by the caller).

>>> source = get_source("bundled")            # offline, real shipped data (default)
>>> source = get_source("defillama", retries=2)  # live https://yields.llama.fi
>>> batch = source.fetch_pools()               # PoolBatch(records, rejections, fetched_at)
>>> points = source.fetch_history(batch.records[0].pool_id)

Prices: ``get_source("llama_coins")`` (live, by coin id) or the price methods
of :class:`BundledSource` (by symbol).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pools.sources.bundled import BundledSource, DailyPrice, DailySnapshot, PricePoint
from pools.sources.defillama import DefiLlamaYieldsSource
from pools.sources.llama_coins import DefiLlamaCoinsSource
from pools.sources.stats import ApyStats, compute_apy_stats
from pools.sources.types import (
    IncompletePayloadError,
    MalformedPayloadError,
    PoolBatch,
    PoolHistoryPoint,
    PoolKind,
    PoolPredictions,
    PoolRecord,
    PriceBatch,
    PriceQuote,
    Rejection,
    RejectReason,
    SourceClientError,
    SourceConnectionError,
    SourceError,
    SourceHTTPError,
    SourcePayloadError,
    SourceServerError,
    SourceTimeoutError,
)

__all__ = [
    "SOURCES",
    "ApyStats",
    "BundledSource",
    "DailyPrice",
    "DailySnapshot",
    "DefiLlamaCoinsSource",
    "DefiLlamaYieldsSource",
    "IncompletePayloadError",
    "MalformedPayloadError",
    "PoolBatch",
    "PoolHistoryPoint",
    "PoolKind",
    "PoolPredictions",
    "PoolRecord",
    "PoolSource",
    "PriceBatch",
    "PricePoint",
    "PriceQuote",
    "RejectReason",
    "Rejection",
    "SourceClientError",
    "SourceConnectionError",
    "SourceError",
    "SourceHTTPError",
    "SourcePayloadError",
    "SourceServerError",
    "SourceTimeoutError",
    "compute_apy_stats",
    "get_source",
]


@runtime_checkable
class PoolSource(Protocol):
    """What the ingestion service needs from a pool source."""

    name: str

    def fetch_pools(self) -> PoolBatch: ...

    def fetch_history(self, pool_id: str) -> list[PoolHistoryPoint]: ...


SOURCES: dict[str, type] = {
    "bundled": BundledSource,
    "defillama": DefiLlamaYieldsSource,
    "llama_coins": DefiLlamaCoinsSource,
}


def get_source(name: str | None = "bundled", **kwargs: Any) -> Any:
    """Build a source by name: ``"bundled"`` (default), ``"defillama"`` or ``"llama_coins"``.

    ``kwargs`` go to the class constructor (e.g. ``client=``, ``timeout=``,
    ``retries=``, ``data_dir=``). Raises ``ValueError`` for an unknown name.
    """
    key = (name or "bundled").strip().lower().replace("-", "_")
    try:
        cls = SOURCES[key]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; choose one of {sorted(SOURCES)}") from None
    return cls(**kwargs)
