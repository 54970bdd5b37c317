"""Notifications: mark read (one, several, all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from alerts.models import Notification


def notifications_mark_read(*, user: Any, ids: Sequence[int] | None = None) -> int:
    """Mark the user's unread notifications read (``ids``: only those; other users'
    ids are ignored). Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
