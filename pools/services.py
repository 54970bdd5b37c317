"""Every write of the pools app.

Refresh flow (``pools_refresh``, run hourly by ``pools.tasks.refresh_pools``)::

    lock -> RefreshRun(running) -> source.fetch_pools()          (I/O, no transaction)
         -> pools_ingest(batch)   one transaction, a few set-based statements:
              chains, protocols (insert missing) · tokens (upsert) · pools (upsert,
              changed rows only) · token links (diff) · today's snapshots (upsert) ·
              missed / deactivated pools
         -> pool_stats_refresh()  our 30-day mean and sigma from the snapshots
         -> pool_risk_refresh()   pools.risk for every pool, changed rows only
         -> RefreshRun(succeeded, counts)

A ``SourceError`` (timeout, 5xx, malformed or truncated payload) is recorded on
a failed RefreshRun and re-raised so the Celery task retries with backoff;
nothing was written, so the last good data stays in place.

Settings (all optional): ``POOL_SOURCE`` ("bundled"), ``POOL_INACTIVE_AFTER_MISSES``
(3), ``POOL_SPIKE_RATIO`` (5), ``POOL_SPIKE_WINDOW_HOURS`` (5),
``POOL_PRICE_MIN_TVL_USD`` (10,000,000; see ``selectors.tokens_in_use``).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from pools import bulk
from pools.locking import refresh_lock
from pools.models import (
    Chain,
    Pool,
    PoolRewardToken,
    PoolSnapshot,
    PoolUnderlyingToken,
    Protocol,
    RefreshRun,
    Token,
    TokenPrice,
)
from pools.risk import MIN_SIGMA_OBSERVATIONS, RiskInputs, score_pool
from pools.sources import PoolBatch, PoolHistoryPoint, PoolKind, PoolRecord, SourceError, get_source
from pools.sources.classify import FIAT_STABLES, split_symbol
from pools.sources.stats import compute_apy_stats

logger = logging.getLogger(__name__)

D = Decimal
Q_CENTS = D("0.01")
Q_PCT = D("1e-10")
Q_PROB = D("0.001")
MAX_SPIKE_POOLS_LISTED = 200


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def inactive_after_misses() -> int:
    return int(_setting("POOL_INACTIVE_AFTER_MISSES", 3))


# ----------------------------------------------------------------------------- mapping
# DeFiLlama chain name (lower-case) -> prefix of DeFiLlama coins ids.
COINS_PREFIX = {
    "ethereum": "ethereum", "arbitrum": "arbitrum", "optimism": "optimism", "base": "base",
    "polygon": "polygon", "bsc": "bsc", "avalanche": "avax", "celo": "celo", "sonic": "sonic",
    "fraxtal": "fraxtal", "bob": "bob", "fantom": "fantom", "kava": "kava", "gnosis": "xdai",
    "op_bnb": "op_bnb", "opbnb": "op_bnb", "zksync": "era", "linea": "linea", "moonbeam": "moonbeam",
    "scroll": "scroll", "mantle": "mantle", "blast": "blast", "mode": "mode", "solana": "solana",
}  # fmt: skip
# The native coin (0x0…0 / 0xEeee…) of chains whose gas token is ETH or BNB/AVAX.
NATIVE_PRICE_IDS = {
    "ethereum": "coingecko:ethereum", "arbitrum": "coingecko:ethereum", "optimism": "coingecko:ethereum",
    "base": "coingecko:ethereum", "linea": "coingecko:ethereum", "zksync": "coingecko:ethereum",
    "scroll": "coingecko:ethereum", "bsc": "coingecko:binancecoin", "op_bnb": "coingecko:binancecoin",
    "opbnb": "coingecko:binancecoin", "avalanche": "coingecko:avalanche-2",
}  # fmt: skip
NATIVE_ADDRESSES = {"0x0000000000000000000000000000000000000000", "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}
# Series in the bundled price file (pools/data/prices) and token symbols read as them.
BUNDLED_PRICE_SYMBOLS = {"AAVE", "BAL", "BTC", "COMP", "CRV", "ETH", "LINK", "MKR", "SNX", "SUSHI", "TUSD", "UNI",
                         "USDC", "USDT", "YFI"}
PRICE_SYMBOL_ALIASES = {"WETH": "ETH", "WBTC": "BTC"}

PROTOCOL_NAMES = {
    "uniswap-v2": "Uniswap V2", "uniswap-v3": "Uniswap V3", "curve-dex": "Curve DEX",
    "aerodrome-slipstream": "Aerodrome Slipstream", "aerodrome-v1": "Aerodrome V1",
    "pancakeswap-amm": "PancakeSwap AMM", "pancakeswap-amm-v3": "PancakeSwap AMM V3", "fluid-dex": "Fluid DEX",
}  # fmt: skip
FARM_PROJECTS = {"convex-finance", "aura", "stake-dao"}
KIND_CATEGORY = {
    "amm": Protocol.Category.DEX, "concentrated": Protocol.Category.DEX, "weighted": Protocol.Category.DEX,
    "stableswap": Protocol.Category.DEX, "lending": Protocol.Category.LENDING,
    "staking": Protocol.Category.STAKING, "liquid_staking": Protocol.Category.LIQUID_STAKING,
    "farm": Protocol.Category.YIELD, "vault": Protocol.Category.YIELD,
}  # fmt: skip


def chain_slug(name: str) -> str:
    return name.strip().lower().replace(" ", "-")


def protocol_name(slug: str) -> str:
    if slug in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[slug]
    return " ".join(p.upper() if p[:1] == "v" and p[1:].isdigit() else p.capitalize() for p in slug.split("-"))


def normalize_address(address: str) -> str:
    address = address.strip()
    return address.lower() if address[:2].lower() == "0x" else address


def pool_kind(record: PoolRecord) -> str:
    if record.kind == PoolKind.YIELD:
        return Pool.Kind.FARM if record.project in FARM_PROJECTS else Pool.Kind.VAULT
    try:
        return Pool.Kind(str(record.kind)).value
    except ValueError:
        return Pool.Kind.UNKNOWN


def price_symbol_for(symbol: str) -> str:
    key = symbol.strip().upper()
    key = PRICE_SYMBOL_ALIASES.get(key, key)
    return key if key in BUNDLED_PRICE_SYMBOLS else ""


def token_price_id(chain: str, address: str) -> str:
    """DeFiLlama coins id for a token (blank when the chain is unknown to us)."""
    key = chain_slug(chain)
    if address in NATIVE_ADDRESSES:
        return NATIVE_PRICE_IDS.get(key, "")
    prefix = COINS_PREFIX.get(key)
    return f"{prefix}:{address}" if prefix and address else ""


def _q(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(quantum)


def _bool_il(value: str | None) -> bool | None:
    return None if value is None else value == "yes"


def _dumps(value: Any) -> str:
    return json.dumps(value)  # Django's JSONField encoding, so SQLite text compares equal


def _record_time(record: PoolRecord, batch: PoolBatch) -> datetime:
    return record.updated_at or batch.fetched_at


# ----------------------------------------------------------------------------- results
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
    pool_ids: dict[str, int] = field(default_factory=dict)
    changed_ids: list[int] = field(default_factory=list)  # created or updated pools
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": self.rejected, "deactivated": self.deactivated, "reactivated": self.reactivated,
            "spike_skipped": self.spike_skipped, "snapshots_written": self.snapshots_written,
            "rejection_reasons": self.rejection_reasons, "spike_pools": self.spike_pools,
        }  # fmt: skip


class _Timer:
    def __init__(self, into: dict[str, float]):
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.last, 4)
        self.last = now


# ----------------------------------------------------------------------------- ingest
POOL_COLUMNS = [
    "external_id", "chain_id", "protocol_id", "symbol", "meta", "tokens_key", "tokens_signature", "kind",
    "stablecoin", "il_risk",
    "exposure", "derived_fields", "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_base_7d",
    "apy_pct_1d", "apy_pct_7d", "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu", "sigma", "count",
    "outlier", "predicted_class", "predicted_probability", "binned_confidence", "apy_mean_30d_computed",
    "history_start", "first_seen_at", "last_seen_at", "missed_refreshes", "is_active", "changed_at",
    "risk_grade", "risk_factors",
]  # fmt: skip
# On conflict: everything the source describes, plus coming back to life.
_POOL_UPDATE = {c: f"{{S}}.{c}" for c in POOL_COLUMNS
                if c not in {"external_id", "first_seen_at", "risk_grade", "risk_factors"}}
# A source that stops sending apyMean30d does not erase the mean we computed ourselves.
_POOL_UPDATE["apy_mean_30d"] = (
    "CASE WHEN {S}.apy_mean_30d IS NULL AND {T}.apy_mean_30d_computed "
    "THEN {T}.apy_mean_30d ELSE {S}.apy_mean_30d END"
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
    """Chain name -> id, inserting missing chains."""
    by_slug = {chain_slug(n): n for n in names}
    existing = dict(Chain.objects.filter(slug__in=by_slug).values_list("slug", "id"))
    missing = [Chain(slug=s, name=n, coins_prefix=COINS_PREFIX.get(s, "")) for s, n in by_slug.items()
               if s not in existing]
    if missing:
        Chain.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Chain.objects.filter(slug__in=by_slug).values_list("slug", "id"))
    return {name: existing[slug] for slug, name in by_slug.items()}


def _ensure_protocols(kinds: dict[str, str]) -> dict[str, int]:
    """Protocol slug -> id, inserting missing protocols (staff-edited facts are never touched)."""
    existing = dict(Protocol.objects.filter(slug__in=kinds).values_list("slug", "id"))
    missing = [Protocol(slug=s, name=protocol_name(s), category=KIND_CATEGORY.get(k, ""))
               for s, k in kinds.items() if s not in existing]
    if missing:
        Protocol.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Protocol.objects.filter(slug__in=kinds).values_list("slug", "id"))
    return existing


def _addresses(record: PoolRecord) -> tuple[list[str], list[str]]:
    """The record's (underlying, reward) token addresses, normalised, duplicates dropped."""
    underlying = list(dict.fromkeys(normalize_address(a) for a in record.underlying_tokens or () if a and a.strip()))
    rewards = list(dict.fromkeys(normalize_address(a) for a in record.reward_tokens or () if a and a.strip()))
    return underlying, rewards


