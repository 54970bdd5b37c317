"""One pagination for every API list: ``?page=`` (from 1) and ``?page_size=`` (1 to 200), the
same envelope (``count``, ``next``, ``previous``, ``results``), and a 400 naming the parameter
for a value that is not a whole number in range (DRF alone would silently use the default,
so ``?page_size=null`` looked accepted)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


def _whole_number(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdigit() else None


class StandardPagination(PageNumberPagination):
    """Page-number pagination with a capped, client-chosen page size; junk is refused."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                f"Must be a whole number from 1 to {self.max_page_size}; got {raw[:40]!r}."]})
        return size

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            number = _whole_number(raw)
            if number is None or number < 1:
                raise ValidationError({self.page_query_param: [f"Must be a whole number from 1; got {raw[:40]!r}."]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": self.page_query_param, "required": False, "in": "query",
             "description": "Page number, from 1 (`last` for the last page). A page past the end is a 404.",
             "schema": {"type": "integer", "minimum": 1}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Rows per page, 1 to {self.max_page_size} (default {self.page_size}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size}},
        ]
