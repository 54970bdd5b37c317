"""Every non-trivial read of the alerts app. Everything is filtered by its owner."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from alerts.models import AlertPreference, AlertRule, Notification, WatchedPool

D = Decimal


def watched_pool_ids(*, user: Any) -> frozenset[int]:
    return frozenset(WatchedPool.objects.filter(user=user).values_list("pool_id", flat=True))


def watchlist_for_user(*, user: Any) -> QuerySet[WatchedPool]:
    return WatchedPool.objects.filter(user=user).select_related("pool__chain", "pool__protocol")


def watched_get_for_user(*, user: Any, pk: int) -> WatchedPool:
    return get_object_or_404(WatchedPool.objects.filter(user=user), pk=pk)


@dataclass(frozen=True, slots=True)
class Change:
    label: str
    before: str
    after: str
    direction: str  # "up" | "down" | "changed"


def _pct(v: Decimal | None) -> str:
    return "–" if v is None else f"{v.quantize(D('0.01'))} %"


def _usd(v: Decimal | None) -> str:
    return "–" if v is None else f"{v.quantize(D('1')):,} USD"


def watch_changes(watched: WatchedPool, *, min_relative: Decimal = D("0.01")) -> list[Change]:
    """What moved since the user last looked: APY, 30-day mean, TVL (by 1 % or more of the
    old value) and the risk grade."""
    pool = watched.pool
    out: list[Change] = []
    for label, before, after, fmt in (
        ("APY", watched.seen_apy, pool.apy, _pct),
        ("30-day mean APY", watched.seen_apy_mean_30d, pool.apy_mean_30d, _pct),
        ("TVL", watched.seen_tvl_usd, pool.tvl_usd, _usd),
    ):
        if before is None and after is None:
            continue
        if before is None or after is None:
            out.append(Change(label, fmt(before), fmt(after), "changed"))
        elif before != after and (before == 0 or abs(after - before) / abs(before) >= min_relative):
            out.append(Change(label, fmt(before), fmt(after), "up" if after > before else "down"))
    if watched.seen_risk_grade != pool.risk_grade:
        direction = "changed"
        if watched.seen_risk_grade and pool.risk_grade:
            direction = "down" if pool.risk_grade > watched.seen_risk_grade else "up"  # A is best
        out.append(Change("Risk grade", watched.seen_risk_grade or "–", pool.risk_grade or "–", direction))
    return out


def rule_list_for_user(*, user: Any) -> QuerySet[AlertRule]:
    return (AlertRule.objects.filter(user=user)
            .select_related("pool__chain", "pool__protocol", "position"))


def rule_get_for_user(*, user: Any, pk: int) -> AlertRule:
    return get_object_or_404(AlertRule.objects.filter(user=user).select_related("position__portfolio", "pool"), pk=pk)


def rule_conditions_for_position(*, user: Any, position_id: int) -> set[str]:
    return set(AlertRule.objects.filter(user=user, position_id=position_id).values_list("condition", flat=True))


def notification_list_for_user(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("pool")


def notifications_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def preference_for_user(*, user: Any) -> str:
    pref = AlertPreference.objects.filter(user=user).values_list("email", flat=True).first()
    return pref or AlertPreference.Email.IMMEDIATE
