"""A small HTTP helper (JSON or raw bytes) with timeouts, retries and exponential backoff.

Retried: timeouts, network errors, HTTP 5xx and HTTP 429 (honouring a numeric
``Retry-After`` up to ``max_backoff``). Not retried: other 4xx, and payload
problems (malformed / truncated JSON) -- those raise at once so the caller can
keep its last good data. ``retries=3`` means up to 4 attempts in total; the
delay before retry *n* (0-based) is ``min(backoff * 2**n, max_backoff)``.
``sleep`` is injectable so tests never wait.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from json import JSONDecodeError
from typing import Any

import httpx

from pools.sources.types import (
    IncompletePayloadError,
    MalformedPayloadError,
    SourceClientError,
    SourceConnectionError,
    SourceError,
    SourceServerError,
    SourceTimeoutError,
)
from pools.sources.validation import loads_json

__all__ = ["DEFAULT_USER_AGENT", "RetryPolicy", "decode_json", "get_bytes", "get_json", "make_client"]

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "yieldledger/0.1 (pools.sources)"


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int) -> float:
        return min(self.backoff * (2**attempt), self.max_backoff)


def make_client(timeout: float | httpx.Timeout) -> httpx.Client:
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json"},
        follow_redirects=True,
    )


_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
_PARTIAL_NUMBER = re.compile(r"[-+.eE0-9]{1,40}")


def _looks_truncated(text: str, exc: JSONDecodeError) -> bool:
    """True when the parser failed only because the document stops early.

    That is: it ran off the end, stopped inside an unclosed string, or the only
    thing left after the error position is the start of a number or literal
    (``"tvlUsd":97698294.`` / ``"apyReward":nu``).
    """
    if exc.msg.startswith("Unterminated string"):
        return True
    tail = text[exc.pos :].strip()
    if not tail:
        return True
    return bool(_PARTIAL_NUMBER.fullmatch(tail)) or any(lit.startswith(tail) for lit in _LITERALS)


def decode_json(body: bytes, url: str = "") -> Any:
    """Decode a body with :func:`loads_json`; distinguish truncated from malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayloadError(f"{url}: body is not UTF-8 ({exc})") from exc
    try:
        return loads_json(text)
    except JSONDecodeError as exc:
        if _looks_truncated(text, exc):
            raise IncompletePayloadError(
                f"{url}: JSON ends early at char {exc.pos} of {len(text)} (truncated body?): {exc.msg}"
            ) from exc
        raise MalformedPayloadError(f"{url}: invalid JSON at char {exc.pos}: {exc.msg}") from exc
    except RecursionError as exc:
        raise MalformedPayloadError(f"{url}: JSON nested too deeply") from exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def get_json(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | httpx.Timeout | None = None,
    policy: RetryPolicy | None = None,
) -> Any:
    """GET ``url`` and return the decoded JSON, or raise a :class:`SourceError` subclass."""
    return decode_json(get_bytes(client, url, params=params, timeout=timeout, policy=policy), url)


def get_bytes(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | httpx.Timeout | None = None,
    policy: RetryPolicy | None = None,
) -> bytes:
    """GET ``url`` and return the body of a 2xx answer, or raise a :class:`SourceError` subclass
    (retrying as the module docstring says)."""
    policy = policy or RetryPolicy()
    attempts = policy.retries + 1
    last_error: SourceError | None = None
    for attempt in range(attempts):
        wait: float | None = None
        try:
            kwargs: dict[str, Any] = {}
            if params:
                kwargs["params"] = params
            if timeout is not None:
                kwargs["timeout"] = timeout
            response = client.get(url, **kwargs)
        except httpx.TimeoutException as exc:
            last_error = SourceTimeoutError(f"{url}: timed out after {attempt + 1} attempt(s): {exc!r}")
        except httpx.TransportError as exc:
            last_error = SourceConnectionError(f"{url}: network error after {attempt + 1} attempt(s): {exc!r}")
        else:
            status = response.status_code
            if status >= 500:
                last_error = SourceServerError(f"{url}: HTTP {status} after {attempt + 1} attempt(s)", status, url)
            elif status == 429:
                last_error = SourceClientError(f"{url}: HTTP 429 rate limited", status, url)
                wait = _retry_after(response)
            elif status >= 400:
                raise SourceClientError(f"{url}: HTTP {status}", status, url)
            elif status >= 300:
                raise SourceClientError(f"{url}: unexpected redirect HTTP {status}", status, url)
            else:
                return response.content
        if attempt + 1 < attempts:
            delay = policy.delay(attempt) if wait is None else min(wait, policy.max_backoff)
            logger.warning("%s (attempt %d/%d); retrying in %.2fs", last_error, attempt + 1, attempts, delay)
            policy.sleep(delay)
    assert last_error is not None
    raise last_error
