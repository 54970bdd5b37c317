"""Bulk upsert of a source's pool list and of daily histories (set-based, one
transaction per batch; see ``pools.bulk``).

``pools_ingest`` writes, in a few statements: chains, protocols (insert missing) ·
tokens (upsert) · pools (upsert, changed rows only) · token links (diff) · today's
snapshots (upsert) · missed / deactivated pools. Settings: ``POOL_INACTIVE_AFTER_MISSES``
(3), ``POOL_SPIKE_RATIO`` (5), ``POOL_SPIKE_WINDOW_HOURS`` (5).

Which value of each metric is stored (the source's, or the last good one: invalid
fields, missing APYs, the spike guard) is decided by the pure ``pools.guard``.
A pool the source listed is never counted missing, even when its record was
rejected: a bad record is not evidence that the pool is gone.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from pools import bulk
from pools.guard import Merged, Stored, merge_metrics
from pools.models import Chain, Pool, PoolRewardToken, PoolSnapshot, PoolUnderlyingToken, Protocol, Token
from pools.naming import (
    COINS_PREFIX,
    chain_display_name,
    chain_slug,
    normalize_address,
    price_symbol_for,
    protocol_name,
    token_price_id,
)
from pools.services.facts import protocol_facts_load
from pools.sources import PoolBatch, PoolHistoryPoint, PoolKind, PoolRecord
from pools.sources.classify import FIAT_STABLES, split_symbol
from pools.versioning import data_version_bump

D = Decimal
Q_CENTS = D("0.01")
Q_PCT = D("1e-10")
Q_PROB = D("0.001")
MAX_SPIKE_POOLS_LISTED = 200
Q_METRIC = {"tvl_usd": Q_CENTS, "volume_usd_1d": Q_CENTS, "volume_usd_7d": Q_CENTS}


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def inactive_after_misses() -> int:
    return int(_setting("POOL_INACTIVE_AFTER_MISSES", 3))


FARM_PROJECTS = {"convex-finance", "aura", "stake-dao"}
KIND_CATEGORY = {
    "amm": Protocol.Category.DEX, "concentrated": Protocol.Category.DEX, "weighted": Protocol.Category.DEX,
    "stableswap": Protocol.Category.DEX, "lending": Protocol.Category.LENDING,
    "staking": Protocol.Category.STAKING, "liquid_staking": Protocol.Category.LIQUID_STAKING,
    "farm": Protocol.Category.YIELD, "vault": Protocol.Category.YIELD,
}  # fmt: skip


def pool_kind(record: PoolRecord) -> str:
    if record.kind == PoolKind.YIELD:
        return Pool.Kind.FARM if record.project in FARM_PROJECTS else Pool.Kind.VAULT
    try:
        return Pool.Kind(str(record.kind)).value
    except ValueError:
        return Pool.Kind.UNKNOWN


def quantize(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(quantum)


def _bool_il(value: str | None) -> bool | None:
    return None if value is None else value == "yes"


def _record_time(record: PoolRecord, batch: PoolBatch) -> datetime:
    return record.updated_at or batch.fetched_at


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deactivated: int = 0
    reactivated: int = 0
    spike_skipped: int = 0
    snapshots_written: int = 0
    rejection_reasons: dict[str, int] = field(default_factory=dict)
    spike_pools: list[dict[str, str]] = field(default_factory=list)
    kept_fields: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> {reason: pools}
    pool_ids: dict[str, int] = field(default_factory=dict)
    changed_ids: list[int] = field(default_factory=list)  # created or updated pools
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": self.rejected, "deactivated": self.deactivated, "reactivated": self.reactivated,
            "spike_skipped": self.spike_skipped, "snapshots_written": self.snapshots_written,
            "rejection_reasons": self.rejection_reasons, "spike_pools": self.spike_pools,
            "kept_fields": self.kept_fields,
        }  # fmt: skip


class LapTimer:
    """Seconds between successive ``lap(name)`` calls, written into a dict (run timings)."""

    def __init__(self, into: dict[str, float]):
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.last, 4)
        self.last = now


POOL_COLUMNS = [
    "external_id", "chain_id", "protocol_id", "symbol", "meta", "tokens_key", "tokens_signature", "kind",
    "stablecoin", "il_risk",
    "exposure", "derived_fields", "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_base_7d",
    "apy_pct_1d", "apy_pct_7d", "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu", "sigma", "count",
    "outlier", "predicted_class", "predicted_probability", "binned_confidence", "apy_mean_30d_computed",
    "history_start", "first_seen_at", "last_seen_at", "missed_refreshes", "is_active", "changed_at",
    "risk_grade", "address", "spike_hold",
]  # fmt: skip
# On conflict: everything the source describes, plus coming back to life.
_POOL_UPDATE = {
    c: f"{{S}}.{c}" for c in POOL_COLUMNS if c not in {"external_id", "first_seen_at", "risk_grade"}
}
# A source that stops sending apyMean30d does not erase the mean we computed ourselves.
_POOL_UPDATE["apy_mean_30d"] = (
    "CASE WHEN {S}.apy_mean_30d IS NULL AND {T}.apy_mean_30d_computed THEN {T}.apy_mean_30d ELSE {S}.apy_mean_30d END"
)
_POOL_UPDATE["apy_mean_30d_computed"] = "({S}.apy_mean_30d IS NULL AND {T}.apy_mean_30d_computed)"
# history_start only moves back in time.
_POOL_UPDATE["history_start"] = (
    "CASE WHEN {T}.history_start IS NULL OR {S}.history_start < {T}.history_start "
    "THEN {S}.history_start ELSE {T}.history_start END"
)
# Timestamps alone never justify rewriting a row (see Pool.last_seen_at).
_POOL_COMPARE = [c for c in _POOL_UPDATE if c not in {"last_seen_at", "changed_at"}]

SNAPSHOT_COLUMNS = ["pool_id", "day", "tvl_usd", "apy", "apy_base", "apy_reward"]


def _ensure_chains(names: Iterable[str]) -> dict[str, int]:
    """Chain name as the source spells it -> id, inserting missing chains. Spellings of one
    chain ("Op_bnb", "Opbnb") share one row: the slug is normalised (``naming.chain_slug``)."""
    names = set(names)
    by_slug = {chain_slug(n): n for n in sorted(names)}
    existing = dict(Chain.objects.filter(slug__in=by_slug).values_list("slug", "id"))
    missing = [
        Chain(slug=s, name=chain_display_name(n), coins_prefix=COINS_PREFIX.get(s, ""))
        for s, n in by_slug.items()
        if s not in existing
    ]
    if missing:
        Chain.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Chain.objects.filter(slug__in=by_slug).values_list("slug", "id"))
    return {name: existing[chain_slug(name)] for name in names}


def _ensure_protocols(kinds: dict[str, str]) -> dict[str, int]:
    """Protocol slug -> id, inserting missing protocols (staff-edited facts are never touched)."""
    existing = dict(Protocol.objects.filter(slug__in=kinds).values_list("slug", "id"))
    missing = [
        Protocol(slug=s, name=protocol_name(s), category=KIND_CATEGORY.get(k, ""))
        for s, k in kinds.items()
        if s not in existing
    ]
    if missing:
        Protocol.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Protocol.objects.filter(slug__in=kinds).values_list("slug", "id"))
        # A new protocol gets the bundled public facts at once (its pools are scored after the ingest).
        protocol_facts_load(slugs=[p.slug for p in missing], rescore=False)
    return existing


def _addresses(record: PoolRecord) -> tuple[list[str], list[str]]:
    """The record's (underlying, reward) token addresses, normalised, duplicates dropped."""
    underlying = list(dict.fromkeys(normalize_address(a) for a in record.underlying_tokens or () if a and a.strip()))
    rewards = list(dict.fromkeys(normalize_address(a) for a in record.reward_tokens or () if a and a.strip()))
    return underlying, rewards


