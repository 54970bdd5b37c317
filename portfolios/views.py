"""Portfolio pages: dashboard, portfolios, positions, transactions, CSV import/export.

Thin views (STYLE.md §5): ``@login_required``, an access-checked selector
(another user's id is a 404), a form, a service, render or redirect. Every
figure comes from ``portfolios.selectors`` (which call the pure
``portfolios.analytics``); this module only arranges them into charts and
sentences.

CSV import keeps the uploaded file on the server between the preview and the
commit: the preview stores the decoded text in the cache under a random token,
bound to the user and the portfolio, and the commit form sends only that
token back (see docs/portfolios-web.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction as db_transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from config.charts import Series, bar_chart, line_chart
from pools.selectors import chain_list, pool_get, pool_tokens
from portfolios import forms as pf
from portfolios import imports, services
from portfolios.models import Position, Transaction
from portfolios.selectors import (
    portfolio_get_for_user,
    portfolio_list_for_user,
    portfolio_summary,
    portfolios_value_history,
    position_amount_overrides,
    position_get_for_user,
    position_report,
    position_tokens,
    positions_for_portfolio,
    stale_tokens,
    transaction_get_for_user,
    transactions_for_portfolio,
    transactions_for_user,
    user_summary,
)
from portfolios.services import PortfolioError
from portfolios.templatetags.portfolio_format import pct, qty, ratio_pct, usd

SERVICE_ERRORS = (ValidationError, PortfolioError)
IMPORT_CACHE_SECONDS = 60 * 60
IMPORT_CACHE_PREFIX = "portfolios:import:"
IMPORT_PREVIEW_ROWS = 200
#: A held token whose latest price is older than this is flagged on the dashboard.
PRICE_STALE_AFTER = timedelta(hours=24)
TRANSACTIONS_PAGE_SIZE = 50
KIND_LABELS = dict(Position.Kind.choices)
KIND_SHORT = {**KIND_LABELS, "concentrated_lp": "Concentrated LP"}  # bar chart labels stay short
LEARN_IL = "/learn/articles/impermanent-loss/"
LEARN_CONCENTRATED = "/learn/articles/concentrated-liquidity/"


# ----------------------------------------------------------------------------- presentation helpers


def _history_points(portfolios, summary) -> list[tuple]:
    """(day, value, deposited) of the daily snapshots of one or several portfolios (summed
    by day, one query), ending with today's live figures once there is any history to extend."""
    points = [(p.day, p.value, p.deposited) for p in portfolios_value_history(portfolios=portfolios)]
    today = summary.as_of.astimezone(UTC).date()  # snapshot days are UTC days
    if points and points[-1][0] < today:
        points.append((today, summary.value, summary.deposited))
    return points


def _allocation_chart(slices, title: str):
    return bar_chart([(s.key or "Other", s.value) for s in slices], title=title)


def _range_badge(a) -> dict | None:
    if a.kind != Position.Kind.CONCENTRATED_LP or a.range_status is None:
        return None
    if a.range_status == "in_range":
        return {"css": "badge-ok", "text": "in range"}
    return {"css": "badge-danger", "text": "below range" if a.range_status == "below" else "above range"}


@dataclass
class PositionRow:
    a: object  # PositionAnalytics
    kind_label: str
    badge: dict | None


