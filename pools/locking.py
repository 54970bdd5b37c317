"""No two refreshes of the same kind at once.

PostgreSQL: a *session-level* advisory lock (``pg_try_advisory_lock``), held by
the database connection rather than a transaction, because a refresh spans
several transactions (fetch, ingest, statistics, risk) and records its own
RefreshRun rows in between. If the worker dies, its connection closes and
PostgreSQL releases the lock: no stale lock to clean up.

SQLite (embedded default, one process): ``cache.add`` on a key with a timeout,
released by its owner. The timeout bounds a lock left by a crashed process.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import DatabaseError, connection

CACHE_LOCK_TIMEOUT = 30 * 60  # longer than the refresh task's hard time limit


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_*_advisory_lock`` ("yl:" namespace + crc32)."""
    return (0x796C << 32) | zlib.crc32(f"pools.refresh:{name}".encode())


@contextmanager
def refresh_lock(name: str, *, enabled: bool = True) -> Iterator[bool]:
    """Yield ``True`` if this process holds the lock for ``name``, ``False`` if
    another refresh holds it. ``enabled=False`` always yields ``True`` (tests
    use it to show the race the lock prevents)."""
    if not enabled:
        yield True
        return
    if connection.vendor == "postgresql":
        key = lock_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                except DatabaseError:
                    # The connection is gone, and the lock with it; do not mask the original error.
                    pass
        return
    cache_key = f"pools:refresh-lock:{name}"
    token = uuid.uuid4().hex
    acquired = cache.add(cache_key, token, CACHE_LOCK_TIMEOUT)
    try:
        yield acquired
    finally:
        if acquired and cache.get(cache_key) == token:
            cache.delete(cache_key)