def _token_candidates(
    records: Sequence[PoolRecord], chain_ids: dict[str, int], addresses: dict[str, tuple[list[str], list[str]]]
) -> dict[tuple[int, str], tuple[str, str]]:
    """(chain_id, address) -> (symbol guess, chain name). The symbol is guessed from the
    pool symbol when the counts line up (``WETH-USDC`` with two underlying addresses)."""
    found: dict[tuple[int, str], tuple[str, str]] = {}
    for record in records:
        chain_id = chain_ids[record.chain]
        underlying, rewards = addresses[record.pool_id]
        symbols = split_symbol(record.symbol)
        guess = symbols if len(symbols) == len(underlying) else [""] * len(underlying)
        for address, symbol in zip(underlying, guess, strict=True):
            key = (chain_id, address)
            if key not in found or (symbol and not found[key][0]):
                found[key] = (symbol[:64], record.chain)
        for address in rewards:
            found.setdefault((chain_id, address), ("", record.chain))
    return found


TOKEN_COLUMNS = ["chain_id", "address", "symbol", "name", "is_stablecoin", "price_id", "price_symbol", "is_tracked"]


def _ensure_tokens(
    records: Sequence[PoolRecord], chain_ids: dict[str, int], addresses: dict[str, tuple[list[str], list[str]]]
) -> dict[tuple[int, str], int]:
    """(chain_id, address) -> token id for every token the records mention. Only
    unknown tokens are inserted and only blank facts filled in (symbol, price
    ids); what staff or an earlier, better-informed record set is never overwritten."""
    found = _token_candidates(records, chain_ids, addresses)
    known: dict[tuple[int, str], tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT chain_id, address, id, symbol, price_id, price_symbol FROM pools_token")
        for chain_id, address, token_id, symbol, price_id, price_symbol in cursor.fetchall():
            known[(chain_id, address)] = (token_id, symbol, price_id, price_symbol)
    todo = []
    for (chain_id, address), (symbol, chain_name) in found.items():
        have = known.get((chain_id, address))
        if have is not None and have[2] and (have[1] or not symbol):
            continue  # nothing we could add
        row = (
            chain_id,
            address,
            symbol,
            "",
            symbol in FIAT_STABLES,
            token_price_id(chain_name, address),
            price_symbol_for(symbol) if symbol else "",
            False,
        )
        if have is None or (not have[1] and row[2]) or (not have[2] and row[5]) or (not have[3] and row[6]):
            todo.append(row)
    if todo:
        fill = {
            "symbol": "CASE WHEN {T}.symbol = '' THEN {S}.symbol ELSE {T}.symbol END",
            "is_stablecoin": "CASE WHEN {T}.symbol = '' THEN {S}.is_stablecoin ELSE {T}.is_stablecoin END",
            "price_id": "CASE WHEN {T}.price_id = '' THEN {S}.price_id ELSE {T}.price_id END",
            "price_symbol": "CASE WHEN {T}.price_symbol = '' THEN {S}.price_symbol ELSE {T}.price_symbol END",
        }
        for token_id, chain_id, address in bulk.upsert(
            table=Token._meta.db_table,
            columns=TOKEN_COLUMNS,
            rows=todo,
            conflict=["chain_id", "address"],
            update=fill,
            returning=("id", "chain_id", "address"),
        ):
            known[(chain_id, address)] = (token_id,)
    return {key: value[0] for key, value in known.items()}


def tokens_signature(record: PoolRecord) -> str:
    """The token lists exactly as the source sent them (cheap to compare)."""
    return f"{','.join(record.underlying_tokens or ())}|{','.join(record.reward_tokens or ())}"


#: Pool columns whose stored values the merge needs (``pools.guard``).
METRIC_FIELDS = (
    "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_base_7d", "apy_pct_1d", "apy_pct_7d",
    "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu", "sigma", "count", "outlier", "stablecoin",
    "predicted_class", "predicted_probability", "binned_confidence",
)  # fmt: skip
EXISTING_FIELDS = ("external_id", "id", "is_active", "missed_refreshes", "last_seen_at", "tokens_signature",
                   "spike_hold", "apy_mean_30d_computed", *METRIC_FIELDS)


@dataclass(frozen=True, slots=True)
class Existing:
    id: int
    is_active: bool
    missed: int
    seen_at: datetime
    tokens_signature: str
    hold: dict
    mean_computed: bool
    values: dict[str, Any]


def _existing_pools() -> dict[str, Existing]:
    """external_id -> what the merge needs of every stored pool."""
    if bulk.is_postgres():  # psycopg returns Decimal and aware datetimes itself: skip the ORM
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(EXISTING_FIELDS)} FROM pools_pool")  # noqa: S608 - constant names
            rows = cursor.fetchall()
    else:
        rows = list(Pool.objects.values_list(*EXISTING_FIELDS).iterator(chunk_size=5000))
    n = len(METRIC_FIELDS)
    out = {}
    for row in rows:
        hold = row[6]
        if isinstance(hold, str):  # SQLite, or psycopg without the jsonb loader
            hold = json.loads(hold or "{}")
        out[row[0]] = Existing(row[1], row[2], row[3], row[4], row[5], hold or {}, row[7],
                               dict(zip(METRIC_FIELDS, row[8:8 + n], strict=True)))
    return out