def _dashboard_context(*, summary, portfolios, current, history) -> dict:
    rows = [PositionRow(a, KIND_LABELS.get(a.kind, a.kind), _range_badge(a)) for a in summary.positions]
    open_rows = [r for r in rows if r.a.is_open]
    closed_rows = [r for r in rows if not r.a.is_open]
    warnings = list(dict.fromkeys(summary.warnings))
    for a in summary.positions:
        if a.is_open and a.range_status in ("below", "above"):
            warnings.append(f"{a.name} is out of range (price {a.range_status} your range): it earns no fees "
                            "until the price comes back.")
    # A stablecoin valued at its peg has its own warning (the summary's "assumed peg").
    pegged = set(summary.assumed_peg)
    stale = [t for t in stale_tokens(portfolios=portfolios if current is None else [current],
                                     older_than=PRICE_STALE_AFTER)
             if (t.symbol or t.address[:10]).strip().upper() not in pegged]
    if stale:
        dated = [t.last_price_at for t in stale if t.last_price_at]
        since = f" (the oldest from {min(dated):%Y-%m-%d})" if dated else ""
        names = ", ".join(t.symbol or t.address[:10] for t in stale)
        warnings.append(f"Stale prices: {names} {'has' if len(stale) == 1 else 'have'} no price from the last "
                        f"{int(PRICE_STALE_AFTER.total_seconds() // 3600)} hours{since}. "
                        "Values use the latest price we have.")
    value_chart = line_chart(
        [Series("Value", [(d, v) for d, v, _ in history], kind="area"),
         Series("Deposited", [(d, dep) for d, _, dep in history], dashed=True)],
        title="Portfolio value over time", y_kind="usd")
    return {
        "summary": summary,
        "portfolios": portfolios,
        "current": current,
        "open_rows": open_rows,
        "closed_rows": closed_rows,
        "warnings": warnings,
        "value_chart": value_chart,
        "history": history,
        "history_days": len(history),
        "charts": [
            ("By chain", _allocation_chart(summary.by_chain, "Allocation by chain")),
            ("By protocol", _allocation_chart(summary.by_protocol, "Allocation by protocol")),
            ("By asset", _allocation_chart(summary.by_asset, "Allocation by asset")),
            ("By kind", _allocation_chart(
                [type(s)(KIND_SHORT.get(s.key, s.key), s.value, s.share) for s in summary.by_kind],
                "Allocation by kind")),
        ],
        "pnl_pct": (summary.pnl / summary.deposited) if summary.deposited else None,
    }


@dataclass
class Deposited:
    """What went into a position over all its deposits, per asset."""

    quantity: dict[str, Decimal]
    price: dict[str, Decimal]  # average price paid (value at deposit / quantity)


def _deposited(transactions) -> Deposited:
    quantity: dict[str, Decimal] = {}
    value: dict[str, Decimal] = {}
    valued_qty: dict[str, Decimal] = {}
    for txn in transactions:
        if txn.kind not in ("lp_deposit", "stake"):
            continue
        for leg in txn.legs.all():
            if leg.quantity >= 0 or leg.is_fee or leg.asset.startswith("LP#"):
                continue
            quantity[leg.asset] = quantity.get(leg.asset, Decimal(0)) - leg.quantity
            if leg.fiat_value is not None:
                value[leg.asset] = value.get(leg.asset, Decimal(0)) + leg.fiat_value
                valued_qty[leg.asset] = valued_qty.get(leg.asset, Decimal(0)) - leg.quantity
    return Deposited(quantity, {a: value[a] / q for a, q in valued_qty.items() if q})


def _and_join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _moved(change: Decimal) -> str:
    """``Decimal("0.35")`` → ``rose 35 %``."""
    word = "rose" if change > 0 else "fell"
    return f"{word} {pct(abs(change) * 100, 1 if abs(change) < Decimal('0.1') else 0)}"


