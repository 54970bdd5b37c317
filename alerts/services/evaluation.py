"""The bulk evaluation of alert rules after a refresh.

``alerts_evaluate(pool_ids=...)`` takes the pools a refresh changed (or every pool with
a live rule) in chunks of ``ALERTS_EVALUATE_CHUNK`` pools. Per chunk, in one transaction
and a constant number of queries whatever the number of rules:

1. the live rules of those pools, read under a transaction-level advisory lock (two
   evaluations of the same rules run one after the other, and the second sees the
   first's states);
2. the pools' metrics; the 7-day mean APY and yesterday's TVL from the daily
   snapshots (only when a rule needs them); the pools' token prices (idem);
3. the pure ``alerts.conditions`` decide, rule by rule, whether it holds and its next state;
4. one UPDATE … FROM of the rules whose state moved (firing with episode + 1, or
   armed again), streamed by COPY into a temporary table (``pools.bulk``);
5. one INSERT … ON CONFLICT DO NOTHING of the notifications, the same way (unique
   rule + episode: a rerun inserts nothing).

Returns counts; the task then sends the immediate emails.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, BooleanField, Expression, F
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
from pools import bulk
from pools.models import Pool, PoolSnapshot, PoolUnderlyingToken
from pools.naming import pool_display_name

RULE_FIELDS = ("id", "user_id", "pool_id", "position_id", "condition", "threshold", "baseline_grade",
               "baseline_reward", "state", "episode", "position__label", "position__range_lower",
               "position__range_upper", "position__closed_at")  # fmt: skip
CONDITION, POOL = RULE_FIELDS.index("condition"), RULE_FIELDS.index("pool_id")
NOTE_COLUMNS = ["user_id", "rule_id", "pool_id", "condition", "episode", "title", "body", "created_at"]
#: pg_advisory_xact_lock key of the evaluation ("yl" namespace, like pools.locking).
EVALUATE_LOCK_KEY = (0x796C << 32) | zlib.crc32(b"alerts.evaluate")
POOL_FIELDS = ("id", "apy", "apy_reward", "tvl_usd", "risk_grade", "symbol", "meta", "address", "protocol__name",
               "chain__name")  # fmt: skip


class AnyOf(Expression):
    """``column = ANY(%s)`` with the ids as one array parameter (PostgreSQL), else ``IN (…)``.

    A chunk filters five queries by 2,000 pool ids: as ``IN (%s, …)`` the driver and
    Django spent more time writing and parsing those lists than the database spent
    answering; one array parameter costs nothing."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, ids: Sequence[int]) -> None:
        super().__init__()
        self.column = F(column)
        self.ids = [int(i) for i in ids]

    def get_source_expressions(self) -> list:
        return [self.column]

    def set_source_expressions(self, exprs) -> None:
        (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        c = self.copy()
        c.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return c

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*params, self.ids]
        if not self.ids:
            return "1 = 0", list(params)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.ids))})", [*params, *self.ids]


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
        qs = qs.filter(AnyOf("pool_id", pool_ids))
    if token_ids is not None:
        qs = qs.filter(pool_id__in=PoolUnderlyingToken.objects.filter(AnyOf("token_id", token_ids))
                       .values("pool_id"))
    # DISTINCT in the database: an index-only walk of alerts_rule_live_pool_idx, not 100,000 rows.
    return list(qs.order_by("pool_id").values_list("pool_id", flat=True).distinct())


def alerts_evaluate(*, pool_ids: Sequence[int] | None = None, token_ids: Sequence[int] | None = None,
                    conditions: Iterable[str] | None = None, now: datetime | None = None,
                    chunk_size: int | None = None) -> EvaluateResult:
    """Evaluate the live rules of the given pools (of the pools holding ``token_ids``; of
    every pool when neither is given), optionally only some conditions. Safe to run twice."""
    now = now or timezone.now()
    conditions = None if conditions is None else sorted(set(conditions))
    if pool_ids is not None and token_ids is None:
        # The chunks find the rules themselves (a chunk of pools without rules costs three small
        # queries); asking first which pools have rules would read every rule of the table once more.
        targets = sorted(set(pool_ids))
    else:
        targets = pools_with_live_rules(pool_ids=pool_ids, conditions=conditions, token_ids=token_ids)
    result = EvaluateResult()
    for chunk in _chunks(targets, chunk_size or evaluate_chunk_size()):
        result.add(_evaluate_chunk(pool_ids=chunk, conditions=conditions, now=now))
    return result


def _target_name(position_id: int | None, position_label: str | None, pool: dict) -> str:
    name = pool_display_name(pool["symbol"], pool["meta"], pool["protocol__name"], pool["chain__name"],
                             pool["address"])
    if position_id is not None:
        return f"Your position “{position_label or name}”"
    return name


