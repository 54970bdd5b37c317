"""A per-chain concurrency limit for syncs on many workers: a Redis counting semaphore.

``WALLETS_CHAIN_CONCURRENCY`` slots per chain (``SET slot token NX EX ttl`` on one of N
keys); a worker that gets none waits and tries again (up to ``wait`` seconds). Slots
expire on their own (``ttl``) so a killed worker cannot hold one for ever. Without
Redis (the embedded default: tasks run in process, one at a time) there is nothing to
limit and every acquire succeeds.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings


class ChainBusy(Exception):
    """Every slot of the chain stayed taken for the whole wait."""


def _client() -> redis.Redis | None:
    url = getattr(settings, "REDIS_URL", "")
    return redis.Redis.from_url(url) if url else None


@contextmanager
def chain_slot(chain_slug: str, *, limit: int | None = None, ttl: int = 3600, wait: float = 30.0) -> Iterator[int]:
    """Hold one of the chain's slots for the block; yields the slot number (-1 without Redis)."""
    limit = limit or int(getattr(settings, "WALLETS_CHAIN_CONCURRENCY", 4))
    client = _client()
    if client is None:
        yield -1
        return
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    slot = None
    try:
        while slot is None:
            for i in range(limit):
                if client.set(f"wallets:chain-slot:{chain_slug}:{i}", token, nx=True, ex=ttl):
                    slot = i
                    break
            if slot is None:
                if time.monotonic() >= deadline:
                    raise ChainBusy(f"all {limit} sync slots of {chain_slug} are busy")
                time.sleep(0.2)
        yield slot
    finally:
        if slot is not None:
            key = f"wallets:chain-slot:{chain_slug}:{slot}"
            # Release only our own slot (it may have expired and been taken by another worker).
            if client.get(key) == token.encode():
                client.delete(key)
        client.close()