def _token_candidates(records: Sequence[PoolRecord], chain_ids: dict[str, int],
                      addresses: dict[str, tuple[list[str], list[str]]]) -> dict[tuple[int, str], tuple[str, str]]:
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


def _ensure_tokens(records: Sequence[PoolRecord], chain_ids: dict[str, int],
                   addresses: dict[str, tuple[list[str], list[str]]]) -> dict[tuple[int, str], int]:
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
        row = (chain_id, address, symbol, "", symbol in FIAT_STABLES, token_price_id(chain_name, address),
               price_symbol_for(symbol) if symbol else "", False)
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
            table=Token._meta.db_table, columns=TOKEN_COLUMNS, rows=todo, conflict=["chain_id", "address"],
            update=fill, returning=("id", "chain_id", "address"),
        ):
            known[(chain_id, address)] = (token_id,)
    return {key: value[0] for key, value in known.items()}


def tokens_signature(record: PoolRecord) -> str:
    """The token lists exactly as the source sent them (cheap to compare)."""
    return f"{','.join(record.underlying_tokens or ())}|{','.join(record.reward_tokens or ())}"


def _existing_pools() -> dict[str, tuple]:
    """external_id -> (id, is_active, missed_refreshes, tvl_usd, apy, last_seen_at, tokens_signature)."""
    fields = ("external_id", "id", "is_active", "missed_refreshes", "tvl_usd", "apy", "last_seen_at",
              "tokens_signature")
    if bulk.is_postgres():  # psycopg returns Decimal and aware datetimes itself: skip the ORM
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(fields)} FROM pools_pool")  # noqa: S608 - constant names
            return {row[0]: row[1:] for row in cursor.fetchall()}
    return {row[0]: row[1:] for row in Pool.objects.values_list(*fields).iterator(chunk_size=5000)}


