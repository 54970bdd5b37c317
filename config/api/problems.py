"""RFC 9457 problem details: the one shape of every API error.

An error answer is ``application/problem+json`` with

- ``type``: a URI naming the kind of problem (``about:blank`` when the HTTP status says it all),
- ``title``: a short, fixed summary of that kind (the status phrase by default),
- ``status``: the HTTP status code, repeated so a client that only kept the body knows it,
- ``detail``: what went wrong this time, for a human,
- ``errors`` (validation only): ``{field: [message, ...]}``; errors not tied to a field are
  under ``non_field_errors``.

``problem_response`` builds such an answer anywhere (middleware, plain Django views, the DRF
exception handler); ``problem_body`` builds just the dict, for tests and the schema.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Our own problem types, under one documented base so clients can switch on them.
TYPE_BASE = "https://yieldledger.example/problems/"
VALIDATION_TYPE = TYPE_BASE + "validation-error"


def problem_title(status: int) -> str:
    """The standard reason phrase of ``status`` ("Not Found"), or "Error" for an unknown code."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The problem document as a dict (always with type, title, status and detail)."""
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or problem_title(status),
        "status": status,
        "detail": detail if detail is not None else (title or problem_title(status)),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """An ``application/problem+json`` response; set extra headers on the returned response.

    Plain Django (no DRF renderer), so middleware and error handlers that run outside any API
    view (e.g. the 503 answer when the database is down) can return it."""
    body = problem_body(status, title=title, detail=detail, type_=type_, errors=errors)
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
