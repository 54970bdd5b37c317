"""``?ordering=`` on every API list, as DRF's convention says: ``?ordering=name`` ascending,
``?ordering=-name`` descending, several keys comma-separated. Unlike DRF's own filter, an
unknown key is a 400 naming ``ordering`` (not silently ignored), and the id breaks ties in
the direction of the last key, so pages never overlap or skip rows.

A view lists its keys in ``ordering_fields`` (public key -> model field, or a list when they
are the same). Without ``?ordering`` the selector's own order stands."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


def _fields(view: Any) -> dict[str, str]:
    fields = getattr(view, "ordering_fields", None) or {}
    return dict(fields) if isinstance(fields, dict) else {name: name for name in fields}


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Any, queryset: Any, view: Any) -> list[str] | None:
        raw = request.query_params.get(self.ordering_param)
        if raw is None or not raw.strip():  # absent or empty: the list's own order
            return None
        allowed = _fields(view)
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if not terms or unknown:
            keys = ", ".join(sorted(allowed))
            raise ValidationError({self.ordering_param: [
                f"Unknown ordering {raw[:40]!r}; use one of: {keys} (prefix - for descending)."]})
        ordering = [("-" if term.startswith("-") else "") + allowed[term.lstrip("-")] for term in terms]
        last_desc = ordering[-1].startswith("-")
        return [*ordering, "-id" if last_desc else "id"]

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        ordering = self.get_ordering(request, queryset, view)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        keys = sorted(_fields(view))
        return [{
            "name": self.ordering_param,
            "required": False,
            "in": "query",
            "description": "Sort key: one of " + ", ".join(f"`{k}`" for k in keys)
                           + "; ascending, or descending with a leading `-` (e.g. `-" + keys[0] + "`). "
                           "Several keys comma-separated. Unknown keys are a 400; empty is the list's own order.",
            # One key per request in the enum (what most clients send); several comma-separated
            # keys are accepted too, as the description says. Empty means the list's own order.
            "schema": {"type": "string", "enum": ["", *keys, *(f"-{k}" for k in keys)]},
        }]