def _spike(old: Decimal | None, new: Decimal | None, floor: Decimal, ratio: Decimal) -> bool:
    if old is None or new is None:
        return False
    old, new = max(old, floor), max(new, floor)
    return new > old * ratio or old > new * ratio


def _spike_guard(records: Sequence[PoolRecord], batch: PoolBatch, existing: dict[str, tuple]
                 ) -> tuple[list[PoolRecord], list[dict[str, str]]]:
    """Split off pools whose TVL or APY jumped more than ``POOL_SPIKE_RATIO``× (either way)
    against a stored value less than ``POOL_SPIKE_WINDOW_HOURS`` old.

    Such jumps are far more often a source glitch (a mispriced token, a decimals
    bug) than reality; a real move is accepted at the first refresh after the
    window, because the stored value is not refreshed meanwhile. Values below a
    floor ($1,000 TVL, 0.01 % APY) are compared as the floor so dust does not trip it.
    """
    ratio = D(str(_setting("POOL_SPIKE_RATIO", 5)))
    window = timedelta(hours=float(_setting("POOL_SPIKE_WINDOW_HOURS", 5)))
    keep, spikes = [], []
    for record in records:
        old = existing.get(record.pool_id)
        if old is not None and old[5] is not None and abs(_record_time(record, batch) - old[5]) < window:
            old_tvl, old_apy = old[3], old[4]
            field_name = None
            if _spike(old_tvl, record.tvl_usd, D(1000), ratio):
                field_name, before, after = "tvl_usd", old_tvl, record.tvl_usd
            elif _spike(old_apy, record.apy, D("0.01"), ratio):
                field_name, before, after = "apy", old_apy, record.apy
            if field_name:
                spikes.append({"pool": record.pool_id, "field": field_name, "old": str(before), "new": str(after)})
                continue
        keep.append(record)
    return keep, spikes


