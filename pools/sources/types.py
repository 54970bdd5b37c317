"""Typed records, enums and errors shared by every pool/price source.

Nothing here imports Django: sources return these plain frozen dataclasses and the
ingestion service maps them onto models. Numbers are ``Decimal`` (see ``validation``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "IncompletePayloadError",
    "MalformedPayloadError",
    "PoolBatch",
    "PoolHistoryPoint",
    "PoolKind",
    "PoolPredictions",
    "PoolRecord",
    "PriceBatch",
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
]


# --------------------------------------------------------------------------- errors
class SourceError(Exception):
    """Base class: the source could not deliver a trustworthy payload.

    The caller should keep serving the last good data when it catches this.
    """


class SourceTimeoutError(SourceError):
    """The request timed out (after all retries)."""


class SourceConnectionError(SourceError):
    """Network-level failure (DNS, refused connection, reset...) after all retries."""


class SourceHTTPError(SourceError):
    """The server answered with an error status."""

    def __init__(self, message: str, status_code: int, url: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.url = url


class SourceServerError(SourceHTTPError):
    """HTTP 5xx (after all retries)."""


class SourceClientError(SourceHTTPError):
    """HTTP 4xx (not retried, except 429 which is retried like a 5xx)."""


class SourcePayloadError(SourceError):
    """The body arrived but cannot be trusted as a complete, well-formed answer."""


class MalformedPayloadError(SourcePayloadError):
    """The body is not valid JSON, or has the wrong shape (e.g. ``data`` is not a list)."""


class IncompletePayloadError(SourcePayloadError):
    """The body is cut short or reports failure.

    Raised for: a JSON document that ends early (truncated download, empty body),
    ``status != "success"``, a missing ``data``/``coins`` key, or fewer valid
    records than the configured sanity minimum.
    """


# --------------------------------------------------------------------------- records
class PoolKind(StrEnum):
    """What kind of position a pool is. See ``pools.sources.classify`` for the mapping."""

    CONCENTRATED = "concentrated"
    STABLESWAP = "stableswap"
    AMM = "amm"
    WEIGHTED = "weighted"
    LENDING = "lending"
    STAKING = "staking"
    LIQUID_STAKING = "liquid_staking"
    YIELD = "yield"
    UNKNOWN = "unknown"


class RejectReason(StrEnum):
    NOT_AN_OBJECT = "not_an_object"
    MISSING_POOL_ID = "missing_pool_id"
    DUPLICATE_POOL_ID = "duplicate_pool_id"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"
    NON_FINITE = "non_finite"
    TVL_OUT_OF_RANGE = "tvl_out_of_range"
    APY_TOO_HIGH = "apy_too_high"
    BAD_TIMESTAMP = "bad_timestamp"
    NEGATIVE = "negative"  # an APY, volume or sigma below zero (field-level)
    OUT_OF_RANGE = "out_of_range"  # a volume, percent change or statistic too large to be real (field-level)


@dataclass(frozen=True, slots=True)
class PoolPredictions:
    """DeFiLlama's ML forecast of the APY trend (``predictions`` object)."""

    predicted_class: str | None
    predicted_probability: Decimal | None
    binned_confidence: int | None


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """One pool with its latest metrics, as the ingestion service upserts it.

    ``pool_id`` is DeFiLlama's pool UUID (the ``pool`` field). APYs are in
    percent (``5`` means 5 %/year). ``derived`` names the fields that were not in
    the source record but derived by us (see ``pools.sources.classify``), so the
    UI can mark them as estimates. ``origin`` says where the record came from.

    ``invalid`` lists the fields that failed validation, as ``(field, reason)``
    pairs; each such field is ``None`` here and ingestion keeps the pool's last
    good value for it (a new pool without a valid ``tvl_usd`` is not created).
    ``address`` is the pool's contract address when the payload has one.
    """

    pool_id: str
    chain: str
    project: str
    symbol: str
    tvl_usd: Decimal | None  # None only when invalid (see ``invalid``)
    kind: PoolKind = PoolKind.UNKNOWN
    pool_meta: str | None = None
    apy: Decimal | None = None
    apy_base: Decimal | None = None
    apy_reward: Decimal | None = None
    apy_mean_30d: Decimal | None = None
    apy_base_7d: Decimal | None = None
    apy_pct_1d: Decimal | None = None
    apy_pct_7d: Decimal | None = None
    apy_pct_30d: Decimal | None = None
    volume_usd_1d: Decimal | None = None
    volume_usd_7d: Decimal | None = None
    il_7d: Decimal | None = None
    underlying_tokens: tuple[str, ...] | None = None
    reward_tokens: tuple[str, ...] | None = None
    stablecoin: bool | None = None
    il_risk: str | None = None  # "yes" / "no"
    exposure: str | None = None  # "single" / "multi"
    mu: Decimal | None = None
    sigma: Decimal | None = None
    count: int | None = None
    outlier: bool | None = None
    predictions: PoolPredictions | None = None
    updated_at: datetime | None = None  # the record's own timestamp, when the payload has one
    derived: frozenset[str] = frozenset()
    origin: str = ""
    invalid: tuple[tuple[str, str], ...] = ()
    address: str | None = None

    @property
    def invalid_fields(self) -> dict[str, str]:
        return dict(self.invalid)


@dataclass(frozen=True, slots=True)
class PoolHistoryPoint:
    """One point of ``/chart/{pool}``: aware UTC timestamp, TVL and APYs (percent)."""

    timestamp: datetime
    tvl_usd: Decimal | None
    apy: Decimal | None
    apy_base: Decimal | None = None
    apy_reward: Decimal | None = None
    il_7d: Decimal | None = None
    apy_base_7d: Decimal | None = None

    @property
    def day(self) -> date:
        return self.timestamp.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A USD price for one coin id (``ethereum:0x...`` or ``coingecko:ethereum``)."""

    coin_id: str
    symbol: str | None
    price_usd: Decimal
    timestamp: datetime
    confidence: Decimal | None = None
    decimals: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record left out of a batch. ``reason`` is a :class:`RejectReason` value."""

    pool_id: str | None
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PoolBatch:
    """The result of ``fetch_pools()``.

    ``fetched_at`` is when the data was fetched from the API (for the bundled
    source: the newest record timestamp in the shipped files, i.e. the data's as-of).
    """

    records: tuple[PoolRecord, ...]
    rejections: tuple[Rejection, ...]
    fetched_at: datetime
    source: str = ""

    @property
    def rejection_counts(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.rejections))

    def by_id(self) -> dict[str, PoolRecord]:
        return {r.pool_id: r for r in self.records}


@dataclass(frozen=True, slots=True)
class PriceBatch:
    """The result of a price query: quotes by coin id, ids with no price, bad entries."""

    quotes: dict[str, PriceQuote]
    missing: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    fetched_at: datetime
