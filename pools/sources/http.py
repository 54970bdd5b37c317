"""A small HTTP helper (JSON or raw bytes) with timeouts, retries, exponential backoff
and an overall deadline.

Retried: timeouts, network errors, HTTP 5xx and HTTP 429 (honouring a numeric
``Retry-After`` up to ``max_backoff``). Not retried: other 4xx, and payload
problems (malformed / truncated JSON) -- those raise at once so the caller can
keep its last good data. ``retries=3`` means up to 4 attempts in total; the
delay before retry *n* (0-based) is ``min(backoff * 2**n, max_backoff)``.
``sleep`` is injectable so tests never wait.

Deadline
--------
httpx's timeouts apply to each connect and each read, so a server that trickles
a byte every few seconds never trips them and can hold a caller for as long as
it likes. ``deadline`` (a ``time.monotonic()`` instant) bounds the whole call,
retries and backoff sleeps included: every attempt's connect and read timeouts
are capped at the time left; the body is streamed and the clock checked after
each chunk; and a watchdog timer shuts the socket down at the deadline, which
wakes a read blocked on a silent server. Past the deadline the call raises
:class:`SourceTimeoutError`.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
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

__all__ = ["DEFAULT_USER_AGENT", "RetryPolicy", "decode_json", "deadline_in", "get_bytes", "get_json", "make_client"]

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


def _retry_after_value(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def deadline_in(seconds: float | None) -> float | None:
    """A deadline ``seconds`` from now on the monotonic clock (``None``: no deadline)."""
    return None if seconds is None else time.monotonic() + float(seconds)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _capped(timeout: float | httpx.Timeout | None, left: float | None) -> float | httpx.Timeout | None:
    """``timeout`` with every phase capped at ``left`` seconds."""
    if left is None:
        return timeout
    left = max(left, 0.001)
    if timeout is None:
        return httpx.Timeout(left)
    if not isinstance(timeout, httpx.Timeout):
        return min(float(timeout), left)

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write),
                         pool=cap(timeout.pool))


class _Watchdog:
    """Shuts the response's socket down at the deadline, so that a read blocked on a
    silent server returns at once (closing a socket from another thread would not
    wake it; ``shutdown`` does). Without a real socket (tests' mock transports) it
    does nothing: the per-chunk check still applies."""

    def __init__(self, response: httpx.Response, left: float | None):
        self.fired = False
        self._timer: threading.Timer | None = None
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if left is not None and sock is not None:
            self._timer = threading.Timer(max(left, 0.0), self._fire, args=(sock,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, sock) -> None:
        self.fired = True
        try:  # the plain socket's shutdown, under any TLS wrapper
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _deadline_error(url: str, started: float) -> SourceTimeoutError:
    return SourceTimeoutError(f"{url}: overall deadline exceeded after {time.monotonic() - started:.1f}s "
                              "(slow or trickling response)")


def _get_body(client: httpx.Client, url: str, kwargs: dict[str, Any], deadline: float | None,
              started: float) -> tuple[int, httpx.Headers, bytes]:
    """One GET, body streamed under the deadline: (status, headers, body)."""
    with client.stream("GET", url, **kwargs) as response:
        if response.status_code >= 300:
            return response.status_code, response.headers, b""
        watchdog = _Watchdog(response, _left(deadline))
        chunks: list[bytes] = []
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if deadline is not None and time.monotonic() >= deadline:
                    raise _deadline_error(url, started)
        except httpx.TransportError:
            if watchdog.fired:
                raise _deadline_error(url, started) from None
            raise
        finally:
            watchdog.cancel()
        return response.status_code, response.headers, b"".join(chunks)


def get_json(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | httpx.Timeout | None = None,
    policy: RetryPolicy | None = None,
    deadline: float | None = None,
) -> Any:
    """GET ``url`` and return the decoded JSON, or raise a :class:`SourceError` subclass."""
    body = get_bytes(client, url, params=params, timeout=timeout, policy=policy, deadline=deadline)
    return decode_json(body, url)


def get_bytes(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | httpx.Timeout | None = None,
    policy: RetryPolicy | None = None,
    deadline: float | None = None,
) -> bytes:
    """GET ``url`` and return the body of a 2xx answer, or raise a :class:`SourceError` subclass
    (retrying as the module docstring says).

    ``deadline`` (``time.monotonic()`` instant, see :func:`deadline_in`) bounds the
    whole call, retries included."""
    policy = policy or RetryPolicy()
    attempts = policy.retries + 1
    started = time.monotonic()
    last_error: SourceError | None = None
    for attempt in range(attempts):
        left = _left(deadline)
        if left is not None and left <= 0:
            raise _deadline_error(url, started)
        wait: float | None = None
        try:
            kwargs: dict[str, Any] = {}
            if params:
                kwargs["params"] = params
            capped = _capped(timeout, left)
            if capped is not None:
                kwargs["timeout"] = capped
            status, headers, body = _get_body(client, url, kwargs, deadline, started)
        except httpx.TimeoutException as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise _deadline_error(url, started) from exc
            last_error = SourceTimeoutError(f"{url}: timed out after {attempt + 1} attempt(s): {exc!r}")
        except httpx.TransportError as exc:
            last_error = SourceConnectionError(f"{url}: network error after {attempt + 1} attempt(s): {exc!r}")
        else:
            if status >= 500:
                last_error = SourceServerError(f"{url}: HTTP {status} after {attempt + 1} attempt(s)", status, url)
            elif status == 429:
                last_error = SourceClientError(f"{url}: HTTP 429 rate limited", status, url)
                wait = _retry_after_value(headers)
            elif status >= 400:
                raise SourceClientError(f"{url}: HTTP {status}", status, url)
            elif status >= 300:
                raise SourceClientError(f"{url}: unexpected redirect HTTP {status}", status, url)
            else:
                return body
        if attempt + 1 < attempts:
            delay = policy.delay(attempt) if wait is None else min(wait, policy.max_backoff)
            left = _left(deadline)
            if left is not None and delay >= left:
                break  # no time for another attempt: report the last error
            logger.warning("%s (attempt %d/%d); retrying in %.2fs", last_error, attempt + 1, attempts, delay)
            policy.sleep(delay)
    assert last_error is not None
    raise last_error