def _pool_row(record: PoolRecord, *, chain_id: int, protocol_id: int, seen_at: datetime, now: datetime,
              history_start: date | None) -> tuple:
    predictions = record.predictions
    tokens = split_symbol(record.symbol)
    return (
        record.pool_id, chain_id, protocol_id, record.symbol[:200], (record.pool_meta or "")[:200],
        f"-{'-'.join(tokens)}-"[:400] if tokens else "", tokens_signature(record), pool_kind(record),
        record.stablecoin,
        _bool_il(record.il_risk), record.exposure or "", _dumps(sorted(record.derived)),
        _q(record.tvl_usd, Q_CENTS), _q(record.apy, Q_PCT), _q(record.apy_base, Q_PCT),
        _q(record.apy_reward, Q_PCT), _q(record.apy_mean_30d, Q_PCT), _q(record.apy_base_7d, Q_PCT),
        _q(record.apy_pct_1d, Q_PCT), _q(record.apy_pct_7d, Q_PCT), _q(record.apy_pct_30d, Q_PCT),
        _q(record.volume_usd_1d, Q_CENTS), _q(record.volume_usd_7d, Q_CENTS), _q(record.il_7d, Q_PCT),
        _q(record.mu, Q_PCT), _q(record.sigma, Q_PCT), record.count, record.outlier,
        (predictions.predicted_class or "")[:32] if predictions else "",
        _q(predictions.predicted_probability, Q_PROB) if predictions else None,
        predictions.binned_confidence if predictions else None,
        False, history_start, now, seen_at, 0, True, now, "", "[]",
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
    timer = _Timer(result.timings)
    records = list(batch.records)
    with transaction.atomic():
        chain_ids = _ensure_chains({r.chain for r in records})
        kinds: dict[str, str] = {}
        for r in records:
            kinds.setdefault(r.project, pool_kind(r))
        protocol_ids = _ensure_protocols(kinds)
        existing = _existing_pools()
        timer.lap("prepare")
        keep, spikes = _spike_guard(records, batch, existing)
        result.spike_skipped, result.spike_pools = len(spikes), spikes[:MAX_SPIKE_POOLS_LISTED]
        # Tokens and links only for new pools and pools whose token lists changed.
        relink = [r for r in keep if r.pool_id not in existing or existing[r.pool_id][6] != tokens_signature(r)]
        addresses = {r.pool_id: _addresses(r) for r in relink}
        token_ids = _ensure_tokens(relink, chain_ids, addresses) if relink else {}
        timer.lap("tokens")

        rows, snapshot_days = [], {}
        for r in keep:
            seen_at = _record_time(r, batch)
            day = seen_at.astimezone(UTC).date()
            snapshot_days[r.pool_id] = day
            rows.append(_pool_row(r, chain_id=chain_ids[r.chain], protocol_id=protocol_ids[r.project],
                                  seen_at=seen_at, now=now, history_start=day if snapshots else None))
        changed = bulk.upsert(table=Pool._meta.db_table, columns=POOL_COLUMNS, rows=rows, conflict=["external_id"],
                              update=_POOL_UPDATE, compare=_POOL_COMPARE, returning=("id", "external_id"),
                              insert=any(r.pool_id not in existing for r in keep))
        timer.lap("pools")
        ids = {ext: row[0] for ext, row in existing.items()}
        ids.update({ext: pool_id for pool_id, ext in changed})
        result.pool_ids = {r.pool_id: ids[r.pool_id] for r in keep}
        result.changed_ids = [pool_id for pool_id, _ in changed]
        result.created = sum(1 for _, ext in changed if ext not in existing)
        result.updated = len(changed) - result.created
        result.unchanged = len(keep) - len(changed)
        result.reactivated = sum(1 for r in keep if r.pool_id in existing and not existing[r.pool_id][1])

        for model, which in ((PoolUnderlyingToken, 0), (PoolRewardToken, 1)):
            desired = {ids[r.pool_id]: [token_ids[(chain_ids[r.chain], a)] for a in addresses[r.pool_id][which]]
                       for r in relink}
            if desired:
                _sync_links(model, desired)
        timer.lap("links")

        if snapshots:
            snap_rows = [
                (ids[r.pool_id], snapshot_days[r.pool_id], _q(r.tvl_usd, Q_CENTS), _q(r.apy, Q_PCT),
                 _q(r.apy_base, Q_PCT), _q(r.apy_reward, Q_PCT))
                for r in keep
            ]
            result.snapshots_written = _upsert_snapshots(snap_rows)
        timer.lap("snapshots")

        # Pools the source did not list this time: count the miss; deactivate after N.
        seen_ids = {r.pool_id for r in records}
        limit = inactive_after_misses()
        missing = [(row[0], row[1], row[2]) for ext, row in existing.items()
                   if ext not in seen_ids and row[2] < limit]
        result.deactivated = sum(1 for _, active, missed in missing if active and missed + 1 >= limit)
        if missing:
            bulk.update_from(
                table=Pool._meta.db_table, key="id", columns=["id", "missed_refreshes"],
                rows=[(pool_id, missed + 1) for pool_id, _, missed in missing],
                update={"missed_refreshes": "{S}.missed_refreshes",
                        "is_active": f"({{T}}.is_active AND {{S}}.missed_refreshes < {int(limit)})"},
                returning=(),
            )
        timer.lap("missed")
    return result


def _upsert_snapshots(rows: list[tuple]) -> int:
    """Upsert (pool_id, day, tvl, apy, apy_base, apy_reward) rows; returns rows written."""
    if not rows:
        return 0
    written = bulk.upsert(table=PoolSnapshot._meta.db_table, columns=SNAPSHOT_COLUMNS, rows=rows,
                          conflict=["pool_id", "day"], returning=("id",))
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
        rows += [(pool_id, day, _q(p.tvl_usd, Q_CENTS), _q(p.apy, Q_PCT), _q(p.apy_base, Q_PCT),
                  _q(p.apy_reward, Q_PCT)) for day, p in sorted(by_day.items())]
        firsts.append((pool_id, min(by_day)))
    with transaction.atomic():
        written = _upsert_snapshots(rows)
        if firsts:
            bulk.update_from(
                table=Pool._meta.db_table, key="id", columns=["id", "history_start"], rows=firsts,
                update={"history_start": "CASE WHEN {T}.history_start IS NULL OR {S}.history_start < "
                                         "{T}.history_start THEN {S}.history_start ELSE {T}.history_start END"},
                returning=(),
            )
    return written


def pool_snapshots_ingest(*, pool_id: int, points: Iterable[PoolHistoryPoint]) -> int:
    """Store one pool's daily history (see ``pool_histories_ingest``)."""
    return pool_histories_ingest(histories={pool_id: points})


# ----------------------------------------------------------------------------- statistics
def pool_stats_refresh(*, as_of: date, pool_ids: Sequence[int] | None = None, window_days: int = 30) -> int:
    """See ``pool_stats_refresh_ids``; returns how many pools changed."""
    return len(pool_stats_refresh_ids(as_of=as_of, pool_ids=pool_ids, window_days=window_days))


def pool_stats_refresh_ids(*, as_of: date, pool_ids: Sequence[int] | None = None,
                           window_days: int = 30) -> list[int]:
    """Our own 30-day APY mean and sample σ from PoolSnapshot, for every pool (or
    ``pool_ids``). The mean is stored only where the source gives none; σ always,
    once the window holds ``pools.risk.MIN_SIGMA_OBSERVATIONS`` (5) days (the
    source's ``sigma`` is another quantity, see pools.sources.stats).
    Returns the ids of the pools whose statistics changed."""
    start = as_of - timedelta(days=window_days)
    stats: list[tuple[int, Decimal | None, Decimal | None]] = []
    if bulk.is_postgres():
        sql = (
            "SELECT pool_id, AVG(apy), STDDEV_SAMP(apy), COUNT(apy) FROM pools_poolsnapshot "
            "WHERE day > %s AND day <= %s AND apy IS NOT NULL"
        )
        params: list[Any] = [start, as_of]
        if pool_ids is not None:
            sql += " AND pool_id = ANY(%s)"
            params.append(list(pool_ids))
        with connection.cursor() as cursor:
            cursor.execute(sql + " GROUP BY pool_id", params)
            stats = [(pid, _q(mean, Q_PCT), _q(sigma, Q_PCT) if n >= MIN_SIGMA_OBSERVATIONS else None)
                     for pid, mean, sigma, n in cursor.fetchall()]
    else:
        qs = PoolSnapshot.objects.filter(day__gt=start, day__lte=as_of, apy__isnull=False)
        if pool_ids is not None:
            qs = qs.filter(pool_id__in=list(pool_ids))
        series: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for pid, day, apy in qs.values_list("pool_id", "day", "apy").iterator(chunk_size=5000):
            series[pid].append((day, apy))
        for pid, points in series.items():
            s = compute_apy_stats(points, as_of=as_of, window_days=window_days)
            sigma = s.sigma_30d if s.window_count >= MIN_SIGMA_OBSERVATIONS else None
            stats.append((pid, _q(s.mean_30d, Q_PCT), _q(sigma, Q_PCT)))
    if not stats:
        return []
    with transaction.atomic():
        changed = bulk.update_from(
            table=Pool._meta.db_table, key="id", columns=["id", "apy_mean_30d", "apy_sigma_30d"], rows=stats,
            update={
                "apy_sigma_30d": "{S}.apy_sigma_30d",
                "apy_mean_30d": "CASE WHEN {T}.apy_mean_30d IS NULL OR {T}.apy_mean_30d_computed "
                                "THEN {S}.apy_mean_30d ELSE {T}.apy_mean_30d END",
                "apy_mean_30d_computed": "({T}.apy_mean_30d IS NULL OR {T}.apy_mean_30d_computed)",
            },
        )
    return [row[0] for row in changed]


# ----------------------------------------------------------------------------- risk
def _factor_dicts(score) -> list[dict[str, Any]]:
    return [
        {"key": f.key, "label": f.label, "value": f.value_shown, "points": f.points, "max_points": f.max_points,
         "explanation": f.explanation, "unknown": f.unknown}
        for f in score.factors
    ]


def pool_risk_inputs(values: dict[str, Any], *, as_of: date) -> RiskInputs:
    """RiskInputs from a pool's stored values (and its protocol's facts)."""
    count = values["count"]
    start, seen = values["history_start"], values["last_seen_at"]
    if start is not None and seen is not None:
        ours = (seen.astimezone(UTC).date() - start).days + 1
        count = max(count or 0, ours)
    il = values["il_risk"]
    return RiskInputs(
        tvl_usd=values["tvl_usd"],
        observation_count=count,
        apy_sigma_30d=values["apy_sigma_30d"],
        source_sigma=values["sigma"],
        apy_base=values["apy_base"],
        apy_reward=values["apy_reward"],
        il_risk=None if il is None else ("yes" if il else "no"),
        kind=values["kind"],
        stablecoin=values["stablecoin"],
        outlier=values["outlier"],
        audit_count=values["protocol__audit_count"],
        last_audit_date=values["protocol__last_audit_date"],
        protocol_launch_date=values["protocol__launch_date"],
        as_of=as_of,
    )


RISK_INPUT_FIELDS = [
    "id", "tvl_usd", "count", "history_start", "last_seen_at", "apy_sigma_30d", "sigma", "apy_base", "apy_reward",
    "il_risk", "kind", "stablecoin", "outlier", "protocol__audit_count", "protocol__last_audit_date",
    "protocol__launch_date",
]  # fmt: skip


def pool_risk_refresh(*, pool_ids: Sequence[int] | None = None, protocol_ids: Sequence[int] | None = None,
                      as_of: date | None = None) -> int:
    """Score every pool (or the given ones) with ``pools.risk`` and store score,
    grade and factors where they changed. Returns the number of pools changed."""
    as_of = as_of or timezone.now().astimezone(UTC).date()
    qs = Pool.objects.all()
    if pool_ids is not None:
        qs = qs.filter(pk__in=list(pool_ids))
    if protocol_ids is not None:
        qs = qs.filter(protocol_id__in=list(protocol_ids))
    rows = []
    for values in qs.values(*RISK_INPUT_FIELDS).iterator(chunk_size=5000):
        score = score_pool(pool_risk_inputs(values, as_of=as_of))
        rows.append((values["id"], score.score, score.grade, _dumps(_factor_dicts(score))))
    if not rows:
        return 0
    with transaction.atomic():
        changed = bulk.update_from(table=Pool._meta.db_table, key="id",
                                   columns=["id", "risk_score", "risk_grade", "risk_factors"], rows=rows)
    return len(changed)


# ----------------------------------------------------------------------------- refresh runs
@lru_cache(maxsize=1)
def _bundled_source():
    # The bundled files take ~1 s to parse; one instance per process keeps its caches.
    return get_source("bundled")


def pool_source(name: str | None = None):
    """The configured pool source (``settings.POOL_SOURCE``)."""
    name = (name or settings.POOL_SOURCE or "bundled").strip().lower()
    return _bundled_source() if name == "bundled" else get_source(name)


def _finish(run: RefreshRun, status: str, **fields: Any) -> RefreshRun:
    run.status = status
    run.finished_at = timezone.now()
    for key, value in fields.items():
        setattr(run, key, value)
    run.save()
    return run


def _skipped(kind: str, source: str) -> RefreshRun:
    now = timezone.now()
    return RefreshRun.objects.create(kind=kind, source=source, status=RefreshRun.Status.SKIPPED, started_at=now,
                                     finished_at=now, error="Another refresh of this kind was running.")


RISK_FULL_DAY_KEY = "pools:risk-full-day"


def _risk_after_refresh(*, changed_ids: set[int]) -> None:
    """Rescore the pools this refresh changed; every pool once a day, because the
    age-based factors (protocol age, audit age) move with the calendar. If the
    cache forgets the day, the cost is one extra full pass."""
    today = timezone.now().astimezone(UTC).date().isoformat()
    if cache.get(RISK_FULL_DAY_KEY) != today:
        pool_risk_refresh()
        cache.set(RISK_FULL_DAY_KEY, today, 2 * 24 * 3600)
    elif changed_ids:
        pool_risk_refresh(pool_ids=sorted(changed_ids))


def pools_refresh(*, source=None, use_lock: bool = True) -> RefreshRun:
    """Fetch the pool list and ingest it (see the module docstring).

    Returns the RefreshRun (``skipped`` if another refresh holds the lock).
    Raises the source's ``SourceError`` after recording a ``failed`` run.
    """
    source = source or pool_source()
    with refresh_lock(RefreshRun.Kind.POOLS, enabled=use_lock) as acquired:
        if not acquired:
            return _skipped(RefreshRun.Kind.POOLS, source.name)
        run = RefreshRun.objects.create(kind=RefreshRun.Kind.POOLS, source=source.name, started_at=timezone.now())
        try:
            started = time.perf_counter()
            batch = source.fetch_pools()  # network I/O: outside any transaction
            fetch_seconds = round(time.perf_counter() - started, 3)
        except SourceError as exc:
            _finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])
            raise
        try:
            result = pools_ingest(batch=batch)
            timer = _Timer(result.timings)
            day = batch.fetched_at.astimezone(UTC).date()
            stats_changed = pool_stats_refresh_ids(as_of=day)
            timer.lap("stats")
            _risk_after_refresh(changed_ids={*result.changed_ids, *stats_changed})
            timer.lap("risk")
        except Exception as exc:
            _finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])
            raise
        counts = result.counts()
        return _finish(run, RefreshRun.Status.SUCCEEDED, data_as_of=batch.fetched_at,
                       detail={"fetch_seconds": fetch_seconds, "timings": result.timings,
                               "records": len(batch.records)}, **counts)