def _record_metrics(record: PoolRecord) -> dict[str, Any]:
    """The record's metric values, quantized as stored (the keys of ``METRIC_FIELDS``)."""
    predictions = record.predictions
    values: dict[str, Any] = {
        name: quantize(getattr(record, name), Q_METRIC.get(name, Q_PCT))
        for name in ("tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_base_7d", "apy_pct_1d",
                     "apy_pct_7d", "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu", "sigma")
    }
    values.update(
        count=record.count, outlier=record.outlier, stablecoin=record.stablecoin,
        predicted_class=(predictions.predicted_class or "")[:32] if predictions else "",
        predicted_probability=quantize(predictions.predicted_probability, Q_PROB) if predictions else None,
        binned_confidence=predictions.binned_confidence if predictions else None,
    )  # fmt: skip
    return values


def _record_invalid(record: PoolRecord) -> dict[str, str]:
    invalid = dict(record.invalid)
    if "predictions" in invalid:  # one source field, three columns
        reason = invalid.pop("predictions")
        invalid.update(dict.fromkeys(("predicted_class", "predicted_probability", "binned_confidence"), reason))
    return invalid


def _spike_settings() -> tuple[Decimal, timedelta]:
    return (D(str(_setting("POOL_SPIKE_RATIO", 5))),
            timedelta(hours=float(_setting("POOL_SPIKE_WINDOW_HOURS", 5))))