def explain_impermanent_loss(a, deposited: Deposited) -> list[str]:
    """What impermanent loss did to this position, in sentences with the user's own numbers.

    The quantities quoted are those the position took (``a.deposited_amounts``): for a
    concentrated range, what fitted it at the deposit price, the same amounts the HODL
    value and the impermanent loss are worked out on; the rest is said apart."""
    took = a.deposited_amounts
    tokens = [t for t in a.tokens if took.get(t.asset) or t.deposited]
    if a.model == "hold" or len(tokens) < 2:
        names = _and_join([t.asset for t in tokens]) or "its token"
        return [f"This position holds {names} itself, not a pool of two tokens that rebalance, so it has no "
                "impermanent loss: its value follows the token's price, plus what it earns."]
    if a.il is None or a.value_hodl is None:
        return ["We cannot work out impermanent loss yet: a current price is missing for one of the tokens "
                "(see the warnings above)."]
    entry = deposited.price
    sentences = []
    # 1. How the prices moved, relative to each other.
    if len(tokens) == 2:
        first, second = tokens
        p0, p1 = entry.get(first.asset), entry.get(second.asset)
        if p0 and p1 and first.price_now and second.price_now:
            change = (first.price_now / second.price_now) / (p0 / p1) - 1
            if abs(change) < Decimal("0.005"):
                sentences.append(f"{first.asset} and {second.asset} kept the same price ratio since you deposited "
                                 "(within 0.5 %), so impermanent loss is close to nothing.")
            else:
                sentences.append(f"{first.asset} {_moved(change)} against {second.asset} since you deposited.")
    else:
        moves = [f"{t.asset} {_moved(t.price_now / entry[t.asset] - 1)}" for t in tokens
                 if entry.get(t.asset) and t.price_now and t.price_now != entry[t.asset]]
        if moves:
            sentences.append(f"Since you deposited, in US dollars, {_and_join(moves)}.")
    # 2. HODL vs pool, and the loss. IL = model value - HODL value (fees excluded), realised + unrealised;
    #    so "pool share" = HODL + IL, which is the model value when nothing was withdrawn.
    listed = _and_join([f"{qty(took.get(t.asset, t.deposited))} {t.asset}" for t in tokens])
    held = f"the {listed} your range took" if a.unused else f"your original {listed}"
    pool_value = a.value_hodl + a.il
    loss = -a.il
    tail = " (what you withdrew counted at the prices then)" if a.withdrawn else ""
    if loss > 0:
        sentences.append(f"Holding {held} would be worth {usd(a.value_hodl)}; your pool share is worth "
                         f"{usd(pool_value)}{tail}, so impermanent loss cost you {usd(loss)} "
                         f"({ratio_pct(abs(a.il_pct or 0))}).")
    else:
        sentences.append(f"Holding {held} would be worth {usd(a.value_hodl)}, the same as your pool "
                         f"share{tail}: impermanent loss has cost you nothing so far.")
    # What a range did not take is not in these figures: say so, with the amounts.
    if a.unused:
        left = _and_join([f"{qty(u.quantity)} {u.asset}" for u in a.unused])
        sentences.append(f"{left} of your deposit did not fit your range at the deposit price and was not counted "
                         f"as in the pool (worth {usd(a.unused_value)} then): the deposited value, the HODL value "
                         "and the profit above leave it out.")
    # 3. What the fees did about it.
    fees = a.fees or Decimal(0)
    estimated = " (estimated from the pool's fee APY)" if a.fees_estimated else ""
    if loss > 0 and fees > 0:
        share = fees / loss
        if share < 1 and share >= Decimal("0.995"):
            sentences.append(f"Fees of {usd(fees)}{estimated} offset almost all of it "
                             f"({pct(share * 100, 1)}).")
        elif share >= 1:
            sentences.append(f"Fees of {usd(fees)}{estimated} more than made up for it: they cover "
                             f"{pct(share * 100, 0)} of the loss.")
        else:
            sentences.append(f"Fees of {usd(fees)}{estimated} offset {pct(share * 100, 0)} of it.")
    elif loss > 0:
        sentences.append("No fees have offset it yet.")
    if a.pnl_vs_hodl is not None:
        if a.pnl_vs_hodl >= 0:
            sentences.append(f"Counting fees, rewards and costs, you are {usd(a.pnl_vs_hodl)} ahead of simply "
                             "holding the tokens.")
        else:
            sentences.append(f"Counting fees, rewards and costs, you are {usd(-a.pnl_vs_hodl)} behind simply "
                             "holding the tokens.")
    if a.kind == Position.Kind.CONCENTRATED_LP:
        sentences.append("A concentrated position magnifies impermanent loss: inside your range it behaves like a "
                         "much larger full-range position.")
    return sentences


def explain_range(a, position: Position) -> list[str]:
    """In range or not, and how far each bound is, for a concentrated position."""
    if a.kind != Position.Kind.CONCENTRATED_LP or a.current_price is None:
        return []
    tokens = [t.asset for t in a.tokens]
    unit = f" {tokens[1]} per {tokens[0]}" if len(tokens) == 2 else ""
    out = [f"Price now: {qty(a.current_price)}{unit}. Your range: {qty(position.range_lower)} to "
           f"{qty(position.range_upper)}{unit}."]
    if a.range_status == "in_range":
        out.append(f"In range: the price can fall {ratio_pct(abs(a.distance_to_lower), 1)} before it reaches the "
                   f"lower bound, or rise {ratio_pct(a.distance_to_upper, 1)} before the upper bound.")
    elif a.range_status == "below":
        held = tokens[0] if tokens else "the first token"
        out.append(f"Out of range: the price is below your range. The position now holds only {held} and earns "
                   f"no fees; the price must rise {ratio_pct(a.distance_to_lower, 1)} to re-enter it.")
    elif a.range_status == "above":
        held = tokens[1] if len(tokens) > 1 else "the second token"
        out.append(f"Out of range: the price is above your range. The position now holds only {held} and earns "
                   f"no fees; the price must fall {ratio_pct(abs(a.distance_to_upper), 1)} to re-enter it.")
    return out


