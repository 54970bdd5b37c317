"""The bulk evaluation of alert rules after a refresh.

``alerts_evaluate(pool_ids=...)`` takes the pools a refresh changed (or every pool with
a live rule) in chunks of ``ALERTS_EVALUATE_CHUNK`` pools. Per chunk, in one transaction
and a constant number of queries whatever the number of rules:

1. the live rules of those pools, locked (``FOR UPDATE``: two evaluations of the same
   rules run one after the other, and the second sees the first's states);
2. the pools' metrics; the 7-day mean APY and yesterday's TVL from the daily
   snapshots (only when a rule needs them); the pools' token prices (idem);
3. the pure ``alerts.conditions`` decide, rule by rule, whether it holds and its next state;
4. one UPDATE for the rules that fire (state firing, episode + 1), one for the rules
   that clear (state armed);
5. one INSERT of the notifications (unique rule + episode: a rerun inserts nothing).

Returns counts; the task then sends the immediate emails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from alerts.conditions import (
    ARMED,
    FIRING,
    PRICE_CONDITIONS,
    Condition,
    Facts,
    RuleInput,
    condition_holds,
    describe,
    is_usd_peg,
    range_price,
    step,
)
from alerts.models import AlertRule, Notification
from pools.models import Pool, PoolSnapshot, PoolUnderlyingToken
from pools.naming import pool_display_name

RULE_FIELDS = ("id", "user_id", "pool_id", "position_id", "condition", "threshold", "baseline_grade",
               "baseline_reward", "state", "episode", "position__label", "position__range_lower",
               "position__range_upper", "position__closed_at")  # fmt: skip
POOL_FIELDS = ("id", "apy", "apy_reward", "tvl_usd", "risk_grade", "symbol", "meta", "address", "protocol__name",
               "chain__name")  # fmt: skip


def evaluate_chunk_size() -> int:
    return int(getattr(settings, "ALERTS_EVALUATE_CHUNK", 2000))


@dataclass
class EvaluateResult:
    rules: int = 0
    fired: int = 0
    cleared: int = 0
    chunks: int = 0

    def add(self, other: EvaluateResult) -> None:
        self.rules += other.rules
        self.fired += other.fired
        self.cleared += other.cleared
        self.chunks += other.chunks


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _live_rules(conditions: Iterable[str] | None):
    qs = AlertRule.objects.filter(is_paused=False)
    if conditions is not None:
        qs = qs.filter(condition__in=list(conditions))
    return qs


def pools_with_live_rules(*, pool_ids: Sequence[int] | None = None, conditions: Iterable[str] | None = None,
                          token_ids: Sequence[int] | None = None) -> list[int]:
    """The pools among ``pool_ids`` (or holding one of ``token_ids``, or all) that have a live rule."""
    qs = _live_rules(conditions)
    if pool_ids is not None:
        qs = qs.filter(pool_id__in=list(pool_ids))
    if token_ids is not None:
        qs = qs.filter(pool_id__in=PoolUnderlyingToken.objects.filter(token_id__in=list(token_ids))
                       .values("pool_id"))
    return sorted(set(qs.values_list("pool_id", flat=True)))


def alerts_evaluate(*, pool_ids: Sequence[int] | None = None, token_ids: Sequence[int] | None = None,
                    conditions: Iterable[str] | None = None, now: datetime | None = None,
                    chunk_size: int | None = None) -> EvaluateResult:
    """Evaluate the live rules of the given pools (of the pools holding ``token_ids``; of
    every pool when neither is given), optionally only some conditions. Safe to run twice."""
    now = now or timezone.now()
    conditions = None if conditions is None else sorted(set(conditions))
    targets = pools_with_live_rules(pool_ids=pool_ids, conditions=conditions, token_ids=token_ids)
    result = EvaluateResult()
    for chunk in _chunks(targets, chunk_size or evaluate_chunk_size()):
        result.add(_evaluate_chunk(pool_ids=chunk, conditions=conditions, now=now))
    return result


def _target_name(rule: dict, pool: dict) -> str:
    name = pool_display_name(pool["symbol"], pool["meta"], pool["protocol__name"], pool["chain__name"],
                             pool["address"])
    if rule["position_id"] is not None:
        return f"Your position “{rule['position__label'] or name}”"
    return name


def _evaluate_chunk(*, pool_ids: Sequence[int], conditions: Sequence[str] | None, now: datetime) -> EvaluateResult:
    today = now.astimezone(UTC).date()
    with transaction.atomic():
        rules = list(_live_rules(conditions).filter(pool_id__in=list(pool_ids)).select_for_update(of=("self",))
                     .order_by("id").values(*RULE_FIELDS))
        if not rules:
            return EvaluateResult(chunks=1)
        used = {r["condition"] for r in rules}
        ids = sorted({r["pool_id"] for r in rules})
        pools = {p["id"]: p for p in Pool.objects.filter(pk__in=ids).values(*POOL_FIELDS)}
        mean_7d: dict[int, Decimal] = {}
        if Condition.APY_DROP in used:
            mean_7d = dict(PoolSnapshot.objects.filter(pool_id__in=ids, day__gt=today - timedelta(days=7),
                                                       day__lte=today, apy__isnull=False)
                           .values("pool_id").annotate(mean=Avg("apy")).values_list("pool_id", "mean"))
        tvl_before: dict[int, Decimal] = {}
        if Condition.TVL_DROP in used:
            tvl_before = dict(PoolSnapshot.objects.filter(pool_id__in=ids, day=today - timedelta(days=1))
                              .values_list("pool_id", "tvl_usd"))
        tokens: dict[int, list[tuple[Decimal | None, bool, str]]] = defaultdict(list)
        if used & PRICE_CONDITIONS:
            for pool_id, price, stable, symbol in (
                PoolUnderlyingToken.objects.filter(pool_id__in=ids).order_by("pool_id", "position", "id")
                .values_list("pool_id", "token__last_price_usd", "token__is_stablecoin", "token__symbol")
            ):
                tokens[pool_id].append((price, stable, symbol))

        fire, clear, notes = [], [], []
        for r in rules:
            pool = pools[r["pool_id"]]
            pool_tokens = tokens.get(r["pool_id"], [])
            facts = Facts(
                apy=pool["apy"], apy_mean_7d=mean_7d.get(r["pool_id"]), apy_reward=pool["apy_reward"],
                tvl=pool["tvl_usd"], tvl_24h_ago=tvl_before.get(r["pool_id"]), risk_grade=pool["risk_grade"],
                price=range_price([(p, s) for p, s, _ in pool_tokens]) if r["position__range_lower"] else None,
                range_lower=r["position__range_lower"], range_upper=r["position__range_upper"],
                stable_prices=tuple(p for p, s, sym in pool_tokens if s and p is not None and is_usd_peg(sym)),
            )  # fmt: skip
            rule_in = RuleInput(Condition(r["condition"]), r["threshold"], r["baseline_grade"], r["baseline_reward"])
            # A closed position has nothing left to watch: its rules stay as they are.
            holds = None if r["position__closed_at"] is not None else condition_holds(rule_in, facts)
            nxt = step(r["state"], holds)
            if nxt.fires:
                fire.append(r["id"])
                title, body = describe(rule_in, facts, _target_name(r, pool))
                notes.append(Notification(user_id=r["user_id"], rule_id=r["id"], pool_id=r["pool_id"],
                                          condition=r["condition"], episode=r["episode"] + 1, title=title[:300],
                                          body=body, created_at=now))
            elif nxt.state == ARMED and r["state"] == FIRING:
                clear.append(r["id"])
        if fire:
            AlertRule.objects.filter(pk__in=fire).update(state=FIRING, episode=F("episode") + 1, last_fired_at=now)
        if clear:
            AlertRule.objects.filter(pk__in=clear).update(state=ARMED)
        if notes:
            Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return EvaluateResult(rules=len(rules), fired=len(fire), cleared=len(clear), chunks=1)
