"""The API routes that take an object id, read from the URL conf (shared by the isolation
tests of the portfolios and tax APIs)."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# Values for route arguments other than the object id.
SAMPLE_KWARGS = {"kind": "csv-disposals"}
ID_KWARGS = {"pk", "id"}

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix=""):
    for p in patterns:
        text = str(p.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + text)
        elif isinstance(p, URLPattern):
            yield prefix + text, p


def _methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(actions)
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:  # plain function view
        return ["get", "post"]
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]


def routes_with_an_id():
    out = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and _GROUP.search(route):
            out.append((route, pattern))
    return out


def _url(route: str, object_id: int) -> str:
    def fill(match):
        name = match.group(1) or match.group(2)
        return str(object_id) if name in ID_KWARGS else SAMPLE_KWARGS.get(name, "x")

    return "/" + _GROUP.sub(fill, route)
