"""Every non-trivial read of the pools app (views, API, admin and the portfolios
app go through these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pools.filters import PoolFilter
from pools.models import Chain, Pool, PoolSnapshot, PoolUnderlyingToken, Protocol, RefreshRun, Token, TokenPrice
from pools.naming import chain_slug, normalize_address
from pools.risk import FACTOR_MAX_POINTS, reward_share
from pools.versioning import data_version

# Columns the lists (explorer, API list) read; the rest of a pool row stays on disk.
LIST_FIELDS = [
    "id", "external_id", "symbol", "meta", "address", "kind", "stablecoin", "il_risk", "exposure", "derived_fields",
    "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "volume_usd_1d", "il_7d", "risk_score",
    "risk_grade", "is_active", "last_seen_at", "chain__id", "chain__slug", "chain__name", "protocol__id",
    "protocol__slug", "protocol__name",
]  # fmt: skip

def pool_list_base(*, include_inactive: bool = False) -> QuerySet[Pool]:
    qs = Pool.objects.select_related("chain", "protocol").only(*LIST_FIELDS)
    return qs if include_inactive else qs.filter(is_active=True)


def pool_search(data, *, include_inactive: bool = False):
    """The explorer/API list: a bound ``PoolFilter`` (``.qs``, ``.form``, ``.is_valid()``)."""
    return PoolFilter(data, queryset=pool_list_base(include_inactive=include_inactive))


def pool_get_queryset() -> QuerySet[Pool]:
    """Every pool (active or not) with its chain, protocol and risk factors."""
    return Pool.objects.select_related("chain", "protocol", "risk")


def pool_get(*, pool_id: int) -> Pool:
    """A pool (active or not) with chain, protocol and risk factors, or 404."""
    return get_object_or_404(Pool.objects.select_related("chain", "protocol", "risk"), pk=pool_id)


def pool_get_by_external_id(*, external_id: str) -> Pool | None:
    return Pool.objects.select_related("chain", "protocol").filter(external_id=external_id).first()


def pool_tokens(*, pool: Pool) -> tuple[list[Token], list[Token]]:
    """(underlying, reward) tokens in the source's order."""
    underlying = list(Token.objects.filter(underlying_links__pool=pool).select_related("chain")
                      .order_by("underlying_links__position"))
    rewards = list(Token.objects.filter(reward_links__pool=pool).select_related("chain")
                   .order_by("reward_links__position"))
    return underlying, rewards


def pool_history(*, pool_id: int, since: date | None = None) -> QuerySet[PoolSnapshot]:
    qs = PoolSnapshot.objects.filter(pool_id=pool_id).order_by("day")
    return qs.filter(day__gte=since) if since else qs


def pool_reward_share(pool: Pool) -> Decimal | None:
    """Share (0..1) of the pool's APY paid in reward tokens (None if unknown)."""
    return reward_share(pool.apy_base, pool.apy_reward)


def pool_risk_breakdown(pool: Pool) -> list[dict]:
    """Stored risk factors, each with its share of the maximum (for the breakdown table)."""
    rows = []
    for factor in pool.risk_factors or []:
        max_points = factor.get("max_points") or FACTOR_MAX_POINTS.get(factor.get("key", ""), 0)
        rows.append({**factor, "max_points": max_points,
                     "percent": round(100 * factor.get("points", 0) / max_points) if max_points else 0,
                     # <meter> bands: green up to a third of the maximum, red from two thirds
                     "low": round(max_points / 3, 1), "high": round(2 * max_points / 3, 1)})
    return rows


def pool_kind_counts() -> dict[str, int]:
    """Active pools per kind (cached until the next refresh changes the data)."""
    return _versioned("kind-counts", lambda: dict(
        Pool.objects.filter(is_active=True).values_list("kind").annotate(n=Count("id")).values_list("kind", "n")))


def _versioned(name: str, compute):
    """``compute()``, cached until the pool data changes (``pools.versioning``)."""
    key = f"pools:{name}:{data_version()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, 24 * 3600)
    return value


def pool_cached(pool_id: int, name: str, compute):
    """Something derived from one pool's stored data, cached until that data changes."""
    return _versioned(f"pool-{pool_id}-{name}", compute)


def chain_choices() -> list[tuple[str, str]]:
    """(slug, name) of every chain, by name: the explorer's chain menu (cached)."""
    return _versioned("chain-choices", lambda: list(Chain.objects.order_by("name").values_list("slug", "name")))


def protocol_choices() -> list[tuple[str, str]]:
    """(slug, name) of every protocol, by name: the explorer's protocol menu (cached)."""
    return _versioned("protocol-choices",
                      lambda: list(Protocol.objects.order_by("name").values_list("slug", "name")))


def chain_list() -> QuerySet[Chain]:
    return Chain.objects.order_by("name")


