"""Pool explorer and pool pages: server-rendered, no JavaScript."""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.shortcuts import render

from config.charts import Series, line_chart
from pools.models import Pool
from pools.selectors import (
    data_freshness,
    pool_get,
    pool_history,
    pool_reward_share,
    pool_risk_breakdown,
    pool_search,
    pool_tokens,
)
from pools.services.history_requests import pool_history_request

PAGE_SIZE = 50
HIGH_REWARD_SHARE = Decimal("0.5")


def explorer(request):
    filterset = pool_search(request.GET or None)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("ordering", None)
    return render(request, "pools/explorer.html", {
        "filter": filterset,
        "page": page,
        "pools": page.object_list,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "ordering": (filterset.form.cleaned_data.get("ordering") if filterset.is_bound and filterset.form.is_valid()
                     else None) or "tvl",
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


def detail(request, pool_id: int):
    pool = pool_get(pool_id=pool_id)
    history_requested = pool_history_request(pool=pool)
    history = list(pool_history(pool_id=pool.pk).values_list("day", "tvl_usd", "apy", "apy_base", "apy_reward"))
    apy_chart = line_chart(
        [
            Series("Total APY", [(d, apy) for d, _, apy, _, _ in history], color="#16202a"),
            Series("Base (fees)", [(d, base) for d, _, _, base, _ in history], kind="area"),
            Series("Rewards", [(d, reward) for d, _, _, _, reward in history], dashed=True),
        ],
        title=f"APY history of {pool.symbol}, split into base and reward APY", y_kind="percent", y_zero=True,
    )
    tvl_chart = line_chart([Series("TVL", [(d, tvl) for d, tvl, _, _, _ in history], kind="area")],
                           title=f"TVL history of {pool.symbol}", y_kind="usd", y_zero=True)
    underlying, rewards = pool_tokens(pool=pool)
    share = pool_reward_share(pool)
    return render(request, "pools/detail.html", {
        "pool": pool,
        "apy_chart": apy_chart,
        "tvl_chart": tvl_chart,
        "history_days": len(history),
        "history_first": history[0][0] if history else None,
        "history_requested": history_requested,
        "underlying": underlying,
        "rewards": rewards,
        "reward_share": share,
        "risk_factors": pool_risk_breakdown(pool),
        "learn": education_links(pool, share),
        "freshness": data_freshness(),
        "add_position_url": f"/portfolios/positions/new/?pool={pool.pk}",
    })
