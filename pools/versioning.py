"""A version stamp of the pool data, for caches that must not outlive a refresh.

Readers put ``data_version()`` in their cache keys; every write that changes what
lists show (a refresh, a history backfill, a protocol edit) calls
``data_version_bump()`` after it commits, so stale entries are simply never read
again (they expire on their own). If the cache forgets the stamp, a new one is
made: the cost is one round of misses, never stale data.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction

KEY = "pools:data-version"


def data_version() -> str:
    version = cache.get(KEY)
    if version is None:
        version = uuid.uuid4().hex[:12]
        if not cache.add(KEY, version, None):
            version = cache.get(KEY) or version
    return version


def data_version_bump() -> None:
    """Invalidate every cache keyed on the data version, once the current transaction commits."""
    transaction.on_commit(lambda: cache.set(KEY, uuid.uuid4().hex[:12], None))