def pool_history_backfill(*, pool_id: int, source=None) -> RefreshRun:
    """Load a pool's daily history from the source into PoolSnapshot (idempotent)."""
    pool = Pool.objects.get(pk=pool_id)
    source = source or pool_source()
    run = RefreshRun.objects.create(kind=RefreshRun.Kind.HISTORY, source=source.name, started_at=timezone.now(),
                                    detail={"pool_id": pool.pk, "external_id": pool.external_id})
    try:
        points = source.fetch_history(pool.external_id)
    except SourceError as exc:
        _finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])
        raise
    written = pool_snapshots_ingest(pool_id=pool.pk, points=points)
    Pool.objects.filter(pk=pool.pk).update(history_backfilled_at=timezone.now())
    if points:
        pool_stats_refresh(as_of=max(p.day for p in points), pool_ids=[pool.pk])
    pool_risk_refresh(pool_ids=[pool.pk])
    return _finish(run, RefreshRun.Status.SUCCEEDED, snapshots_written=written, created=written,
                   unchanged=len(points) - written, data_as_of=max((p.timestamp for p in points), default=None))


HISTORY_REQUEST_TTL = 15 * 60


def pool_history_request(*, pool: Pool) -> bool:
    """Ask for a pool's history once (first view of its page): enqueue the
    backfill after the current transaction commits. Returns True if enqueued."""
    if pool.history_backfilled_at is not None:
        return False
    # One request per pool per 15 minutes, however many people open the page.
    if not cache.add(f"pools:history-requested:{pool.pk}", 1, HISTORY_REQUEST_TTL):
        return False
    from pools.tasks import backfill_pool_history

    pool_id = pool.pk
    transaction.on_commit(lambda: backfill_pool_history.delay(pool_id=pool_id))
    return True