def _serialize() -> None:
    """Two evaluations of the same chunk run one after the other: a transaction-level
    advisory lock (released at commit), taken before the rules are read, so the second
    reads the states the first wrote. Cheaper than ``FOR UPDATE`` on 100,000 rule rows
    (that writes a lock into every row). SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVALUATE_LOCK_KEY])
            # Do not wait for the WAL flush at commit (a large share of a chunk's time when many
            # rules fire). A database crash in that window loses the chunk's result as a whole,
            # never half of it: the rules are still armed and the next evaluation fires them.
            cursor.execute("SET LOCAL synchronous_commit = off")


def _evaluate_chunk(*, pool_ids: Sequence[int], conditions: Sequence[str] | None, now: datetime) -> EvaluateResult:
    today = now.astimezone(UTC).date()
    with transaction.atomic():
        _serialize()
        rules = list(_live_rules(conditions).filter(AnyOf("pool_id", pool_ids)).order_by("id")
                     .values_list(*RULE_FIELDS))
        if not rules:
            return EvaluateResult(chunks=1)
        used = {r[CONDITION] for r in rules}
        ids = sorted({r[POOL] for r in rules})
        pools = {p["id"]: p for p in Pool.objects.filter(AnyOf("id", ids)).values(*POOL_FIELDS)}
        mean_7d: dict[int, Decimal | None] = {}
        if Condition.APY_DROP in used:
            mean_7d = dict(PoolSnapshot.objects.filter(AnyOf("pool_id", ids), day__gt=today - timedelta(days=7),
                                                       day__lte=today, apy__isnull=False)
                           .values("pool_id").annotate(mean=Avg("apy")).values_list("pool_id", "mean"))
        tvl_before: dict[int, Decimal | None] = {}
        if Condition.TVL_DROP in used:
            tvl_before = dict(PoolSnapshot.objects.filter(AnyOf("pool_id", ids), day=today - timedelta(days=1))
                              .values_list("pool_id", "tvl_usd"))
        tokens: dict[int, list[tuple[Decimal | None, bool, str]]] = defaultdict(list)
        if used & PRICE_CONDITIONS:
            for pool_id, price, stable, symbol in (
                PoolUnderlyingToken.objects.filter(AnyOf("pool_id", ids)).order_by("pool_id", "position", "id")
                .values_list("pool_id", "token__last_price_usd", "token__is_stablecoin", "token__symbol")
            ):
                tokens[pool_id].append((price, stable, symbol))

        pool_facts: dict[int, Facts] = {}
        states: list[tuple[int, str, int, datetime | None]] = []  # (rule id, state, episode, last fired)
        notes: list[tuple] = []
        fired = cleared = 0
        for (rule_id, user_id, pool_id, position_id, condition, threshold, baseline_grade, baseline_reward, state,
             episode, position_label, lower, upper, closed_at) in rules:
            base = pool_facts.get(pool_id)
            if base is None:
                pool, pool_tokens = pools[pool_id], tokens.get(pool_id, [])
                base = pool_facts[pool_id] = Facts(
                    apy=pool["apy"], apy_mean_7d=mean_7d.get(pool_id), apy_reward=pool["apy_reward"],
                    tvl=pool["tvl_usd"], tvl_24h_ago=tvl_before.get(pool_id), risk_grade=pool["risk_grade"],
                    price=range_price([(p, st) for p, st, _ in pool_tokens]),
                    stable_prices=tuple(p for p, st, sym in pool_tokens if st and p is not None and is_usd_peg(sym)),
                )  # fmt: skip
            facts = base if lower is None else replace(base, range_lower=lower, range_upper=upper)
            rule_in = RuleInput(Condition(condition), threshold, baseline_grade, baseline_reward)
            # A closed position has nothing left to watch: its rules stay as they are.
            holds = None if closed_at is not None else condition_holds(rule_in, facts)
            nxt = step(state, holds)
            if nxt.fires:
                fired += 1
                states.append((rule_id, FIRING, episode + 1, now))
                title, body = describe(rule_in, facts, _target_name(position_id, position_label, pools[pool_id]))
                notes.append((user_id, rule_id, pool_id, condition, episode + 1, title[:300], body, now))
            elif nxt.state == ARMED and state == FIRING:
                cleared += 1
                states.append((rule_id, ARMED, episode, None))
        if states:
            bulk.update_from(
                table=AlertRule._meta.db_table, key="id", columns=["id", "state", "episode", "last_fired_at"],
                rows=states, returning=(),
                update={"state": "{S}.state", "episode": "{S}.episode",
                        "last_fired_at": "COALESCE({S}.last_fired_at, {T}.last_fired_at)"})  # fmt: skip
        if notes:
            # ON CONFLICT (rule, episode) DO NOTHING: a rerun of the same episode inserts nothing.
            bulk.upsert(table=Notification._meta.db_table, columns=NOTE_COLUMNS, rows=notes,
                        conflict=["rule_id", "episode"], update={}, returning=())
    return EvaluateResult(rules=len(rules), fired=fired, cleared=cleared, chunks=1)
