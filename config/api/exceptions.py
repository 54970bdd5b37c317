"""Every API error as RFC 9457 problem details (see ``config.api.problems``).

Three places produce errors and all three answer the same shape:

- inside a DRF view: ``problem_exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``);
- before or after any view (the body read by a middleware is too large, no URL matched, an
  unhandled exception): the project's ``handler400/403/404/500`` in ``config/urls.py`` call the
  functions below, which answer problem JSON for paths under ``/api/`` and Django's usual
  pages elsewhere;
- the request body: ``SafeJSONParser`` refuses malformed and too deeply nested JSON with a
  400 instead of letting ``RecursionError`` become a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults
from rest_framework import exceptions, parsers
from rest_framework.views import set_rollback

from config.api.problems import TYPE_BASE, VALIDATION_TYPE, problem_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Deeper JSON than this is refused: no request of ours nests more than a few levels.
MAX_JSON_DEPTH = 32

NON_FIELD = "non_field_errors"

_TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}


def _title(status: int) -> str | None:
    return _TITLES.get(status)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub.0.name": [messages]}``.

    Errors not tied to a field (a bare list or string) land under ``non_field_errors``."""
    out: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        out.setdefault(key or NON_FIELD, []).append(message)

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                name = str(key)
                if name in (NON_FIELD, "__all__"):  # DRF's and Django's names for "not one field"
                    walk(sub, path)
                else:
                    walk(sub, f"{path}.{name}" if path else name)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if all(isinstance(item, str) for item in value):
                for item in value:
                    add(path, str(item))
            else:  # a list serializer: one entry per item, empty ones for valid items
                for index, item in enumerate(value):
                    if item:
                        walk(item, f"{path}.{index}" if path else str(index))
        else:
            add(path, str(value))

    walk(detail, prefix)
    return out


def _validation_problem(detail: Any) -> HttpResponse:
    errors = flatten_errors(detail)
    fields = [name for name in errors if name != NON_FIELD]
    if fields:
        text = "Invalid value for " + ", ".join(fields) + "."
        if NON_FIELD in errors:
            text += " " + " ".join(errors[NON_FIELD])
    else:
        text = " ".join(errors.get(NON_FIELD, [])) or "The request is invalid."
    return problem_response(400, title="Invalid input", detail=text, type_=VALIDATION_TYPE, errors=errors)


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: problem details for every error DRF or Django raises in a view.

    Anything else (a bug) returns None so that it propagates to ``api_server_error`` (500),
    which logs it with its traceback."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        return request_too_large_problem()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")

    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        return _validation_problem(exc.detail)

    detail = exc.detail
    if isinstance(detail, Mapping):  # a view raised e.g. PermissionDenied({"detail": ...})
        text = str(next((v for k, v in detail.items() if k == "detail"), "")) or json.dumps(detail, default=str)
    elif isinstance(detail, list):
        text = " ".join(str(item) for item in detail)
    else:
        text = str(detail)
    status = exc.status_code
    code = getattr(detail, "code", None) or exc.default_code
    type_ = TYPE_BASE + str(code).replace("_", "-") if status in (401, 429) else None
    response = problem_response(status, title=_title(status), detail=text, type_=type_)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        response["Retry-After"] = str(max(1, int(wait)))
    return response


def request_too_large_problem() -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = "The request body is too large." + (f" The limit is {limit} bytes." if limit else "")
    return problem_response(413, title=_title(413), detail=detail)


# --- Django's error handlers (config/urls.py) -------------------------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception or Exception())
    if isinstance(exception, RequestDataTooBig):
        return request_too_large_problem()
    return problem_response(400, title=_title(400), detail="The request could not be read.")


def api_permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception or Exception())
    return problem_response(403, title=_title(403), detail="You do not have permission to do this.")


def api_page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return problem_response(404, title=_title(404), detail="No such API endpoint or object.")


def api_server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return problem_response(500, title=_title(500),
                            detail="Something went wrong on our side; it has been logged.")


# --- Parsing ----------------------------------------------------------------------------------


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests containers more than ``limit`` deep. Iterative."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class SafeJSONParser(parsers.JSONParser):
    """DRF's JSON parser, but too-deep nesting (which makes ``json`` recurse until
    ``RecursionError``) and NaN/Infinity are a 400 parse error like any other bad JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