# ----------------------------------------------------------------------------- protocols
PROTOCOL_FACT_FIELDS = ("name", "category", "url", "audit_count", "audit_links", "last_audit_date", "launch_date")


def protocol_update_facts(*, protocol: Protocol, **facts: Any) -> Protocol:
    """Edit a protocol's facts (staff, in the admin) and rescore its pools."""
    unknown = set(facts) - set(PROTOCOL_FACT_FIELDS)
    if unknown:
        raise TypeError(f"not protocol facts: {sorted(unknown)}")
    for key, value in facts.items():
        setattr(protocol, key, value)
    protocol.facts_updated_at = timezone.now()
    protocol.full_clean()
    with transaction.atomic():
        protocol.save()
        pool_risk_refresh(protocol_ids=[protocol.pk])
    return protocol


# ----------------------------------------------------------------------------- tokens and prices
def token_get_or_create(*, chain: str, address: str, symbol: str = "", price_id: str = "") -> Token:
    """The token at ``address`` on ``chain`` (name or slug), created if unknown."""
    slug = chain_slug(chain)
    chain_obj, _ = Chain.objects.get_or_create(slug=slug, defaults={"name": chain.strip(),
                                                                    "coins_prefix": COINS_PREFIX.get(slug, "")})
    address = normalize_address(address)
    token, created = Token.objects.get_or_create(
        chain=chain_obj, address=address,
        defaults={"symbol": symbol, "is_stablecoin": symbol.upper() in FIAT_STABLES,
                  "price_id": price_id or token_price_id(chain_obj.name, address),
                  "price_symbol": price_symbol_for(symbol) if symbol else ""},
    )
    return token


