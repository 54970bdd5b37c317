"""drf-spectacular postprocessing: every operation documents its error answers, all RFC 9457
problem details (config/api/problems.py), and the API's auth endpoints are described.

Which errors an operation lists follows from what can produce them:

- every operation: 401 (a bad or expired token is refused even where anonymous access is
  allowed), 406 (an Accept header we cannot satisfy), 429 (throttles), 500 and 503;
- operations with parameters or a body: 400 (validation, with ``errors`` by field);
- operations on a path with an id: 404 (no such object, or not yours);
- operations that change something: 403 (CSRF failure with session auth, or not allowed);
- operations with a request body: 413 (body too large) and 415 (media type);
- POSTs: 409 (the same Idempotency-Key still running) and 422 (the key reused for another request).
"""

from __future__ import annotations

from typing import Any

from config.api.problems import PROBLEM_CONTENT_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details: the body of every error answer.",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem; `about:blank` when the "
                 "status says it all."},
        "title": {"type": "string", "description": "A short summary of that kind of problem."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong this time, for a human."},
        "errors": {
            "type": "object",
            "description": "Validation errors by field (`non_field_errors` for the request as a whole); "
                           "nested fields are dotted, e.g. `legs.0.quantity`.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail"],
    "example": {"type": "https://yieldledger.example/problems/validation-error", "title": "Invalid input",
                "status": 400, "detail": "Invalid value for name.",
                "errors": {"name": ["This field may not be blank."]}},
}

DESCRIPTIONS = {
    "400": "Invalid request: the problem's `errors` names each bad field.",
    "401": "Missing, invalid or expired credentials (see `WWW-Authenticate`).",
    "403": "Not allowed (or a failed CSRF check with session authentication).",
    "404": "No such object, or it is not yours.",
    "406": "None of the media types in `Accept` can be produced.",
    "409": "A request with the same Idempotency-Key is still being processed; retry after `Retry-After`.",
    "413": "The request body is too large.",
    "415": "Unsupported request media type.",
    "422": "This Idempotency-Key was already used with a different request.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
    "500": "Unexpected server error (logged).",
    "503": "A service the API depends on (the database) is unavailable.",
}

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                               "description": "Seconds to wait before retrying."}}

UNSAFE = {"post", "put", "patch", "delete"}
METHODS = UNSAFE | {"get", "head", "options", "trace"}


def _error(code: str, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(code, "Error."),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
    }
    if code in ("409", "429", "503"):
        response["headers"] = RETRY_AFTER
    if code == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                     "description": "How to authenticate (Bearer)."}}
    return response


def codes_for(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["401", "406", "429", "500", "503"]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append("400")
    names = {p.get("name") for p in operation.get("parameters", [])}
    # No such object (in the path, or referenced by id in the body), or a page past the end.
    if "{" in path or "page" in names or "requestBody" in operation:
        codes.append("404")
    if method in UNSAFE:
        codes.append("403")
    if "requestBody" in operation:
        codes += ["413", "415"]
    if method == "post":
        codes += ["409", "422"]
    return sorted(set(codes))


def document_errors(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    """Postprocessing hook: add the Problem schema and each operation's error responses
    (an error response an operation already documents is replaced by the problem shape)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    shared: dict[str, dict[str, Any]] = {}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in codes_for(path, method, operation):
                responses.setdefault(code, {})
            for code, response in list(responses.items()):
                if not code.isdigit() or int(code) < 400:
                    continue
                # Whatever a view declared, an error's body is a problem (the view's own
                # description of when it happens is kept).
                description = response.get("description")
                content = response.get("content") or {}
                if content and PROBLEM_CONTENT_TYPE not in content:
                    # The view declares its own body for this status (e.g. the CSV import's
                    # row-level report); a problem can come too (e.g. a body it cannot parse).
                    responses[code] = {**response, "content": {**content, **_error(code)["content"]}}
                elif description and description != DESCRIPTIONS.get(code):
                    responses[code] = _error(code, description)
                else:
                    responses[code] = {"$ref": f"#/components/responses/Error{code}"}
                    shared.setdefault(code, _error(code))
    if shared:
        result["components"].setdefault("responses", {}).update(
            {f"Error{code}": shared[code] for code in sorted(shared)})
    return result
