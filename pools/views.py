"""Pool explorer and pool pages: server-rendered, no JavaScript."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import render
from django.utils.safestring import mark_safe

from config.charts import Series, line_chart
from pools.calculators.links import calculator_links
from pools.filters import FIRST_CLICK, ORDERING_LABELS, apy_outlier_pct, apy_sort_min_tvl
from pools.models import Pool
from pools.paginator import CachedCountPaginator
from pools.risk import GRADE_MEANINGS
from pools.selectors import (
    chain_choices,
    data_freshness,
    pool_cached,
    pool_get,
    pool_history,
    pool_kind_counts,
    pool_reward_share,
    pool_risk_breakdown,
    pool_search,
    pool_tokens,
    protocol_choices,
)
from pools.services.history_requests import pool_history_request
from pools.templatetags.pools_tags import with_query

PAGE_SIZE = 50
HIGH_REWARD_SHARE = Decimal("0.5")
#: Sortable columns of the explorer table: (ordering key, header).
COLUMNS = [("tvl", "TVL"), ("apy", "APY"), ("apy_base", "Base"), ("apy_reward", "Reward"),
           ("apy_mean_30d", "30-day mean"), ("risk", "Risk")]


def _headers(sort_query, ordering: str) -> list[dict]:
    """Column headers: each links to its sort, a second click flips the direction."""
    headers = []
    for key, label in COLUMNS:
        if ordering == f"-{key}":
            target, aria = key, "descending"
        elif ordering == key:
            target, aria = f"-{key}", "ascending"
        else:
            target, aria = FIRST_CLICK[key], ""
        headers.append({"key": key, "label": label, "aria_sort": aria, "href": with_query(sort_query, ordering=target),
                        "title": f"Sort: {ORDERING_LABELS[target]}"})
    return headers


def _kind_choices(form, counts: dict[str, int]) -> None:
    """Offer only the kinds that have pools (with their counts), and the one asked for."""
    field = form.fields["kind"]
    chosen = form.data.get("kind") if form.is_bound else None
    field.widget.choices = [("", field.empty_label or "All kinds")] + [
        (value, f"{label} ({counts.get(value, 0):,})") for value, label in Pool.Kind.choices
        if counts.get(value) or value == chosen]


def explorer(request):
    filterset = pool_search(request.GET or None)
    kind_counts = pool_kind_counts()
    _kind_choices(filterset.form, kind_counts)
    fields = filterset.form.fields
    fields["chain"].widget.choices = [("", "All chains"), *chain_choices()]  # cached: no query to draw the menus
    fields["protocol"].widget.choices = [("", "All protocols"), *protocol_choices()]
    page = CachedCountPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("ordering", None)
    ordering = filterset.ordering_key
    valid = filterset.is_bound and filterset.form.is_valid()
    kind = filterset.form.cleaned_data.get("kind") if valid else None
    show_all_query = query.copy()
    show_all_query["show_all"] = "true"
    return render(request, "pools/explorer.html", {
        "filter": filterset,
        "page": page,
        "pools": page.object_list,
        "query": query.urlencode(),
        "headers": _headers(sort_query.urlencode(), ordering),
        "ordering": ordering,
        "ordering_label": ORDERING_LABELS[ordering],
        "hides_small": filterset.hides_small_and_outliers,
        "show_all_query": show_all_query.urlencode(),
        "apy_min_tvl": apy_sort_min_tvl(),
        "apy_outlier_pct": apy_outlier_pct(),
        "empty_kind": Pool.Kind(kind).label if kind and not kind_counts.get(kind) else "",
        "freshness": data_freshness(),
    })


def education_links(pool: Pool, reward_share: Decimal | None) -> list[dict[str, str]]:
    """Learn articles that explain what matters for this pool (plain paths)."""
    links = []
    if pool.il_risk:
        links.append({"href": "/learn/articles/impermanent-loss/", "title": "Impermanent loss",
                      "why": "This pool holds assets whose prices can drift apart."})
    if pool.kind == Pool.Kind.CONCENTRATED:
        links.append({"href": "/learn/articles/concentrated-liquidity/", "title": "Concentrated liquidity",
                      "why": "Liquidity here sits in a price range; out of range it earns nothing."})
    if pool.kind == Pool.Kind.LIQUID_STAKING:
        links.append({"href": "/learn/articles/steth-vs-wsteth/", "title": "stETH and wstETH",
                      "why": "Liquid staking tokens rebase or rise in value; the two behave differently in DeFi."})
    if reward_share is not None and reward_share >= HIGH_REWARD_SHARE:
        links.append({"href": "/learn/articles/apr-vs-apy-and-real-yield/", "title": "APR vs APY and real yield",
                      "why": "Half or more of this APY is paid in reward tokens, whose value can fall."})
    return links


def _history_charts(pool: Pool) -> dict:
    """The pool's APY and TVL charts and what the page says about its history."""
    history = list(pool_history(pool_id=pool.pk).values_list("day", "tvl_usd", "apy", "apy_base", "apy_reward"))
    apy_chart = line_chart(
        [
            Series("Total APY", [(d, apy) for d, _, apy, _, _ in history], color="#16202a"),
            Series("Base (fees)", [(d, base) for d, _, _, base, _ in history], kind="area"),
            Series("Rewards", [(d, reward) for d, _, _, _, reward in history], dashed=True),
        ],
        title=f"APY history of {pool.label}, split into base and reward APY", y_kind="percent", y_zero=True,
    )
    tvl_chart = line_chart([Series("TVL", [(d, tvl) for d, tvl, _, _, _ in history], kind="area")],
                           title=f"TVL history of {pool.label}", y_kind="usd", y_zero=True)
    last_day = history[-1][0] if history else None
    mean_days = (sum(1 for d, _, apy, _, _ in history if apy is not None and (last_day - d).days < 30)
                 if last_day is not None else 0)
    return {"apy_chart": str(apy_chart), "tvl_chart": str(tvl_chart), "history_days": len(history),
            "history_first": history[0][0] if history else None, "mean_days": mean_days}


def detail(request, pool_id: int):
    pool = pool_get(pool_id=pool_id)
    history_requested = pool_history_request(pool=pool)
    # A year of daily points drawn as SVG costs more than the rest of the page: cached until
    # the pool data changes (a refresh or a backfill moves the data version).
    charts = pool_cached(pool.pk, "charts", lambda: _history_charts(pool))
    underlying, rewards = pool_tokens(pool=pool)
    share = pool_reward_share(pool)
    return render(request, "pools/detail.html", {
        "pool": pool,
        "apy_chart": mark_safe(charts["apy_chart"]),  # noqa: S308 - config.charts output, escaped when drawn
        "tvl_chart": mark_safe(charts["tvl_chart"]),  # noqa: S308
        "history_days": charts["history_days"],
        "history_first": charts["history_first"],
        "mean_days": charts.get("mean_days"),  # .get: charts cached before this key existed
        "history_requested": history_requested,
        "underlying": underlying,
        "rewards": rewards,
        "reward_share": share,
        "risk_factors": pool_risk_breakdown(pool),
        "grades": GRADE_MEANINGS,
        "audits": list(pool.protocol.audits.all()),
        "learn": education_links(pool, share),
        "freshness": data_freshness(),
        "add_position_url": f"/portfolios/positions/new/?pool={pool.pk}",
        "calculators": calculator_links(kind=pool.kind, apy=pool.apy),
    })