def token_set_tracked(*, token_ids: Iterable[int], tracked: bool = True) -> int:
    """Mark tokens as in use (their prices are refreshed). The portfolios app calls
    this for every token it holds; pools never imports portfolios."""
    return Token.objects.filter(pk__in=list(token_ids)).exclude(is_tracked=tracked).update(is_tracked=tracked)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


PRICE_COLUMNS = ["token_id", "timestamp", "price_usd", "quoted_at", "source"]


def token_prices_store(rows: Sequence[tuple[int, date, Decimal, datetime | None, str]]) -> int:
    """Upsert daily prices ``(token_id, day, price_usd, quoted_at, source)`` and move each
    token's latest price forward. Returns the number of price rows written."""
    if not rows:
        return 0
    q = D("1e-18")
    price_rows = [(tid, _day_start(day), price.quantize(q), quoted_at or _day_start(day), source)
                  for tid, day, price, quoted_at, source in rows]
    latest: dict[int, tuple] = {}
    for tid, _ts, price, quoted_at, _source in price_rows:
        if tid not in latest or quoted_at > latest[tid][2]:
            latest[tid] = (tid, price, quoted_at)
    with transaction.atomic():
        written = bulk.upsert(table=TokenPrice._meta.db_table, columns=PRICE_COLUMNS, rows=price_rows,
                              conflict=["token_id", "timestamp"], returning=("id",))
        bulk.update_from(
            table=Token._meta.db_table, key="id", columns=["id", "last_price_usd", "last_price_at"],
            rows=list(latest.values()),
            update={
                "last_price_usd": "CASE WHEN {T}.last_price_at IS NULL OR {S}.last_price_at >= {T}.last_price_at "
                                  "THEN {S}.last_price_usd ELSE {T}.last_price_usd END",
                "last_price_at": "CASE WHEN {T}.last_price_at IS NULL OR {S}.last_price_at >= {T}.last_price_at "
                                 "THEN {S}.last_price_at ELSE {T}.last_price_at END",
            },
            returning=(),
        )
    return len(written)


