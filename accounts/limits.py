"""Brute-force limits on every credential endpoint, with counters in the shared cache.

Each guarded action has two fixed-window counters:

- per client IP (``ip``): one client cannot try many accounts;
- per account *and* client IP (``account``): one client cannot try many passwords on one
  account. Keyed on both, so a stranger who knows an email locks only themselves out, never
  the owner on their own device or network.

For logins the counters count *failures* (``record_failure`` is called by the allauth adapter
when a password is wrong); for password reset, verification resend and sign-up every attempt
counts. ``CredentialLimitMiddleware`` refuses a request over a limit with 429 and
``Retry-After`` (problem JSON under /api/, a page elsewhere) before any view runs.

If the cache (Redis) is down the limits fail open: the request goes through and a warning is
logged. Refusing every login while Redis is down would turn a cache outage into an outage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from config.api.problems import TYPE_BASE, problem_response
from config.clientip import request_client_ip

logger = logging.getLogger(__name__)

LOGIN = "login"
RESET = "reset"
RESEND = "resend"
SIGNUP = "signup"
COUNT_EVERY_ATTEMPT = frozenset({RESET, RESEND, SIGNUP})


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


def parse_rate(text: str) -> Window:
    """``"5/300"`` = at most 5 in any fixed 300-second window."""
    count, _, seconds = text.partition("/")
    window = Window(int(count), int(seconds))
    if window.limit < 1 or window.seconds < 1:
        raise ValueError(f"bad rate {text!r}: both parts must be positive")
    return window


def _rates(action: str) -> dict[str, Window]:
    return {scope: parse_rate(rate) for scope, rate in settings.CREDENTIAL_LIMITS[action].items()}


def _keys(action: str, scope: str, window: Window, ip: str, account: str, now: float) -> tuple[str, int]:
    """The counter's cache key for the current window, and the seconds left in that window."""
    slot = int(now // window.seconds)
    ident = ip if scope == "ip" else f"{account.strip().lower()}|{ip}"
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    left = window.seconds - int(now % window.seconds)
    return f"cred:{action}:{scope}:{window.seconds}:{digest}:{slot}", max(1, left)


def retry_after(action: str, *, ip: str, account: str, now: float | None = None) -> int | None:
    """Seconds until the caller may try again, or None when under every limit."""
    now = time.time() if now is None else now
    worst = None
    try:
        for scope, window in _rates(action).items():
            if scope == "account" and not account:
                continue
            key, left = _keys(action, scope, window, ip, account, now)
            if (cache.get(key) or 0) >= window.limit:
                worst = max(worst or 0, left)
    except Exception:  # noqa: BLE001 - any cache failure: fail open, loudly
        logger.warning("Credential limits unavailable (cache error); allowing %s from %s", action, ip,
                       exc_info=True)
        return None
    return worst


def record(action: str, *, ip: str, account: str, now: float | None = None) -> None:
    """Count one attempt (or failure) against both counters."""
    now = time.time() if now is None else now
    try:
        for scope, window in _rates(action).items():
            if scope == "account" and not account:
                continue
            key, _ = _keys(action, scope, window, ip, account, now)
            if not cache.add(key, 1, window.seconds + 1):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, window.seconds + 1)
    except Exception:  # noqa: BLE001
        logger.warning("Credential limits unavailable (cache error); not counting %s from %s", action, ip,
                       exc_info=True)


def record_failure(request: HttpRequest, account: str) -> None:
    record(LOGIN, ip=request_client_ip(request) or "", account=account)


def _submitted_account(request: HttpRequest) -> str:
    """The email the client submitted (form field ``login`` or ``email``, or JSON ``email``)."""
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
        else:
            data = request.POST
        if not hasattr(data, "get"):
            return ""
        value = data.get("email") or data.get("login") or ""
    except (ValueError, RequestDataTooBig, UnicodeDecodeError, RecursionError):
        return ""
    return value if isinstance(value, str) else ""


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    detail = f"Too many attempts. Try again in {seconds} seconds."
    if request.path.startswith("/api/"):
        response = problem_response(429, title="Too many requests", detail=detail,
                                    type_=TYPE_BASE + "too-many-attempts")
    else:
        response = render(request, "429.html", {"retry_after": seconds, "detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def guarded_paths() -> dict[str, str]:
    """Path -> action, for every credential endpoint (the admin login redirects to the web login)."""
    names = {
        LOGIN: ["account_login", "api-token", "headless:app:account:login"],
        RESET: ["account_reset_password", "headless:app:account:request_password_reset"],
        RESEND: ["headless:app:account:resend_email_verification_code", "account_email"],
        SIGNUP: ["account_signup", "headless:app:account:signup"],
    }
    paths: dict[str, str] = {}
    for action, url_names in names.items():
        for name in url_names:
            try:
                paths[reverse(name)] = action
            except NoReverseMatch:
                continue
    return paths


class CredentialLimitMiddleware:
    """Refuse POSTs to credential endpoints over their limits (429 + Retry-After)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: dict[str, str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        if self._paths is None:
            self._paths = guarded_paths()
        action = self._paths.get(request.path)
        if action is None:
            return self.get_response(request)
        ip = request_client_ip(request) or ""
        account = _submitted_account(request)
        wait = retry_after(action, ip=ip, account=account)
        if wait is not None:
            return too_many(request, wait)
        if action in COUNT_EVERY_ATTEMPT:
            record(action, ip=ip, account=account)
        return self.get_response(request)
