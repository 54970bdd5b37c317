"""503 instead of 500 when the database is down, for pages and the API alike.

Django turns an exception into a 500 response at every middleware layer, so an
error raised while loading the session or the user (before any view runs) never
reaches an outer middleware as an exception. Instead, ``got_request_exception``
(sent while the exception is being handled) marks the request when the error is a
lost or refused database connection, and :class:`DatabaseOutageMiddleware`
(outermost but for security headers) replaces that request's 500 with:

* under ``/api/`` and for ``/healthz``: a 503 problem-details JSON
  (``config.api.problems.problem_response``);
* elsewhere: the styled ``templates/503.html``, rendered without a request context
  (no context processor, no user, no query);

both with ``Retry-After``. Nothing else changes: Django closes a broken connection at
the end of the request (``CONN_HEALTH_CHECKS``), so the first request after the
database returns opens a new connection and succeeds; no restart is needed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from config.api.problems import problem_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DETAIL = ("The database is not answering, so this can't be shown right now. "
          "It usually comes back within a few minutes.")
JSON_PREFIXES = ("/api/", "/healthz")
FLAG = "_yieldledger_database_down"
#: The page has no script and loads only our own stylesheet.
PAGE_CSP = "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"


def is_database_outage(exc: BaseException | None) -> bool:
    """A refused, lost or timed-out database connection (Django wraps the driver's errors)."""
    return isinstance(exc, OperationalError | InterfaceError)


@receiver(got_request_exception, dispatch_uid="config.outage.mark")
def mark_database_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None and is_database_outage(sys.exc_info()[1]):
        setattr(request, FLAG, True)


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(JSON_PREFIXES):
        response = problem_response(503, title="Service Unavailable", detail=DETAIL)
    else:
        html = render_to_string("503.html", {"detail": DETAIL, "path": request.path})
        response = HttpResponse(html, status=503)
        response["Content-Security-Policy"] = PAGE_CSP
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, FLAG, False):
            logger.warning("database unavailable: answered 503 to %s %s", request.method, request.path)
            return outage_response(request)
        return response