def token_prices_load_bundled(*, tokens: Iterable[Token] | None = None) -> int:
    """Daily history from the bundled price file for tokens with a ``price_symbol``."""
    source = _bundled_source()
    qs = Token.objects.exclude(price_symbol="") if tokens is None else tokens
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for token in qs:
        if token.price_symbol:
            by_symbol[token.price_symbol].append(token.pk)
    rows = []
    for symbol, token_ids in by_symbol.items():
        for point in source.price_history(symbol):
            rows += [(tid, point.day, point.price_usd, None, "bundled") for tid in token_ids]
    return token_prices_store(rows)


def prices_refresh(*, source_name: str | None = None, use_lock: bool = True) -> RefreshRun:
    """Latest prices of ``selectors.tokens_in_use()``.

    Bundled source: the newest daily price of each token's ``price_symbol``.
    DeFiLlama: ``coins.llama.fi/prices/current`` for their ``price_id`` (chunked).
    """
    from pools.selectors import tokens_in_use

    name = (source_name or settings.POOL_SOURCE or "bundled").strip().lower()
    kind = RefreshRun.Kind.PRICES
    with refresh_lock(kind, enabled=use_lock) as acquired:
        if not acquired:
            return _skipped(kind, name)
        run = RefreshRun.objects.create(kind=kind, source=name, started_at=timezone.now())
        tokens = list(tokens_in_use())
        rows: list[tuple] = []
        missing = 0
        try:
            if name == "bundled":
                source = _bundled_source()
                for token in tokens:
                    latest = source.latest_price(token.price_symbol) if token.price_symbol else None
                    if latest is None:
                        missing += 1
                        continue
                    rows.append((token.pk, latest.day, latest.price_usd, None, "bundled"))
            else:
                coins = get_source("llama_coins")
                with_id = [t for t in tokens if t.price_id]
                batch = coins.current_prices([t.price_id for t in with_id])
                for token in with_id:
                    quote = batch.quotes.get(token.price_id)
                    if quote is None:
                        missing += 1
                        continue
                    rows.append((token.pk, quote.timestamp.astimezone(UTC).date(), quote.price_usd,
                                 quote.timestamp, "llama_coins"))
        except SourceError as exc:
            _finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])
            raise
        written = token_prices_store(rows)
        return _finish(run, RefreshRun.Status.SUCCEEDED, updated=written, unchanged=len(rows) - written,
                       rejected=missing, detail={"tokens": len(tokens)})


def token_price_fetch(*, token: Token, when: datetime | date) -> TokenPrice | None:
    """The token's price on ``when``'s UTC day, fetched from the source and stored if
    we do not have it yet (history on demand, e.g. a reward's fair market value)."""
    day = when.astimezone(UTC).date() if isinstance(when, datetime) else when
    stored = TokenPrice.objects.filter(token=token, timestamp=_day_start(day)).first()
    if stored is not None:
        return stored
    name = (settings.POOL_SOURCE or "bundled").strip().lower()
    if name == "bundled" or not token.price_id:
        if not token.price_symbol:
            return None
        point = _bundled_source().price_at(token.price_symbol, day, max_age=timedelta(days=3))
        if point is None:
            return None
        token_prices_store([(token.pk, point.day, point.price_usd, None, "bundled")])
        return TokenPrice.objects.filter(token=token, timestamp=_day_start(point.day)).first()
    batch = get_source("llama_coins").historical_prices(_day_start(day) + timedelta(hours=12), [token.price_id])
    quote = batch.quotes.get(token.price_id)
    if quote is None:
        return None
    token_prices_store([(token.pk, day, quote.price_usd, quote.timestamp, "llama_coins")])
    return TokenPrice.objects.filter(token=token, timestamp=_day_start(day)).first()
