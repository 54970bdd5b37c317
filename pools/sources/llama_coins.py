"""DeFiLlama coins (prices) source: ``https://coins.llama.fi``.

* ``GET /prices/current/{coins}``
* ``GET /prices/historical/{timestamp}/{coins}``

``coins`` is a comma-joined list of ids: ``{chain}:{address}``
(``ethereum:0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2``) or
``coingecko:{id}`` (``coingecko:ethereum``). The answer is
``{"coins": {"<id>": {"decimals": 18, "symbol": "WETH", "price": 1582.85,
"timestamp": 1667555277, "confidence": 0.99}}}``; ``decimals`` is omitted for
coingecko ids, and unknown ids are simply absent (reported in
``PriceBatch.missing``). Long lists are split into chunks of ``chunk_size`` ids
(one request each) to keep URLs short. Errors and retries as in
:mod:`pools.sources.http`. ``searchWidth`` is passed through when set.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

from pools.sources.http import RetryPolicy, get_json, make_client
from pools.sources.types import (
    IncompletePayloadError,
    MalformedPayloadError,
    PriceBatch,
    PriceQuote,
    Rejection,
    RejectReason,
)
from pools.sources.validation import InvalidRecord, parse_timestamp, to_decimal, utcnow

__all__ = ["DefiLlamaCoinsSource", "parse_price_entry"]

logger = logging.getLogger(__name__)

_COIN_ID = re.compile(r"^[A-Za-z0-9_\-.]+:[A-Za-z0-9_\-.]+$")


def parse_price_entry(coin_id: str, raw: Any) -> PriceQuote:
    """Validate one ``coins[<id>]`` entry (price must be finite and >= 0)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord(RejectReason.NOT_AN_OBJECT, coin_id, coin_id)
    try:
        price = to_decimal(raw.get("price"), "price")
        if price is None:
            raise InvalidRecord(RejectReason.MISSING_FIELD, "price")
        if price < 0:
            raise InvalidRecord(RejectReason.BAD_TYPE, f"price={price} < 0")
        timestamp = parse_timestamp(raw.get("timestamp"))
        if timestamp is None:
            raise InvalidRecord(RejectReason.MISSING_FIELD, "timestamp")
        confidence = to_decimal(raw.get("confidence"), "confidence")
        decimals = to_decimal(raw.get("decimals"), "decimals")
        symbol = raw.get("symbol")
        return PriceQuote(
            coin_id=coin_id,
            symbol=symbol if isinstance(symbol, str) and symbol else None,
            price_usd=price,
            timestamp=timestamp,
            confidence=confidence,
            decimals=int(decimals)
            if decimals is not None and decimals == decimals.to_integral_value() and 0 <= decimals <= 255
            else None,
        )
    except InvalidRecord as exc:
        exc.pool_id = coin_id
        raise


def _unix(when: datetime | date | int) -> int:
    if isinstance(when, bool):
        raise TypeError("timestamp must be a datetime, date or unix seconds")
    if isinstance(when, int):
        return when
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        return int(when.timestamp())
    if isinstance(when, date):
        return int(datetime(when.year, when.month, when.day, tzinfo=UTC).timestamp())
    raise TypeError("timestamp must be a datetime, date or unix seconds")


class DefiLlamaCoinsSource:
    """USD prices by coin id from DeFiLlama's coins API."""

    name = "llama_coins"

    def __init__(
        self,
        client: httpx.Client | None = None,
        base_url: str = "https://coins.llama.fi",
        timeout: float | httpx.Timeout = httpx.Timeout(20.0, connect=10.0),
        retries: int = 3,
        backoff: float = 1.0,
        *,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        chunk_size: int = 50,
        search_width: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self._owns_client = client is None
        self.client = client if client is not None else make_client(timeout)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff, sleep=sleep)
        self.chunk_size = chunk_size
        self.search_width = search_width
        self.clock = clock

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> DefiLlamaCoinsSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- API
    def current_prices(self, coins: Iterable[str]) -> PriceBatch:
        """Latest prices for ``coins`` (``GET /prices/current/{coins}``, chunked)."""
        return self._fetch("/prices/current", self._coin_ids(coins))

    def historical_prices(self, when: datetime | date | int, coins: Iterable[str]) -> PriceBatch:
        """Prices at ``when`` (aware datetime, UTC midnight of a date, or unix seconds)."""
        return self._fetch(f"/prices/historical/{_unix(when)}", self._coin_ids(coins))

    def current_price(self, coin: str) -> PriceQuote | None:
        return self.current_prices([coin]).quotes.get(coin.strip())

    # -- internals
    @staticmethod
    def _coin_ids(coins: Iterable[str]) -> list[str]:
        if isinstance(coins, str):
            coins = coins.split(",")
        ids: list[str] = []
        for coin in coins:
            coin = coin.strip()
            if not _COIN_ID.match(coin):
                raise ValueError(f"not a DeFiLlama coin id (chain:address or coingecko:id): {coin!r}")
            if coin not in ids:
                ids.append(coin)
        return ids

    def _fetch(self, path: str, ids: list[str]) -> PriceBatch:
        quotes: dict[str, PriceQuote] = {}
        rejections: list[Rejection] = []
        params = {"searchWidth": self.search_width} if self.search_width else None
        for start in range(0, len(ids), self.chunk_size):
            chunk = ids[start : start + self.chunk_size]
            url = f"{self.base_url}{path}/{','.join(chunk)}"
            payload = get_json(self.client, url, params=params, timeout=self.timeout, policy=self.policy)
            if not isinstance(payload, Mapping):
                raise MalformedPayloadError(f"{url}: expected a JSON object, got {type(payload).__name__}")
            if "coins" not in payload or payload["coins"] is None:
                raise IncompletePayloadError(f"{url}: no 'coins' in payload")
            entries = payload["coins"]
            if not isinstance(entries, Mapping):
                raise MalformedPayloadError(f"{url}: 'coins' is {type(entries).__name__}, expected an object")
            # DeFiLlama may echo ids in another letter case; match case-insensitively.
            wanted = {c.lower(): c for c in chunk}
            for key, raw in entries.items():
                coin_id = wanted.get(str(key).lower(), str(key))
                try:
                    quotes[coin_id] = parse_price_entry(coin_id, raw)
                except InvalidRecord as exc:
                    rejections.append(exc.as_rejection())
        missing = tuple(c for c in ids if c not in quotes and c not in {r.pool_id for r in rejections})
        if rejections:
            logger.warning("coins: rejected %d price entries: %s", len(rejections), rejections[:5])
        return PriceBatch(quotes=quotes, missing=missing, rejections=tuple(rejections), fetched_at=self.clock())
