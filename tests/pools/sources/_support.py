"""Shared helpers for source tests: real recorded payloads served through ``httpx.MockTransport``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class ScriptedTransport:
    """Answers requests with a script of replies (the last one repeats) and records requests."""

    def __init__(self, *replies: Reply):
        if not replies:
            raise ValueError("at least one reply")
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def ok(body: bytes | str, status: int = 200, **headers: str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **headers})


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@functools.cache
def shared_bundled():
    """One BundledSource per test session (it caches the parsed files)."""
    from pools.sources import BundledSource

    return BundledSource()