BREAKDOWN_SHORT = {  # bar chart labels (the chart cuts long ones)
    "Price change of the tokens you deposited": "Price change",
    "Fees earned": "Fees",
    "Rewards": "Rewards",
    "Impermanent loss": "Impermanent loss",
    "Gas and other costs": "Gas and costs",
}


def _breakdown(a) -> list[tuple[str, Decimal | None, str]]:
    """Where the return came from: (label, amount, note)."""
    rewards = a.rewards_claimed_at_receipt + a.rewards_unclaimed
    market = (a.pnl - a.pnl_vs_hodl) if a.pnl is not None and a.pnl_vs_hodl is not None else None
    return [
        ("Price change of the tokens you deposited", market, "what simply holding them would have made"),
        ("Fees earned", a.fees, "partly estimated from the pool's fee APY" if a.fees_estimated else ""),
        ("Rewards", rewards, f"{usd(a.rewards_unclaimed)} of it unclaimed (estimate)" if a.rewards_unclaimed else ""),
        ("Impermanent loss", a.il, "pool value minus holding value, fees excluded"),
        ("Gas and other costs", -a.costs if a.costs else Decimal(0), ""),
    ]


# ----------------------------------------------------------------------------- dashboard & portfolios


@login_required
def dashboard(request):
    portfolios = list(portfolio_list_for_user(user=request.user))
    if not portfolios:
        return render(request, "portfolios/empty.html", {})
    if len(portfolios) == 1:
        current = portfolios[0]
        summary = portfolio_summary(portfolio=current)
    else:
        current = None
        summary = user_summary(user=request.user).total
    context = _dashboard_context(summary=summary, portfolios=portfolios, current=current,
                                 history=_history_points(portfolios if current is None else [current], summary))
    return render(request, "portfolios/dashboard.html", context)