def _merge(record: PoolRecord, old: Existing | None, batch: PoolBatch,
           spike: tuple[Decimal, timedelta] | None = None) -> Merged:
    ratio, window = spike or _spike_settings()
    invalid = _record_invalid(record) if record.invalid else {}
    stored = None
    if old is not None:
        values = old.values
        if "apy_mean_30d" in invalid and old.mean_computed:
            values = {**values, "apy_mean_30d": None}  # our own mean stays (see _POOL_UPDATE)
        stored = Stored(values=values, hold=old.hold, seen_at=old.seen_at, missed=old.missed)
    return merge_metrics(_record_metrics(record), invalid, stored, at=_record_time(record, batch), ratio=ratio,
                         window=window)


def _pool_row(
    record: PoolRecord, values: dict[str, Any], hold: dict, *, chain_id: int, protocol_id: int, seen_at: datetime,
    now: datetime, history_start: date | None
) -> tuple:
    tokens = split_symbol(record.symbol)
    return (
        record.pool_id,
        chain_id,
        protocol_id,
        record.symbol[:200],
        (record.pool_meta or "")[:200],
        f"-{'-'.join(tokens)}-"[:400] if tokens else "",
        tokens_signature(record),
        pool_kind(record),
        values["stablecoin"],
        _bool_il(record.il_risk),
        record.exposure or "",
        bulk.json_text(sorted(record.derived)),
        values["tvl_usd"],
        values["apy"],
        values["apy_base"],
        values["apy_reward"],
        values["apy_mean_30d"],
        values["apy_base_7d"],
        values["apy_pct_1d"],
        values["apy_pct_7d"],
        values["apy_pct_30d"],
        values["volume_usd_1d"],
        values["volume_usd_7d"],
        values["il_7d"],
        values["mu"],
        values["sigma"],
        values["count"],
        values["outlier"],
        values["predicted_class"],
        values["predicted_probability"],
        values["binned_confidence"],
        False,
        history_start,
        now,
        seen_at,
        0,
        True,
        now,
        "",
        (record.address or "")[:100],
        json.dumps(hold, sort_keys=True),
    )


