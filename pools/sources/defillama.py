"""Live DeFiLlama yields source: ``GET /pools`` and ``GET /chart/{pool}``.

Both endpoints answer ``{"status": "success", "data": [...]}``. Anything else
raises a :class:`~pools.sources.types.SourceError` subclass (see ``types``), so the
caller can keep serving its last good data:

* timeout / network error / 5xx / 429 -> retried with exponential backoff, then
  ``SourceTimeoutError`` / ``SourceConnectionError`` / ``SourceServerError`` /
  ``SourceClientError``;
* other 4xx -> ``SourceClientError`` at once;
* invalid JSON or wrong shape -> ``MalformedPayloadError``;
* cut body, ``status != "success"``, no ``data``, or fewer valid pools than
  ``min_pools`` -> ``IncompletePayloadError``;
* the whole call (retries included) outlasting ``deadline`` seconds ->
  ``SourceTimeoutError`` (see ``pools.sources.http``: a trickling body cannot hold it).

Individual bad records never fail the batch: a record without a usable identity
is rejected with a reason (``PoolBatch.rejections``); a bad number only marks that
field invalid (``PoolRecord.invalid``), and ingestion keeps its last good value.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from pools.sources.http import RetryPolicy, deadline_in, get_json, make_client
from pools.sources.types import IncompletePayloadError, MalformedPayloadError, PoolBatch, PoolHistoryPoint
from pools.sources.validation import InvalidRecord, parse_history_point, utcnow, validate_pools

__all__ = ["DEFAULT_MIN_POOLS", "DefiLlamaYieldsSource", "unwrap_envelope"]

logger = logging.getLogger(__name__)

#: The live ``/pools`` lists ~15-20k pools; far fewer means a partial answer.
DEFAULT_MIN_POOLS = 1000
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # per connect / read; /pools is a multi-MB body
DEFAULT_DEADLINE = 120.0  # seconds for a whole call, retries included
_POOL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$")


def unwrap_envelope(payload: Any, url: str = "") -> list[Any]:
    """Return ``payload["data"]`` after checking the ``{"status","data"}`` envelope."""
    if not isinstance(payload, Mapping):
        raise MalformedPayloadError(f"{url}: expected a JSON object, got {type(payload).__name__}")
    status = payload.get("status")
    if status != "success":
        raise IncompletePayloadError(f"{url}: status={status!r} (expected 'success')")
    if "data" not in payload or payload["data"] is None:
        raise IncompletePayloadError(f"{url}: no 'data' in payload")
    data = payload["data"]
    if not isinstance(data, list):
        raise MalformedPayloadError(f"{url}: 'data' is {type(data).__name__}, expected a list")
    return data


class DefiLlamaYieldsSource:
    """Pools and pool history from ``https://yields.llama.fi``.

    ``client``: an ``httpx.Client`` to use (not closed by us); ``None`` creates
    one, closed by :meth:`close` / the context manager. ``timeout`` applies per
    connect and per read; ``deadline`` (seconds, ``None`` = none) bounds each
    whole call, retries included; ``retries``/``backoff``/``max_backoff``/``sleep`` configure
    :class:`~pools.sources.http.RetryPolicy`. ``min_pools`` is the sanity floor
    for ``/pools``. ``categories`` (project slug -> DeFiLlama category) sharpens
    the inferred pool kind. ``clock`` returns the ``fetched_at`` time.
    """

    name = "defillama"

    def __init__(
        self,
        client: httpx.Client | None = None,
        base_url: str = "https://yields.llama.fi",
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 1.0,
        *,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        min_pools: int = DEFAULT_MIN_POOLS,
        categories: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        deadline: float | None = DEFAULT_DEADLINE,
    ):
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self._owns_client = client is None
        self.client = client if client is not None else make_client(timeout)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff, sleep=sleep)
        self.min_pools = min_pools
        self.categories = dict(categories or {})
        self.clock = clock
        self.deadline = deadline

    # -- lifecycle
    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> DefiLlamaYieldsSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- API
    def fetch_pools(self) -> PoolBatch:
        """``GET /pools`` -> validated :class:`PoolBatch`."""
        url = f"{self.base_url}/pools"
        payload = get_json(self.client, url, timeout=self.timeout, policy=self.policy,
                           deadline=deadline_in(self.deadline))
        fetched_at = self.clock()
        data = unwrap_envelope(payload, url)
        records, rejections = validate_pools(data, origin=self.name, categories=self.categories)
        usable = sum(1 for r in records if "tvl_usd" not in r.invalid_fields)
        if usable < self.min_pools:
            raise IncompletePayloadError(
                f"{url}: only {usable} valid pools of {len(data)} received "
                f"(sanity minimum {self.min_pools}); refusing a partial snapshot"
            )
        if rejections:
            counts: dict[str, int] = {}
            for rejection in rejections:
                counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
            logger.warning("%s: rejected %d of %d pools: %s", url, len(rejections), len(data), counts)
        return PoolBatch(tuple(records), tuple(rejections), fetched_at, source=self.name)

    def fetch_history(self, pool_id: str) -> list[PoolHistoryPoint]:
        """``GET /chart/{pool}`` -> points sorted by time (invalid points dropped and logged)."""
        if not isinstance(pool_id, str) or not _POOL_ID.match(pool_id):
            raise ValueError(f"not a DeFiLlama pool id: {pool_id!r}")
        url = f"{self.base_url}/chart/{quote(pool_id, safe='')}"
        payload = get_json(self.client, url, timeout=self.timeout, policy=self.policy,
                           deadline=deadline_in(self.deadline))
        data = unwrap_envelope(payload, url)
        points: list[PoolHistoryPoint] = []
        dropped: dict[str, int] = {}
        for item in data:
            try:
                points.append(parse_history_point(item))
            except InvalidRecord as exc:
                dropped[str(exc.reason)] = dropped.get(str(exc.reason), 0) + 1
        if dropped:
            logger.warning("%s: dropped %d of %d points: %s", url, sum(dropped.values()), len(data), dropped)
        points.sort(key=lambda p: p.timestamp)
        return points
