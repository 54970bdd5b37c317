"""Opportunities: for each token a user holds (in the wallet or in an open position), the
pools that take it, ranked by risk-adjusted yield (``alerts.ranking``).

Reads only, in a constant number of queries whatever the number of tokens: holdings
(one aggregate over the user's legs), what is in open positions (one), the tokens and
the positions' pools (two), the candidates (one: window functions rank them within
each held token, and within each asset and chain), and at most one FX query. Pools
under ``OPPORTUNITIES_MIN_TVL_USD``, APY outliers (flagged by the source or above
``POOL_APY_OUTLIER_PCT``) and pools without a 30-day mean or a risk score are left
out unless ``show_all``.

Value held in a position is estimated from what went in and came out of it
(deposits minus withdrawals, at today's prices): the AMM model's current
amounts are the portfolio pages' job and would cost far more here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber, Upper
from django.utils import timezone

from alerts.ranking import Risk, income_difference, pool_risks, risk_adjusted_yield
from pools.fx import FxRateUnavailable
from pools.models import Pool, PoolUnderlyingToken, Token
from pools.naming import pool_display_name
from pools.selectors_fx import fx_convert
from portfolios.models import Leg

D = Decimal
ZERO = D(0)
CENT = D("0.01")
#: Other-chain lines shown per token (after the same-chain ones).
BRIDGED_PER_TOKEN = 1


def min_tvl() -> int:
    return int(getattr(settings, "OPPORTUNITIES_MIN_TVL_USD", 1_000_000))


def per_token() -> int:
    return int(getattr(settings, "OPPORTUNITIES_PER_TOKEN", 3))


def outlier_pct() -> int:
    return int(getattr(settings, "POOL_APY_OUTLIER_PCT", 1000))


@dataclass
class Holding:
    token_id: int
    symbol: str
    chain_id: int
    chain: str
    asset_key: str  # price symbol, else upper-case symbol: "ETH" for WETH on every chain
    quantity: Decimal = ZERO
    value_usd: Decimal | None = None
    current_pool_id: int | None = None  # the position's pool, None = in the wallet
    current_label: str = "in your wallet (earning nothing)"
    current_mean_apy: Decimal = ZERO


@dataclass
class Line:
    pool_id: int
    name: str
    chain: str
    needs_bridge: bool
    apy_mean_30d: Decimal
    apy: Decimal | None
    risk_score: int
    risk_grade: str
    tvl_usd: Decimal
    adjusted_yield: Decimal
    income_difference: Decimal | None  # yearly, in the report's currency
    risks: list[Risk]


@dataclass
class TokenOpportunities:
    holding: Holding
    lines: list[Line] = field(default_factory=list)


@dataclass
class Report:
    currency: str
    items: list[TokenOpportunities]
    min_tvl_usd: int
    outlier_pct: int
    show_all: bool
    fx_note: str = ""


CANDIDATE_FIELDS = ("pool_id", "token_id", "asset_key", "adjusted", "token_rank", "pool__symbol", "pool__meta",
                    "pool__address",
                    "pool__protocol__name", "pool__chain__name", "pool__chain_id", "pool__apy", "pool__apy_reward",
                    "pool__apy_mean_30d", "pool__risk_score", "pool__risk_grade", "pool__tvl_usd", "pool__il_risk",
                    "pool__kind", "pool__protocol__audit_count")  # fmt: skip


def _asset_key():
    return Coalesce(NullIf(Upper("token__price_symbol"), Value("")), Upper("token__symbol"))


def _candidates(*, token_ids: set[int], keys: set[str], show_all: bool, limit: int) -> list[dict]:
    """One query: pools taking the held tokens or the same assets on any chain, with two
    ranks by risk-adjusted yield — within each held token (same chain: the best
    ``limit``) and within each (asset, chain) (other chains: the best one per chain)."""
    qs = PoolUnderlyingToken.objects.annotate(asset_key=_asset_key()).filter(
        Q(token_id__in=token_ids) | Q(asset_key__in=keys),
        pool__is_active=True, pool__apy_mean_30d__isnull=False, pool__risk_score__isnull=False)
    if not show_all:
        qs = qs.filter(pool__tvl_usd__gte=min_tvl(), pool__apy_mean_30d__lte=outlier_pct()).exclude(
            pool__outlier=True)
    adjusted = ExpressionWrapper(F("pool__apy_mean_30d") * (100 - F("pool__risk_score")) / 100,
                                 output_field=DecimalField(max_digits=30, decimal_places=10))
    order = [F("adjusted").desc(), F("pool_id").asc()]
    ranked = qs.annotate(adjusted=adjusted).annotate(
        token_rank=Window(RowNumber(), partition_by=[F("token_id")], order_by=order),
        chain_rank=Window(RowNumber(), partition_by=[F("asset_key"), F("pool__chain_id")], order_by=order))
    return list(ranked.filter(Q(token_rank__lte=limit, token_id__in=token_ids) | Q(chain_rank__lte=1)).order_by()
                .values(*CANDIDATE_FIELDS))


def holdings_for_user(*, user: Any) -> list[Holding]:
    """The user's tokens: net wallet balances (all legs summed: buys, deposits out,
    withdrawals back) and, per open position, what is in it (deposits − withdrawals)."""
    wallet = (Leg.objects.counted().filter(transaction__portfolio__owner=user, token__isnull=False)
              .values("token_id").annotate(qty=Sum("quantity")).filter(qty__gt=0).values_list("token_id", "qty"))
    in_positions = (Leg.objects.filter(transaction__portfolio__owner=user, token__isnull=False,
                                       transaction__position__isnull=False,
                                       transaction__position__closed_at__isnull=True)
                    .values("token_id", "transaction__position__pool_id")
                    .annotate(qty=Sum("quantity")).filter(qty__lt=0)
                    .values_list("token_id", "transaction__position__pool_id", "qty"))
    rows: list[tuple[int, int | None, Decimal]] = [(t, None, q) for t, q in wallet]
    rows += [(t, pool_id, -q) for t, pool_id, q in in_positions]
    if not rows:
        return []
    tokens = {t["id"]: t for t in Token.objects.filter(pk__in={r[0] for r in rows}).annotate(
        asset_key=Coalesce(NullIf(Upper("price_symbol"), Value("")), Upper("symbol"))).values(
        "id", "symbol", "chain_id", "chain__name", "asset_key", "last_price_usd")}
    pools = {p["id"]: p for p in Pool.objects.filter(pk__in={r[1] for r in rows if r[1]}).values(
        "id", "symbol", "meta", "address", "protocol__name", "chain__name", "apy_mean_30d")}
    out = []
    for token_id, pool_id, qty in rows:
        t = tokens[token_id]
        price = t["last_price_usd"]
        h = Holding(token_id=token_id, symbol=t["symbol"], chain_id=t["chain_id"], chain=t["chain__name"],
                    asset_key=t["asset_key"], quantity=qty, value_usd=None if price is None else qty * price)
        if pool_id is not None:
            p = pools[pool_id]
            h.current_pool_id = pool_id
            h.current_label = "in " + pool_display_name(p["symbol"], p["meta"], p["protocol__name"],
                                                        p["chain__name"], p["address"])
            h.current_mean_apy = p["apy_mean_30d"] or ZERO
        out.append(h)
    out.sort(key=lambda h: (-(h.value_usd or ZERO), h.symbol, h.current_pool_id or 0))
    return out


def _fx(currency: str):
    """A USD -> currency converter (identity for USD), a note naming the rate used, and the
    currency the amounts end up in (USD when no rate is known)."""
    if currency == "USD":
        return (lambda amount: amount), "", "USD"
    day = timezone.now().astimezone(UTC).date()
    try:
        rate = fx_convert(D(1), "USD", currency, day)
    except FxRateUnavailable:
        return (lambda amount: amount), f"No recent ECB rate for {currency}: amounts are in USD.", "USD"
    return (lambda amount: amount * rate.amount), f"Converted from USD at the ECB rate of {rate.target.day}.", currency


def opportunities_for_user(*, user: Any, show_all: bool = False) -> Report:
    currency = getattr(user, "fiat_currency", "USD") or "USD"
    holdings = holdings_for_user(user=user)
    report = Report(currency=currency, items=[], min_tvl_usd=min_tvl(), outlier_pct=outlier_pct(), show_all=show_all)
    if not holdings:
        return report
    convert, report.fx_note, report.currency = _fx(currency)
    limit = per_token()
    token_ids = {h.token_id for h in holdings}
    keys = {h.asset_key for h in holdings}
    by_token: dict[int, list[dict]] = defaultdict(list)
    by_key: dict[str, list[dict]] = defaultdict(list)
    for row in _candidates(token_ids=token_ids, keys=keys, show_all=show_all, limit=limit + 1):
        if row["token_id"] in token_ids and row["token_rank"] <= limit + 1:  # +1: the holding's own pool
            by_token[row["token_id"]].append(row)
        by_key[row["asset_key"]].append(row)
    for rows_ in (*by_token.values(), *by_key.values()):
        rows_.sort(key=lambda r: (-r["adjusted"], r["pool_id"]))
    for h in holdings:
        rows = [r for r in by_token[h.token_id] if r["pool_id"] != h.current_pool_id][:limit]
        seen = {r["pool_id"] for r in rows}
        bridged = [r for r in by_key[h.asset_key] if r["pool__chain_id"] != h.chain_id and r["pool_id"] not in seen]
        lines = [_line(h, r, convert, bridge=False) for r in rows]
        lines += [_line(h, r, convert, bridge=True) for r in bridged[:BRIDGED_PER_TOKEN]]
        lines.sort(key=lambda line: (line.needs_bridge, -line.adjusted_yield, line.pool_id))
        report.items.append(TokenOpportunities(holding=h, lines=lines))
    return report


def _line(h: Holding, r: dict, convert, *, bridge: bool) -> Line:
    mean = r["pool__apy_mean_30d"]
    diff = None
    if h.value_usd is not None:
        diff = convert(income_difference(h.value_usd, mean, h.current_mean_apy)).quantize(CENT)
    return Line(
        pool_id=r["pool_id"],
        name=pool_display_name(r["pool__symbol"], r["pool__meta"], r["pool__protocol__name"],
                               r["pool__chain__name"], r["pool__address"]),
        chain=r["pool__chain__name"], needs_bridge=bridge, apy_mean_30d=mean, apy=r["pool__apy"],
        risk_score=r["pool__risk_score"], risk_grade=r["pool__risk_grade"], tvl_usd=r["pool__tvl_usd"],
        adjusted_yield=risk_adjusted_yield(mean, r["pool__risk_score"]), income_difference=diff,
        risks=pool_risks(il_risk=r["pool__il_risk"], apy=r["pool__apy"], apy_reward=r["pool__apy_reward"],
                         audit_count=r["pool__protocol__audit_count"], protocol=r["pool__protocol__name"],
                         concentrated=r["pool__kind"] == Pool.Kind.CONCENTRATED,
                         bridge_to=r["pool__chain__name"] if bridge else ""),
    )  # fmt: skip
