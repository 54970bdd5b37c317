"""Template tags for pages of other apps that show alerts data (the dashboard's watchlist)."""

from __future__ import annotations

from typing import Any

from django import template

from alerts.models import WatchedPool
from alerts.selectors import Change, watch_changes, watchlist_for_user

register = template.Library()


@register.simple_tag(takes_context=True)
def watchlist_rows(context: Any) -> list[tuple[WatchedPool, list[Change]]]:
    """The user's watched pools with what changed since they last looked (two queries)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return [(w, watch_changes(w)) for w in watchlist_for_user(user=user)]
