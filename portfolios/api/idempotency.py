"""``Idempotency-Key`` for POSTs that create things (mobile clients retry on flaky networks).

The first request with a key runs; its response (status and body) is kept in the
cache for ``TTL`` and any retry with the same key - by the same user, with the
same body - gets that response again instead of creating a second transaction.
The same key with a different body is refused (422): it is a client bug. While
the first request is still running, a retry waits briefly, then answers 409.

Keys are per user (one user cannot replay another's), at most 255 characters.
Server errors (5xx) are not kept, so a retry after one runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from django.core.cache import cache
from rest_framework import status
from rest_framework.response import Response

HEADER = "Idempotency-Key"
TTL = 24 * 60 * 60
LOCK_TTL = 60
WAIT_SECONDS = 5.0


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):  # pragma: no cover - multipart bodies are not replayed
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(request, run: Callable[[], Response]) -> Response:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return run()
    if len(key) > 255:
        return Response({"detail": f"{HEADER} is longer than 255 characters."}, status=status.HTTP_400_BAD_REQUEST)
    base = "idem:" + hashlib.sha256(f"{request.user.pk}:{key}".encode()).hexdigest()
    fingerprint = _fingerprint(request)

    def replay(stored: dict) -> Response:
        if stored["fingerprint"] != fingerprint:
            return Response({"detail": f"This {HEADER} was already used with a different request."},
                            status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        response = Response(stored["data"], status=stored["status"])
        response["Idempotent-Replayed"] = "true"
        return response

    stored = cache.get(base)
    if stored is not None:
        return replay(stored)
    # cache.add is atomic (Redis SET NX): only one request runs a key at a time.
    if not cache.add(base + ":lock", 1, LOCK_TTL):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
            stored = cache.get(base)
            if stored is not None:
                return replay(stored)
        return Response({"detail": "A request with this Idempotency-Key is still being processed; retry later."},
                        status=status.HTTP_409_CONFLICT)
    try:
        response = run()
        if response.status_code < 500:
            cache.set(base, {"fingerprint": fingerprint, "status": response.status_code, "data": response.data}, TTL)
        return response
    finally:
        cache.delete(base + ":lock")
