"""Retry delays that cover an outage of a known length. Pure (no Django).

Celery's ``retry_backoff`` with ``retry_jitter`` draws each delay uniformly
from 0 to the exponential value, so five retries may all fire within seconds
and give up long before an upstream outage ends. These delays double from
``first`` up to ``cap``, each shortened by at most ``jitter`` (a fraction), and
there are just enough of them that even the shortest draws add up to
``cover`` seconds.
"""

from __future__ import annotations

import random


def backoff_delays(*, first: float, cap: float, cover: float, jitter: float = 0.1) -> list[float]:
    """The nominal delays (before jitter) of a retry schedule covering ``cover`` seconds."""
    if first <= 0 or cap < first or not 0 <= jitter < 1:
        raise ValueError("need 0 < first <= cap and 0 <= jitter < 1")
    delays: list[float] = []
    while sum(delays) * (1 - jitter) < cover:
        delays.append(min(first * 2 ** len(delays), cap))
    return delays


def backoff_countdown(retries: int, delays: list[float], jitter: float = 0.1, rng: random.Random | None = None) -> int:
    """The countdown before retry number ``retries`` (0-based) of a ``backoff_delays`` schedule."""
    nominal = delays[min(retries, len(delays) - 1)]
    draw = (rng or random).uniform(1 - jitter, 1)
    return max(1, round(nominal * draw))