def _sync_links(model, desired: dict[int, list[int]]) -> None:
    """Make ``model`` (pool -> token links) match ``desired`` for the pools it names."""
    table = model._meta.db_table
    current: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        sql = f"SELECT id, pool_id, token_id, position FROM {table}"  # noqa: S608 - model table name
        if bulk.is_postgres() and len(desired) < 2000:  # a few pools: use the (pool, token) index
            cursor.execute(sql + " WHERE pool_id = ANY(%s)", [list(desired)])
        else:
            cursor.execute(sql)
        for link_id, pool_id, token_id, position in cursor.fetchall():
            if pool_id in desired:
                current[pool_id][token_id] = (link_id, position)
    to_insert, to_delete, to_move = [], [], []
    for pool_id, token_ids in desired.items():
        have = current.get(pool_id, {})
        for position, token_id in enumerate(token_ids):
            if token_id not in have:
                to_insert.append((pool_id, token_id, position))
            elif have[token_id][1] != position:
                to_move.append((have[token_id][0], position))
        wanted = set(token_ids)
        to_delete += [link_id for token_id, (link_id, _) in have.items() if token_id not in wanted]
    bulk.delete_ids(table=table, ids=to_delete)
    bulk.insert_rows(table=table, columns=["pool_id", "token_id", "position"], rows=to_insert)
    if to_move:
        bulk.update_from(table=table, key="id", columns=["id", "position"], rows=to_move, returning=())


def pools_ingest(*, batch: PoolBatch, now: datetime | None = None, snapshots: bool = True) -> IngestResult:
    """Upsert a validated batch (one transaction). Safe to run twice: the second
    run rewrites nothing and reports every pool as ``unchanged``."""
    now = now or timezone.now()
    result = IngestResult(rejected=len(batch.rejections), rejection_reasons=batch.rejection_counts)
    timer = LapTimer(result.timings)
    records = list(batch.records)
    with transaction.atomic():
        chain_ids = _ensure_chains({r.chain for r in records})
        kinds: dict[str, str] = {}
        for r in records:
            kinds.setdefault(r.project, pool_kind(r))
        protocol_ids = _ensure_protocols(kinds)
        existing = _existing_pools()
        timer.lap("prepare")
        keep, merged = [], {}
        spike = _spike_settings()
        for r in records:
            old = existing.get(r.pool_id)
            if old is None and (r.tvl_usd is None or "tvl_usd" in r.invalid_fields):
                # Never seen before and no usable TVL: nothing good to fall back on.
                reason = r.invalid_fields.get("tvl_usd", "missing_field")
                result.rejected += 1
                result.rejection_reasons[reason] = result.rejection_reasons.get(reason, 0) + 1
                continue
            merge = _merge(r, old, batch, spike)
            merged[r.pool_id] = merge
            keep.append(r)
            for name, why in merge.kept.items():
                per_field = result.kept_fields.setdefault(name, {})
                per_field[why] = per_field.get(why, 0) + 1
            if merge.spikes:
                result.spike_skipped += 1
                result.spike_pools += [{"pool": r.pool_id, **spike} for spike in merge.spikes]
        result.spike_pools = result.spike_pools[:MAX_SPIKE_POOLS_LISTED]
        # Tokens and links only for new pools and pools whose token lists changed.
        relink = [r for r in keep if r.pool_id not in existing or existing[r.pool_id].tokens_signature
                  != tokens_signature(r)]
        addresses = {r.pool_id: _addresses(r) for r in relink}
        token_ids = _ensure_tokens(relink, chain_ids, addresses) if relink else {}
        timer.lap("tokens")

        rows, snapshot_days = [], {}
        for r in keep:
            seen_at = _record_time(r, batch)
            day = seen_at.astimezone(UTC).date()
            snapshot_days[r.pool_id] = day
            merge = merged[r.pool_id]
            rows.append(
                _pool_row(
                    r,
                    merge.values,
                    merge.hold,
                    chain_id=chain_ids[r.chain],
                    protocol_id=protocol_ids[r.project],
                    seen_at=seen_at,
                    now=now,
                    history_start=day if snapshots else None,
                )
            )
        changed = bulk.upsert(
            table=Pool._meta.db_table,
            columns=POOL_COLUMNS,
            rows=rows,
            conflict=["external_id"],
            update=_POOL_UPDATE,
            compare=_POOL_COMPARE,
            returning=("id", "external_id"),
            insert=any(r.pool_id not in existing for r in keep),
        )
        timer.lap("pools")
        ids = {ext: row.id for ext, row in existing.items()}
        ids.update({ext: pool_id for pool_id, ext in changed})
        result.pool_ids = {r.pool_id: ids[r.pool_id] for r in keep}
        result.changed_ids = [pool_id for pool_id, _ in changed]
        result.created = sum(1 for _, ext in changed if ext not in existing)
        result.updated = len(changed) - result.created
        result.unchanged = len(keep) - len(changed)
        result.reactivated = sum(1 for r in keep if r.pool_id in existing and not existing[r.pool_id].is_active)

        for model, which in ((PoolUnderlyingToken, 0), (PoolRewardToken, 1)):
            desired = {
                ids[r.pool_id]: [token_ids[(chain_ids[r.chain], a)] for a in addresses[r.pool_id][which]]
                for r in relink
            }
            if desired:
                _sync_links(model, desired)
        timer.lap("links")

        if snapshots:
            snap_rows = [
                (ids[r.pool_id], snapshot_days[r.pool_id],
                 *(merged[r.pool_id].values[name] for name in ("tvl_usd", "apy", "apy_base", "apy_reward")))
                for r in keep
            ]
            result.snapshots_written = _upsert_snapshots(snap_rows)
        timer.lap("snapshots")

        # Pools the source did not list this time: count the miss; deactivate after N. A pool
        # the source listed with a record we rejected was listed all the same.
        seen_ids = {r.pool_id for r in records} | {x.pool_id for x in batch.rejections if x.pool_id}
        limit = inactive_after_misses()
        missing = [(row.id, row.is_active, row.missed) for ext, row in existing.items()
                   if ext not in seen_ids and row.missed < limit]
        result.deactivated = sum(1 for _, active, missed in missing if active and missed + 1 >= limit)
        if missing:
            bulk.update_from(
                table=Pool._meta.db_table,
                key="id",
                columns=["id", "missed_refreshes"],
                rows=[(pool_id, missed + 1) for pool_id, _, missed in missing],
                update={
                    "missed_refreshes": "{S}.missed_refreshes",
                    "is_active": f"({{T}}.is_active AND {{S}}.missed_refreshes < {int(limit)})",
                },
                returning=(),
            )
        timer.lap("missed")
        data_version_bump()
    return result


