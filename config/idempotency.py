"""``Idempotency-Key`` on every create of the API (mobile clients retry on flaky networks).

:class:`IdempotencyMiddleware` covers every ``POST`` under ``/api/v1/`` (except
the token endpoint) without touching a view. A POST that carries the header:

* runs the first time; its response (status, body, ``Content-Type`` and
  ``Location``) is kept in the cache for ``TTL``, unless it is a server error
  (5xx) or a "try again" answer (408, 409, 425, 429): a retry after one of those
  runs again;
* with the same key, by the same user, with the same request (method, path and
  body - JSON compared by value, uploads by content), gets that response again,
  marked ``Idempotent-Replayed: true``, and nothing is created twice;
* with the same key and a different request answers ``422``: the client reused
  a key by mistake;
* while the first request with that key is still running answers ``409`` with
  ``Retry-After`` at once (no thread waits): the client retries shortly and then
  gets the replay.

Keys are per user (two users may use the same key; one cannot replay the
other's response) and at most 255 characters. Anonymous requests pass through
untouched (the view refuses them). The user is found the way the API finds it:
DRF's authentication classes (session or token; a test's forced user too).

The schema documents the header on every such POST (:func:`document_header`, a
drf-spectacular postprocessing hook).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from config.api.problems import problem_response
from config.formatting import plain_number

HEADER = "Idempotency-Key"
PREFIX = "/api/v1/"
#: POSTs under PREFIX that are not creates (a replayed token would sit in the cache).
EXEMPT = ("/api/v1/auth/token/",)
MAX_KEY_LENGTH = 255
TTL = 24 * 60 * 60
#: How long a key stays claimed by a request that never finishes (a killed worker).
LOCK_TTL = 60
#: Seconds a concurrent duplicate is told to wait before it retries.
RETRY_AFTER = 1
#: Answers that mean "try again": never replayed.
_NOT_KEPT = frozenset({408, 409, 425, 429})
_KEPT_HEADERS = ("Content-Type", "Location")


def _canonical_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_number(value)
    raise TypeError(type(value).__name__)


def fingerprint(request: HttpRequest) -> str:
    """What makes two requests "the same": method, path and body. A JSON body counts by
    value (key order, spacing and ``1.50`` vs ``1.5`` do not matter); a multipart body by
    its fields and the content of its files."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Reading POST/FILES here is supported by DRF (it reuses the parsed data); the
        # body itself may be larger than DATA_UPLOAD_MAX_MEMORY_SIZE.
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(json.dumps([name, upload.name, file_digest.hexdigest()]).encode())
        return digest.hexdigest()
    body = request.body
    if content_type == "application/json":
        try:
            body = json.dumps(json.loads(body, parse_float=Decimal), sort_keys=True, default=_canonical_json).encode()
        except (ValueError, TypeError):
            pass  # not valid JSON: compare the bytes (the view rejects it anyway)
    digest.update(body)
    return digest.hexdigest()


def _api_user_id(request: HttpRequest) -> int | None:
    """The id of the user the API will see for this request, or None (anonymous,
    or credentials the view will refuse)."""
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        user = Request(request, authenticators=authenticators).user
    except APIException:
        return None
    return user.pk if user is not None and user.is_authenticated else None


def _problem(status: int, detail: str, **headers: str) -> HttpResponse:
    response = problem_response(status, detail=detail)
    for name, value in headers.items():
        response[name] = value
    return response


class IdempotencyMiddleware:
    """See the module docstring. Runs after ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = (request.headers.get(HEADER) or "").strip()
        if (
            request.method != "POST"
            or not key
            or not request.path.startswith(PREFIX)
            or request.path.startswith(EXEMPT)
        ):
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return _problem(400, f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.")
        user_id = _api_user_id(request)
        if user_id is None:
            return self.get_response(request)
        base = "idem:" + hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()
        lock = base + ":running"
        mine = fingerprint(request)

        stored = cache.get(base)
        if stored is not None:
            return self._replay(stored, mine)
        # cache.add is atomic (Redis SET NX): one request at a time runs a key. The lock
        # holds the request's fingerprint, so a different request is told so at once.
        if not cache.add(lock, mine, LOCK_TTL):
            stored = cache.get(base)  # the first one may have finished in between
            if stored is not None:
                return self._replay(stored, mine)
            if cache.get(lock) not in (None, mine):
                return self._reused()
            return _problem(
                409,
                f"A request with this {HEADER} is still being processed; retry in a moment.",
                **{"Retry-After": str(RETRY_AFTER)},
            )
        try:
            response = self.get_response(request)
            if response.status_code < 500 and response.status_code not in _NOT_KEPT and not response.streaming:
                cache.set(
                    base,
                    {
                        "fingerprint": mine,
                        "status": response.status_code,
                        "content": response.content,
                        "headers": {name: response[name] for name in _KEPT_HEADERS if name in response},
                    },
                    TTL,
                )
            return response
        finally:
            cache.delete(lock)

    @staticmethod
    def _reused() -> HttpResponse:
        return _problem(422, f"This {HEADER} was already used with a different request.")

    def _replay(self, stored: dict[str, Any], mine: str) -> HttpResponse:
        if stored["fingerprint"] != mine:
            return self._reused()
        response = HttpResponse(stored["content"], status=stored["status"])
        for name, value in stored["headers"].items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response


def document_header(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every POST the middleware covers documents
    the ``Idempotency-Key`` header."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
        "description": "Retries with the same key replay the first response instead of creating twice "
        "(409 with Retry-After while the first is still running; 422 if reused for another "
        "request).",
    }
    for path, operations in result.get("paths", {}).items():
        post = operations.get("post")
        if post is None or not path.startswith(PREFIX) or path.startswith(EXEMPT):
            continue
        params = post.setdefault("parameters", [])
        if not any(p.get("name") == HEADER and p.get("in") == "header" for p in params):
            params.append(parameter)
    return result


__all__ = ["HEADER", "IdempotencyMiddleware", "document_header", "fingerprint"]
