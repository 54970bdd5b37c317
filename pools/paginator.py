"""A paginator whose ``count`` is cached until the pool data changes.

Counting the pools that match a filter is a scan of the active pools (there is no
index for every filter combination). The data only changes with a refresh, so the
count of a given query is cached under the query's own SQL and the data version
(``pools.versioning``): a refresh, a backfill or a protocol edit moves the version
and every cached count is simply never read again."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any, cast

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet

from pools.versioning import data_version

COUNT_TTL = 24 * 3600


def cached_count(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    digest = hashlib.sha1(f"{sql}|{params!r}".encode(), usedforsecurity=False).hexdigest()
    key = f"pools:count:{data_version()}:{digest}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, COUNT_TTL)
    return count


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        if not hasattr(self.object_list, "query"):
            return len(self.object_list)
        return cached_count(cast("QuerySet[Any]", self.object_list).order_by())  # has .query: a QuerySet