def _upsert_snapshots(rows: list[tuple]) -> int:
    """Upsert (pool_id, day, tvl, apy, apy_base, apy_reward) rows; returns rows written."""
    if not rows:
        return 0
    written = bulk.upsert(
        table=PoolSnapshot._meta.db_table,
        columns=SNAPSHOT_COLUMNS,
        rows=rows,
        conflict=["pool_id", "day"],
        returning=("id",),
    )
    return len(written)


def pool_histories_ingest(*, histories: dict[int, Iterable[PoolHistoryPoint]]) -> int:
    """Store daily histories ``{pool_id: points}`` (one row per UTC day, the last
    point of a day wins) in one upsert, and move each pool's ``history_start``
    back to its first day. Returns the number of snapshot rows written."""
    rows, firsts = [], []
    for pool_id, points in histories.items():
        by_day: dict[date, PoolHistoryPoint] = {}
        for point in sorted(points, key=lambda p: p.timestamp):
            by_day[point.day] = point
        if not by_day:
            continue
        rows += [
            (
                pool_id,
                day,
                quantize(p.tvl_usd, Q_CENTS),
                quantize(p.apy, Q_PCT),
                quantize(p.apy_base, Q_PCT),
                quantize(p.apy_reward, Q_PCT),
            )
            for day, p in sorted(by_day.items())
        ]
        firsts.append((pool_id, min(by_day)))
    with transaction.atomic():
        data_version_bump()
        written = _upsert_snapshots(rows)
        if firsts:
            bulk.update_from(
                table=Pool._meta.db_table,
                key="id",
                columns=["id", "history_start"],
                rows=firsts,
                update={
                    "history_start": "CASE WHEN {T}.history_start IS NULL OR {S}.history_start < "
                    "{T}.history_start THEN {S}.history_start ELSE {T}.history_start END"
                },
                returning=(),
            )
    return written


def pool_snapshots_ingest(*, pool_id: int, points: Iterable[PoolHistoryPoint]) -> int:
    """Store one pool's daily history (see ``pool_histories_ingest``)."""
    return pool_histories_ingest(histories={pool_id: points})
