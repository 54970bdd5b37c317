"""Template context on every page: the unread count for the navigation bell and the
ids of the pools the user watches (for the star buttons). Both are lazy: a page that
does not show them runs no query; one that does runs one small indexed query each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from alerts.selectors import notifications_unread_count, watched_pool_ids


def alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "alerts_unread": SimpleLazyObject(lambda: notifications_unread_count(user=user)),
        "watched_pool_ids": SimpleLazyObject(lambda: watched_pool_ids(user=user)),
    }