def protocol_list() -> QuerySet[Protocol]:
    return Protocol.objects.order_by("name")


# ----------------------------------------------------------------------------- tokens and prices
def tokens_in_use() -> QuerySet[Token]:
    """Tokens whose prices the refresh keeps current.

    = tokens flagged ``is_tracked`` (the portfolios app flags the tokens it holds
    through ``services.tokens.token_set_tracked``) plus the underlying tokens of active
    pools with at least ``POOL_PRICE_MIN_TVL_USD`` ($10M) TVL, among those with a
    price id or a bundled price symbol. The TVL floor keeps the live refresh to a
    few dozen coins-API calls; raise or lower it with the setting.
    """
    floor = Decimal(str(getattr(settings, "POOL_PRICE_MIN_TVL_USD", 10_000_000)))
    big_pool = PoolUnderlyingToken.objects.filter(token=OuterRef("pk"), pool__is_active=True,
                                                  pool__tvl_usd__gte=floor)
    return (Token.objects.filter(Q(is_tracked=True) | Q(Exists(big_pool)))
            .exclude(price_id="", price_symbol="").select_related("chain").order_by("id"))


def token_get(*, chain: str, address: str) -> Token | None:
    """A token by chain (slug or name) and address (EVM addresses in any case)."""
    return (Token.objects.select_related("chain")
            .filter(chain__slug=chain_slug(chain), address=normalize_address(address)).first())


def token_search(*, symbol: str, chain: str | None = None) -> QuerySet[Token]:
    """Tokens with exactly this symbol (case-insensitive), most-used first."""
    qs = Token.objects.select_related("chain").annotate(symbol_lower=Lower("symbol")).filter(
        symbol_lower=symbol.strip().lower())
    if chain:
        qs = qs.filter(chain__slug=chain_slug(chain))
    return qs.annotate(pool_count=Count("underlying_links")).order_by("-pool_count", "id")


def token_price_row_at(*, token: Token | int, when: datetime | date,
                       max_age: timedelta | None = timedelta(days=3)) -> TokenPrice | None:
    """The stored daily price for ``when``'s UTC day, else the nearest earlier day
    (``None`` when that is older than ``max_age``; ``max_age=None``: any age).
    Does not fetch: see ``services.prices.token_price_fetch`` for history on demand."""
    if isinstance(when, datetime):
        when = when.astimezone(UTC) if timezone.is_aware(when) else when.replace(tzinfo=UTC)
        day = when.date()
    else:
        day = when
    end = datetime(day.year, day.month, day.day, tzinfo=UTC)
    qs = TokenPrice.objects.filter(token=token, timestamp__lte=end)
    if max_age is not None:
        qs = qs.filter(timestamp__gte=end - max_age)
    return qs.order_by("-timestamp").first()


def token_prices(*, token_id: int, since: date | None = None) -> QuerySet[TokenPrice]:
    qs = TokenPrice.objects.filter(token_id=token_id).order_by("timestamp")
    if since:
        qs = qs.filter(timestamp__gte=datetime(since.year, since.month, since.day, tzinfo=UTC))
    return qs


# ----------------------------------------------------------------------------- freshness
@dataclass(frozen=True)
class Freshness:
    as_of: datetime | None  # the data's own time (bundled: its newest record)
    refreshed_at: datetime | None  # when the last successful refresh finished
    source: str
    is_stale: bool
    stale_after: timedelta
    last_failure: RefreshRun | None = None

    @property
    def is_bundled(self) -> bool:
        return self.source == "bundled"

    @property
    def stale_after_hours(self) -> int:
        return round(self.stale_after.total_seconds() / 3600)


def stale_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "POOL_STALE_AFTER_HOURS", 3)))


def data_freshness(*, now: datetime | None = None) -> Freshness:
    """How fresh the pool data is, from the last succeeded pools RefreshRun.

    Stale when that run is older than ``POOL_STALE_AFTER_HOURS`` (3) or when the
    data it loaded was already older than that (a bundled snapshot always is).
    """
    now = now or timezone.now()
    limit = stale_after()

    def last_run():
        run = (RefreshRun.objects.filter(kind=RefreshRun.Kind.POOLS, status=RefreshRun.Status.SUCCEEDED)
               .order_by("-finished_at").values_list("finished_at", "data_as_of", "source").first())
        return run or ()

    run = _versioned("last-refresh", last_run)  # a finished refresh moves the version
    if not run:
        return Freshness(None, None, "", True, limit)
    finished_at, data_as_of, source = run
    as_of = data_as_of or finished_at
    stale = (now - finished_at) > limit or (now - as_of) > limit
    return Freshness(as_of, finished_at, source, stale, limit)


def refresh_runs(*, kind: str | None = None) -> QuerySet[RefreshRun]:
    qs = RefreshRun.objects.order_by("-started_at")
    return qs.filter(kind=kind) if kind else qs