@login_required
def portfolio_detail(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    portfolios = list(portfolio_list_for_user(user=request.user))
    summary = portfolio_summary(portfolio=portfolio)
    context = _dashboard_context(summary=summary, portfolios=portfolios, current=portfolio,
                                 history=_history_points([portfolio], summary))
    return render(request, "portfolios/dashboard.html", context)


def tax(request):
    """The old placeholder address: tax reports live at /tax/ now."""
    return redirect("tax:home", permanent=True)


@login_required
def portfolio_create(request):
    data = request.POST if request.method == "POST" else None
    form = pf.PortfolioForm(data)
    if data is not None and form.is_valid():
        try:
            portfolio = services.portfolio_create(owner=request.user, name=form.cleaned_data["name"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, f"Portfolio “{portfolio.name}” created. Add a position or import a CSV.")
            return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)
    return render(request, "portfolios/portfolio_form.html", {"form": form, "portfolio": None})


@login_required
def portfolio_edit(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    data = request.POST if request.method == "POST" else None
    form = pf.PortfolioForm(data, initial={"name": portfolio.name})
    if data is not None and form.is_valid():
        try:
            services.portfolio_update(portfolio=portfolio, name=form.cleaned_data["name"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Portfolio renamed.")
            return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)
    return render(request, "portfolios/portfolio_form.html", {"form": form, "portfolio": portfolio})


@login_required
def portfolio_delete(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    data = request.POST if request.method == "POST" else None
    form = pf.ConfirmDeleteForm(data)
    if data is not None and form.is_valid():
        name = portfolio.name
        services.portfolio_delete(portfolio=portfolio)
        messages.success(request, f"Portfolio “{name}” deleted.")
        return redirect("portfolios:dashboard")
    counts = {"positions": positions_for_portfolio(portfolio=portfolio).count(),
              "transactions": transactions_for_portfolio(portfolio=portfolio).count()}
    return render(request, "portfolios/portfolio_confirm_delete.html",
                  {"form": form, "portfolio": portfolio, "counts": counts})


@login_required
def transaction_list(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    page = Paginator(transactions_for_portfolio(portfolio=portfolio).select_related("position__pool"),
                     TRANSACTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portfolios/transaction_list.html", {"portfolio": portfolio, "page": page})


# ----------------------------------------------------------------------------- positions


@login_required
def position_detail(request, position_id: int):
    position = position_get_for_user(user=request.user, position_id=position_id)
    report = position_report(position=position)  # analytics and the series from one load
    a, series = report.analytics, report.series
    transactions = list(transactions_for_user(user=request.user, position_id=position.pk))
    chart = line_chart(
        [Series("Your position", [(p.day, p.value) for p in series]),
         Series("If you had held the tokens (HODL)", [(p.day, p.value_hodl) for p in series], dashed=True)],
        title=f"Value of {a.name} vs holding the deposited tokens", y_kind="usd")
    breakdown = _breakdown(a)
    breakdown_chart = bar_chart([(BREAKDOWN_SHORT[label], amount) for label, amount, _ in breakdown
                                 if amount is not None], title="Return by source", width=560)
    learn = [(LEARN_IL, "Impermanent loss, explained")]
    if a.kind == Position.Kind.CONCENTRATED_LP and a.range_status in ("below", "above"):
        learn.insert(0, (LEARN_CONCENTRATED, "Concentrated liquidity: ranges and what happens out of range"))
    elif a.kind == Position.Kind.CONCENTRATED_LP:
        learn.append((LEARN_CONCENTRATED, "Concentrated liquidity"))
    if a.kind == Position.Kind.CONCENTRATED_LP:
        learn.append(("/learn/articles/loss-versus-rebalancing-and-mev/", "What arbitrage costs a range (LVR)"))
    return render(request, "portfolios/position_detail.html", {
        "position": position,
        "a": a,
        "kind_label": KIND_LABELS.get(a.kind, a.kind),
        "badge": _range_badge(a),
        "chart": chart,
        "series_days": len(series),
        "breakdown": breakdown,
        "breakdown_chart": breakdown_chart,
        "transactions": transactions,
        "il_sentences": explain_impermanent_loss(a, _deposited(transactions)),
        "range_sentences": explain_range(a, position),
        "learn": learn,
        "moves": _moves_for(position),
    })


def _moves_for(position: Position) -> list[tuple[str, str]]:
    """(url name, label) of the deposits and withdrawals this kind of position takes
    (the services refuse the others: LP kinds add/remove liquidity, the rest stake/unstake)."""
    if position.kind in services.LP_KINDS:
        return [("portfolios:position_add_liquidity", "Add liquidity"),
                ("portfolios:position_remove_liquidity", "Remove liquidity")]
    if position.kind == Position.Kind.LENDING:
        return [("portfolios:position_stake", "Deposit more"), ("portfolios:position_unstake", "Withdraw")]
    return [("portfolios:position_stake", "Stake more"), ("portfolios:position_unstake", "Unstake")]


def _portfolio_choices(request):
    return list(portfolio_list_for_user(user=request.user))


def _pool_from_request(request):
    raw = request.POST.get("pool") or request.GET.get("pool")
    if not raw:
        return None
    if not str(raw).isdigit():
        raise Http404("No such pool.")
    return pool_get(pool_id=int(raw))


@login_required
def position_create(request):
    """Open a position, from a pool page (``?pool=<id>``: tokens and kind prefilled) or by hand."""
    portfolios = _portfolio_choices(request)
    pool = _pool_from_request(request)
    tokens = pool_tokens(pool=pool)[0] if pool is not None else []
    initial = {"opened_at": pf.now_minute()}
    if pool is not None:
        initial.update(pool=pool.pk, kind=pf.POOL_KIND_TO_POSITION_KIND.get(pool.kind, Position.Kind.LP))
    wanted = request.GET.get("portfolio")
    if wanted and wanted.isdigit() and any(p.pk == int(wanted) for p in portfolios):
        initial["portfolio"] = wanted
    data = request.POST if request.method == "POST" else None
    form = pf.PositionOpenForm(data, initial=initial, portfolios=portfolios, pool=pool,
                               chains=[] if pool is not None else chain_list())
    chain_slug = pool.chain.slug if pool is not None else (data.get("chain") if data else None)
    formset = pf.token_amount_formset(data=data, tokens=tokens, chain_slug=chain_slug or None,
                                      extra=0 if tokens else 3)
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            with db_transaction.atomic():
                portfolio = d.get("portfolio_obj") or services.portfolio_create(owner=request.user,
                                                                          name=d["new_portfolio_name"].strip())
                position = services.position_open(
                    portfolio=portfolio, pool=pool, label=d["label"], kind=d["kind"], opened_at=d["opened_at"],
                    deposits=formset.leg_inputs(), range_lower=d.get("range_lower"),
                    range_upper=d.get("range_upper"), notes=d.get("notes", ""))
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, f"Position “{position}” added to {portfolio.name}.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_form.html", {
        "form": form, "formset": formset, "pool": pool, "tokens": tokens,
        # A pool that is not concentrated has no price range; by hand the user may need one.
        "show_range": pool is None or pool.kind == "concentrated" or bool(
            data and (data.get("range_lower") or data.get("range_upper"))),
    })


def _move_view(request, position_id: int, *, action: str):
    """Add/remove liquidity, stake/unstake: a date and token rows limited to the position's tokens."""
    position = position_get_for_user(user=request.user, position_id=position_id)
    spec = MOVES[action]
    tokens = position_tokens(position=position)
    data = request.POST if request.method == "POST" else None
    form_class = pf.PositionWithdrawForm if spec["withdraw"] else pf.PositionMoveForm
    form = form_class(data, initial={"occurred_at": pf.now_minute()})
    chain_slug = position.pool.chain.slug if position.pool_id else None
    formset = pf.token_amount_formset(data=data, tokens=tokens, chain_slug=chain_slug, extra=0 if tokens else 2,
                                      verb=spec["verb"])
    if data is not None and form.is_valid() and formset.is_valid():
        kwargs = {"position": position, "occurred_at": form.cleaned_data["occurred_at"],
                  spec["legs_arg"]: formset.leg_inputs()}
        if spec["withdraw"] and form.cleaned_data.get("close"):
            kwargs["close"] = True  # unticked: the service closes a position emptied by the withdrawal
        try:
            spec["service"](**kwargs)
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, spec["done"])
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_move_form.html", {
        "position": position, "form": form, "formset": formset, "title": spec["title"], "intro": spec["intro"],
        "submit": spec["submit"],
    })


MOVES = {
    "add": {"service": services.position_add_liquidity, "legs_arg": "deposits", "withdraw": False, "verb": "added",
            "title": "Add liquidity", "submit": "Add liquidity", "done": "Liquidity added.",
            "intro": "The tokens you added to this position and their value then."},
    "remove": {"service": services.position_remove_liquidity, "legs_arg": "withdrawals", "withdraw": True,
               "verb": "withdrawn", "title": "Remove liquidity", "submit": "Remove liquidity",
               "done": "Withdrawal recorded.",
               "intro": "The tokens you received back (what your wallet shows), not more than the position holds."},
    "stake": {"service": services.position_stake, "legs_arg": "deposits", "withdraw": False, "verb": "staked",
              "title": "Stake", "submit": "Record stake", "done": "Stake recorded.",
              "intro": "The tokens you staked into this position."},
    "unstake": {"service": services.position_unstake, "legs_arg": "withdrawals", "withdraw": True, "verb": "unstaked",
                "title": "Unstake", "submit": "Record unstake", "done": "Unstake recorded.",
                "intro": "The tokens you took out of this position."},
}


@login_required
def position_add_liquidity(request, position_id: int):
    return _move_view(request, position_id, action="add")


@login_required
def position_remove_liquidity(request, position_id: int):
    return _move_view(request, position_id, action="remove")


@login_required
def position_stake(request, position_id: int):
    return _move_view(request, position_id, action="stake")


@login_required
def position_unstake(request, position_id: int):
    return _move_view(request, position_id, action="unstake")


@login_required
def position_claim_rewards(request, position_id: int):
    position = position_get_for_user(user=request.user, position_id=position_id)
    suggestions = []
    if position.pool_id:
        underlying, rewards = pool_tokens(pool=position.pool)
        suggestions = [t.symbol for t in rewards + underlying if t.symbol]
    data = request.POST if request.method == "POST" else None
    form = pf.ClaimRewardsForm(data, chain_slug=position.pool.chain.slug if position.pool_id else None,
                               datalist_id="reward-tokens" if suggestions else None, initial={
        "occurred_at": pf.now_minute(),
        "income_type": pf.DEFAULT_INCOME_TYPE.get(position.kind, Transaction.IncomeType.OTHER),
        "token": suggestions[0] if suggestions else "",
    })
    if data is not None and form.is_valid():
        d = form.cleaned_data
        try:
            services.position_claim_rewards(position=position, token=d["token"], quantity=d["quantity"],
                                       income_type=d["income_type"], occurred_at=d["occurred_at"],
                                       fiat_value=d.get("fiat_value"))
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, f"Claim of {qty(d['quantity'])} {d['token'].symbol} recorded.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_claim_form.html", {
        "position": position, "form": form, "suggestions": list(dict.fromkeys(suggestions)),
    })


@login_required
def position_close(request, position_id: int):
    position = position_get_for_user(user=request.user, position_id=position_id)
    data = request.POST if request.method == "POST" else None
    form = pf.PositionCloseForm(data, opened_at=position.opened_at, initial={"closed_at": pf.now_minute()})
    if data is not None and form.is_valid():
        try:
            services.position_close(position=position, closed_at=form.cleaned_data["closed_at"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Position closed. Its history stays in your portfolio.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_close_form.html", {"position": position, "form": form})


@login_required
def position_override_amounts(request, position_id: int):
    position = position_get_for_user(user=request.user, position_id=position_id)
    tokens = position_tokens(position=position)
    data = request.POST if request.method == "POST" else None
    form = pf.OverrideAmountsForm(data, tokens=tokens, current=position_amount_overrides(position=position),
                                  initial={"as_of": pf.now_minute()})
    if data is not None and form.is_valid():
        try:
            services.position_override_amounts(position=position, amounts=form.cleaned_data["amounts"],
                                          as_of=form.cleaned_data["as_of"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Current amounts saved: the position is valued from them.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_amounts_form.html",
                  {"position": position, "form": form, "tokens": tokens})


# ----------------------------------------------------------------------------- transactions


def _transaction_positions(portfolio):
    return list(positions_for_portfolio(portfolio=portfolio))


@login_required
def transaction_create(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    positions = _transaction_positions(portfolio)
    data = request.POST if request.method == "POST" else None
    initial = {"occurred_at": pf.now_minute()}
    wanted = request.GET.get("position")
    if wanted and wanted.isdigit() and any(p.pk == int(wanted) for p in positions):
        initial["position"] = wanted
    form = pf.TransactionForm(data, positions=positions, initial=initial)
    formset = pf.leg_formset(data=data)
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            txn = services.transaction_record(portfolio=portfolio, kind=d["kind"], legs=formset.leg_inputs(),
                                         occurred_at=d["occurred_at"], position=d["position_obj"],
                                         income_type=d["income_type"] or None, description=d["description"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, f"{txn.get_kind_display()} recorded.")
            return redirect(_after_transaction(txn))
    return render(request, "portfolios/transaction_form.html",
                  {"portfolio": portfolio, "form": form, "formset": formset, "txn": None})


def _plain(value: Decimal | None) -> Decimal | None:
    """``Decimal("2000.000000000000000000")`` → ``2000`` for a form field (no exponent)."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _after_transaction(txn) -> str:
    if txn.position_id:
        return reverse("portfolios:position_detail", kwargs={"position_id": txn.position_id})
    return reverse("portfolios:transaction_list", kwargs={"portfolio_id": txn.portfolio_id})


@login_required
def transaction_edit(request, transaction_id: int):
    txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
    portfolio = txn.portfolio
    positions = _transaction_positions(portfolio)
    data = request.POST if request.method == "POST" else None
    initial = {"kind": txn.kind, "income_type": txn.income_type, "occurred_at": txn.occurred_at,
               "position": txn.position_id, "description": txn.description}
    # A value looked up from a token's price history is left blank, so a changed date
    # looks it up again; entered values (and those of fiat and receipt legs) are kept.
    legs_initial = [{"asset": leg.asset, "quantity": _plain(leg.quantity),
                     "fiat_value": _plain(leg.fiat_value)
                     if leg.value_source == "entered" or leg.token_id is None else None,
                     "is_fee": leg.is_fee} for leg in txn.legs.all()]
    form = pf.TransactionForm(data, positions=positions, initial=initial)
    formset = pf.leg_formset(data=data, initial=legs_initial, extra=2, can_delete=True)
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            txn = services.transaction_update(transaction=txn, kind=d["kind"], legs=formset.leg_inputs(),
                                         occurred_at=d["occurred_at"], position=d["position_obj"],
                                         income_type=d["income_type"] or None, description=d["description"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, "Transaction saved.")
            return redirect(_after_transaction(txn))
    return render(request, "portfolios/transaction_form.html",
                  {"portfolio": portfolio, "form": form, "formset": formset, "txn": txn})


@login_required
def transaction_delete(request, transaction_id: int):
    txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
    if request.method == "POST":
        target = _after_transaction(txn)
        try:
            services.transaction_delete(transaction=txn)
        except SERVICE_ERRORS as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect(target)
        messages.success(request, "Transaction deleted.")
        return redirect(target)
    return render(request, "portfolios/transaction_confirm_delete.html", {"txn": txn})


# ----------------------------------------------------------------------------- CSV


def _import_key(token: str) -> str:
    return f"{IMPORT_CACHE_PREFIX}{token}"


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_import(request, portfolio_id: int):
    """Upload → preview (the file kept server-side under a token) → commit."""
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    if request.method == "POST" and request.POST.get("action") == "commit":
        return _import_commit(request, portfolio)
    form = pf.ImportUploadForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    context = {"portfolio": portfolio, "form": form, "preview": None, "token": None, "filename": ""}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "portfolios/import.html", context)
        content, fmt = form.cleaned_data["file"], form.cleaned_data["format"]
        try:
            preview = imports.csv_import_preview(portfolio=portfolio, file=content, fmt=fmt)
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
            return render(request, "portfolios/import.html", context)
        token = secrets.token_urlsafe(24)
        filename = request.FILES["file"].name
        # The commit step reads the file from here, never from the client: the form
        # only carries this token, and the entry is bound to the user and portfolio.
        cache.set(_import_key(token), {"user_id": request.user.pk, "portfolio_id": portfolio.pk,
                                       "content": content, "format": fmt, "filename": filename},
                  IMPORT_CACHE_SECONDS)
        context.update(preview=preview, token=token, filename=filename, fmt=fmt,
                       rows_shown=preview.rows[:IMPORT_PREVIEW_ROWS])
    return render(request, "portfolios/import.html", context)


def _import_commit(request, portfolio):
    token = request.POST.get("token", "")
    key = _import_key(token)
    stored = cache.get(key) if token else None
    if not stored or stored["user_id"] != request.user.pk or stored["portfolio_id"] != portfolio.pk:
        messages.error(request, "This preview has expired or is not yours: upload the file again.")
        return redirect("portfolios:portfolio_import", portfolio_id=portfolio.pk)
    try:
        result = imports.csv_import_commit(portfolio=portfolio, file=stored["content"], fmt=stored["format"])
    except SERVICE_ERRORS as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("portfolios:portfolio_import", portfolio_id=portfolio.pk)
    if result.errors:
        # Something changed since the preview (e.g. a position was deleted): nothing was written.
        preview = imports.csv_import_preview(portfolio=portfolio, file=stored["content"], fmt=stored["format"])
        messages.error(request, "Nothing was imported: some rows have errors now. Fix them and upload again.")
        return render(request, "portfolios/import.html", {
            "portfolio": portfolio, "form": pf.ImportUploadForm(), "preview": preview, "token": token,
            "filename": stored["filename"], "fmt": stored["format"], "rows_shown": preview.rows[:IMPORT_PREVIEW_ROWS],
        })
    cache.delete(key)
    messages.success(request, _import_message(result))
    return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)


def _import_message(result) -> str:
    created, duplicates = result.created, result.duplicates
    text = f"Imported {created} transaction{'s' if created != 1 else ''}."
    if duplicates:
        text += f" {duplicates} duplicate{'s' if duplicates != 1 else ''} skipped."
    return text


@login_required
def portfolio_export(request, portfolio_id: int):
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    response = HttpResponse(imports.csv_export(portfolio=portfolio), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in portfolio.name).strip("-") or "portfolio"
    response["Content-Disposition"] = f'attachment; filename="{safe}-transactions.csv"'
    return response
