"""A Redis cache that fails open: when Redis is unreachable, the site keeps serving.

Everything we keep in the cache is an optimisation or a limit, never the only copy
of anything: API throttle counters, allauth's login rate limits, cached counts and
pool lists, the data-version key, import previews, idempotency replays. So when
Redis is down (refused, timed out, reset), :class:`FailOpenRedisCache` answers as an
empty cache that accepts every write:

* reads (``get``, ``get_many``, ``has_key``) return a miss;
* ``add`` returns True (the caller goes ahead: throttles and rate limits let the
  request through, allauth's lock loop ends, a lock-free request runs);
* ``set``/``delete``/``touch`` do nothing and say so (False);
* ``incr`` raises ``ValueError`` as for a missing key (Django's contract).

It logs one warning per outage window (not one per call), and after a failure it
does not try Redis again for ``RETRY_AFTER_SECONDS``, so a dead Redis costs one
connection attempt per few seconds per process, not one per cache call.

Limits fail *open*: while Redis is down, API throttles and login rate limits are not
enforced (logged). Celery's broker is the same Redis; task requests are handled
by the callers (``config.celery.BaseTask.delay_on_commit`` logs a failed send).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: After a failure, calls skip Redis for this long (then one call tries again).
RETRY_AFTER_SECONDS = 5.0
DOWN_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


class _Outage:
    """Per-process state: since when Redis is known to be down (0.0: not known down)."""

    def __init__(self) -> None:
        self.down_since = 0.0
        self.retry_at = 0.0
        self.lock = threading.Lock()

    def skip(self) -> bool:
        return self.retry_at > time.monotonic()

    def failed(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            first = self.down_since == 0.0
            if first:
                self.down_since = now
            self.retry_at = now + RETRY_AFTER_SECONDS
        if first:
            logger.warning(
                "Redis cache unreachable (%s in %s): serving without the cache; throttles and "
                "rate limits are not enforced until it returns", exc.__class__.__name__, operation,
            )

    def succeeded(self) -> None:
        if self.down_since:
            with self.lock:
                was_down = time.monotonic() - self.down_since if self.down_since else 0.0
                self.down_since = self.retry_at = 0.0
            logger.warning("Redis cache reachable again after %.0f s", was_down)


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache, answering as an empty cache while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.outage = _Outage()

    @property
    def is_down(self) -> bool:
        """True while calls skip Redis after a recent failure."""
        return self.outage.skip()

    def _call(self, operation: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if self.outage.skip():
            return fallback
        try:
            result = getattr(super(), operation)(*args, **kwargs)
        except DOWN_ERRORS as exc:
            self.outage.failed(operation, exc)
            return fallback
        self.outage.succeeded()
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(self._call("add", True, key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", default, key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> Any:
        return self._call("set", False, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(self._call("touch", False, key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("delete", False, key, version))

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return dict(self._call("get_many", {}, keys, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("has_key", False, key, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        result = self._call("incr", missing, key, delta, version)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable)")
        return int(result)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return list(self._call("set_many", list(data), data, timeout, version))

    def delete_many(self, keys: Any, version: int | None = None) -> Any:
        return self._call("delete_many", None, keys, version)

    def clear(self) -> Any:
        return self._call("clear", False)
