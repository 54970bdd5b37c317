"""A position's page, opening a position (from a pool page or by hand), its deposits
and withdrawals, reward claims, closing it, and the user's own current amounts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction as db_transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from config.charts import Series, bar_chart, line_chart
from config.formatting import quantity
from pools.calculators.links import calculator_links
from pools.models import Pool
from pools.selectors import chain_list, pool_get, pool_tokens, token_price_row_at
from portfolios import forms as pf
from portfolios.explain import (
    BREAKDOWN_SHORT,
    CONCENTRATED_LP,
    explain_impermanent_loss,
    explain_range,
    range_badge,
    return_breakdown,
)
from portfolios.ledger import IncomeType
from portfolios.models import Portfolio, Position, Transaction
from portfolios.range_preview import PairToken, describe, pair_order, range_preview
from portfolios.selectors import (
    portfolio_list_for_user,
    position_amount_overrides,
    position_deposits,
    position_get_for_user,
    position_report,
    position_tokens,
    transactions_for_user,
)
from portfolios.selectors.currency import display_currency_for
from portfolios.services import portfolios as portfolio_services
from portfolios.services import positions as position_services
from portfolios.services.errors import SERVICE_ERRORS

KIND_LABELS = dict(Position.Kind.choices)
LEARN_IL = "/learn/articles/impermanent-loss/"
LEARN_CONCENTRATED = "/learn/articles/concentrated-liquidity/"


@login_required
def position_detail(request: HttpRequest, position_id: int) -> HttpResponse:
    position = position_get_for_user(user=request.user, position_id=position_id)
    report = position_report(position=position)  # analytics and the series from one load
    a, series = report.analytics, report.series
    transactions = list(transactions_for_user(user=request.user, position_id=position.pk))
    chart = line_chart(
        [
            Series("Your position", [(p.day, p.value) for p in series]),
            Series("If you had held the tokens (HODL)", [(p.day, p.value_hodl) for p in series], dashed=True),
        ],
        title=f"Value of {a.name} vs holding the deposited tokens",
        y_kind="usd",
    )
    breakdown = return_breakdown(a)
    breakdown_chart = bar_chart(
        [(BREAKDOWN_SHORT[label], amount) for label, amount, _ in breakdown if amount is not None],
        title="Return by source",
        width=560,
    )
    learn = [(LEARN_IL, "Impermanent loss, explained")]
    if a.kind == CONCENTRATED_LP and a.range_status in ("below", "above"):
        learn.insert(0, (LEARN_CONCENTRATED, "Concentrated liquidity: ranges and what happens out of range"))
    elif a.kind == CONCENTRATED_LP:
        learn.append((LEARN_CONCENTRATED, "Concentrated liquidity"))
    if a.kind == CONCENTRATED_LP:
        learn.append(("/learn/articles/loss-versus-rebalancing-and-mev/", "What arbitrage costs a range (LVR)"))
    return render(
        request,
        "portfolios/position_detail.html",
        {
            "position": position,
            "a": a,
            "fx": display_currency_for(user=request.user),
            "kind_label": KIND_LABELS.get(a.kind, a.kind),
            "badge": range_badge(a),
            "chart": chart,
            "series_days": len(series),
            "breakdown": breakdown,
            "breakdown_chart": breakdown_chart,
            "transactions": transactions,
            # Read from a chain by wallet sync (its transactions say so; no extra query).
            "is_synced": any(t.source == Transaction.Source.CHAIN for t in transactions),
            "il_sentences": explain_impermanent_loss(a, position_deposits(transactions=transactions).price),
            "range_sentences": explain_range(a, lower=position.range_lower, upper=position.range_upper),
            "learn": learn,
            "calculators": calculator_links(kind=position.pool.kind, apy=position.pool.apy) if position.pool else [],
            "moves": _moves_for(position),
        },
    )


def _moves_for(position: Position) -> list[tuple[str, str]]:
    """(url name, label) of the deposits and withdrawals this kind of position takes
    (the services refuse the others: LP kinds add/remove liquidity, the rest stake/unstake)."""
    if position.kind in position_services.LP_KINDS:
        return [
            ("portfolios:position_add_liquidity", "Add liquidity"),
            ("portfolios:position_remove_liquidity", "Remove liquidity"),
        ]
    if position.kind == Position.Kind.LENDING:
        return [("portfolios:position_stake", "Deposit more"), ("portfolios:position_unstake", "Withdraw")]
    return [("portfolios:position_stake", "Stake more"), ("portfolios:position_unstake", "Unstake")]


def _portfolio_choices(request: HttpRequest) -> list[Portfolio]:
    return list(portfolio_list_for_user(user=request.user))


def _pool_from_request(request: HttpRequest) -> Pool | None:
    raw = request.POST.get("pool") or request.GET.get("pool")
    if not raw:
        return None
    if not str(raw).isdigit():
        raise Http404("No such pool.")
    return pool_get(pool_id=int(raw))


@login_required
def position_create(request: HttpRequest) -> HttpResponse:
    """Open a position, from a pool page (``?pool=<id>``: tokens and kind prefilled) or by hand."""
    portfolios = _portfolio_choices(request)
    pool = _pool_from_request(request)
    tokens = pool_tokens(pool=pool)[0] if pool is not None else []
    initial: dict[str, object] = {"opened_at": pf.now_minute()}
    if pool is not None:
        initial.update(pool=pool.pk, kind=pf.POOL_KIND_TO_POSITION_KIND.get(pool.kind, Position.Kind.LP))
    wanted = request.GET.get("portfolio")
    if wanted and wanted.isdigit() and any(p.pk == int(wanted) for p in portfolios):
        initial["portfolio"] = wanted
    data = request.POST if request.method == "POST" else None
    form = pf.PositionOpenForm(
        data, initial=initial, portfolios=portfolios, pool=pool, chains=[] if pool is not None else chain_list()
    )
    chain_slug = pool.chain.slug if pool is not None else (data.get("chain") if data else None)
    formset = pf.token_amount_formset(data=data, tokens=tokens, chain_slug=chain_slug or None, extra=0 if tokens else 3)
    pair = pair_order([PairToken(t.symbol or t.address[:10], t.is_stablecoin) for t in tokens])
    if pair:
        for name, word in (("range_lower", "lower"), ("range_upper", "upper")):
            form.fields[name].label = f"Range {word} price ({pair[1]} per {pair[0]})"
    preview_sentences: list[str] = []
    if data is not None and data.get("action") == "preview":
        if form.is_valid() and formset.is_valid():
            preview_sentences = _range_preview_sentences(pair, tokens, form.cleaned_data, formset.leg_inputs())
        return _position_form(request, form, formset, pool, tokens, pair, preview_sentences, previewed=True)
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            with db_transaction.atomic():
                portfolio = d.get("portfolio_obj") or portfolio_services.portfolio_create(
                    owner=cast(User, request.user), name=d["new_portfolio_name"].strip()  # @login_required
                )
                position = position_services.position_open(
                    portfolio=portfolio,
                    pool=pool,
                    label=d["label"],
                    kind=d["kind"],
                    opened_at=d["opened_at"],
                    deposits=formset.leg_inputs(),
                    range_lower=d.get("range_lower"),
                    range_upper=d.get("range_upper"),
                    notes=d.get("notes", ""),
                )
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, f"Position “{position}” added to {portfolio.name}.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return _position_form(request, form, formset, pool, tokens, pair, preview_sentences)


def _position_form(request, form, formset, pool, tokens, pair, preview_sentences, previewed=False) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    by_symbol = {(t.symbol or t.address[:10]): t for t in tokens}
    price_now = None
    if pair and by_symbol[pair[0]].last_price_usd and by_symbol[pair[1]].last_price_usd:
        price_now = by_symbol[pair[0]].last_price_usd / by_symbol[pair[1]].last_price_usd
    return render(
        request,
        "portfolios/position_form.html",
        {
            "form": form,
            "formset": formset,
            "pool": pool,
            "tokens": tokens,
            "pair": pair,
            "price_now": price_now,
            "preview_sentences": preview_sentences,
            "previewed": previewed,
            # A pool that is not concentrated has no price range; by hand the user may need one.
            "show_range": pool is None
            or pool.kind == "concentrated"
            or bool(data and (data.get("range_lower") or data.get("range_upper"))),
        },
    )


def _range_preview_sentences(pair, tokens, cleaned: dict, legs) -> list[str]:
    """What the range will take of these deposits at the price when the position opens."""
    lower, upper = cleaned.get("range_lower"), cleaned.get("range_upper")
    if not pair or cleaned.get("kind") != Position.Kind.CONCENTRATED_LP or lower is None or upper is None:
        return []
    amounts: dict[str, Decimal] = {}
    prices: dict[str, Decimal | None] = {}
    opened_at = cleaned["opened_at"]
    for leg in legs:
        token = leg.token
        if token is None:
            continue
        symbol = token.symbol or token.address[:10]
        qty = Decimal(leg.quantity)
        amounts[symbol] = amounts.get(symbol, Decimal(0)) + qty
        if leg.fiat_value is not None and qty > 0:
            prices[symbol] = Decimal(leg.fiat_value) / qty
    for token in tokens:
        symbol = token.symbol or token.address[:10]
        if prices.get(symbol) is None:
            stored = token_price_row_at(token=token, when=opened_at)
            prices[symbol] = stored.price_usd if stored else token.last_price_usd
    preview = range_preview(order=pair, amounts=amounts, prices_usd=prices, lower=lower, upper=upper)
    if preview is None:
        return ["We cannot work out the split yet: a price for one of the tokens at that date is missing."]
    return describe(preview, lower=lower, upper=upper, fmt=quantity)


@dataclass(frozen=True)
class Move:
    """One of the deposit / withdrawal pages of a position."""

    service: Callable[..., object]
    legs_arg: str  # the service's argument for the token rows
    withdraw: bool
    verb: str
    title: str
    submit: str
    done: str
    intro: str


MOVES = {
    "add": Move(
        position_services.position_add_liquidity,
        "deposits",
        False,
        "added",
        "Add liquidity",
        "Add liquidity",
        "Liquidity added.",
        "The tokens you added to this position and their value then.",
    ),
    "remove": Move(
        position_services.position_remove_liquidity,
        "withdrawals",
        True,
        "withdrawn",
        "Remove liquidity",
        "Remove liquidity",
        "Withdrawal recorded.",
        "The tokens you received back (what your wallet shows), not more than the position holds.",
    ),
    "stake": Move(
        position_services.position_stake,
        "deposits",
        False,
        "staked",
        "Stake",
        "Record stake",
        "Stake recorded.",
        "The tokens you staked into this position.",
    ),
    "unstake": Move(
        position_services.position_unstake,
        "withdrawals",
        True,
        "unstaked",
        "Unstake",
        "Record unstake",
        "Unstake recorded.",
        "The tokens you took out of this position.",
    ),
}


def _move_view(request: HttpRequest, position_id: int, *, action: str) -> HttpResponse:
    """Add/remove liquidity, stake/unstake: a date and token rows limited to the position's tokens."""
    position = position_get_for_user(user=request.user, position_id=position_id)
    move = MOVES[action]
    tokens = position_tokens(position=position)
    data = request.POST if request.method == "POST" else None
    form_class = pf.PositionWithdrawForm if move.withdraw else pf.PositionMoveForm
    form = form_class(data, initial={"occurred_at": pf.now_minute()})
    chain_slug = position.pool.chain.slug if position.pool is not None else None
    formset = pf.token_amount_formset(
        data=data, tokens=tokens, chain_slug=chain_slug, extra=0 if tokens else 2, verb=move.verb
    )
    if data is not None and form.is_valid() and formset.is_valid():
        kwargs = {
            "position": position,
            "occurred_at": form.cleaned_data["occurred_at"],
            move.legs_arg: formset.leg_inputs(),
        }
        if move.withdraw and form.cleaned_data.get("close"):
            kwargs["close"] = True  # unticked: the service closes a position emptied by the withdrawal
        try:
            move.service(**kwargs)
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, move.done)
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(
        request,
        "portfolios/position_move_form.html",
        {
            "position": position,
            "form": form,
            "formset": formset,
            "title": move.title,
            "intro": move.intro,
            "submit": move.submit,
        },
    )


@login_required
def position_add_liquidity(request: HttpRequest, position_id: int) -> HttpResponse:
    return _move_view(request, position_id, action="add")


@login_required
def position_remove_liquidity(request: HttpRequest, position_id: int) -> HttpResponse:
    return _move_view(request, position_id, action="remove")


@login_required
def position_stake(request: HttpRequest, position_id: int) -> HttpResponse:
    return _move_view(request, position_id, action="stake")


@login_required
def position_unstake(request: HttpRequest, position_id: int) -> HttpResponse:
    return _move_view(request, position_id, action="unstake")


@login_required
def position_claim_rewards(request: HttpRequest, position_id: int) -> HttpResponse:
    position = position_get_for_user(user=request.user, position_id=position_id)
    suggestions = []
    if position.pool is not None:
        underlying, rewards = pool_tokens(pool=position.pool)
        suggestions = [t.symbol for t in rewards + underlying if t.symbol]
    data = request.POST if request.method == "POST" else None
    form = pf.ClaimRewardsForm(
        data,
        chain_slug=position.pool.chain.slug if position.pool is not None else None,
        datalist_id="reward-tokens" if suggestions else None,
        initial={
            "occurred_at": pf.now_minute(),
            "income_type": pf.DEFAULT_INCOME_TYPE.get(position.kind, IncomeType.OTHER),
            "token": suggestions[0] if suggestions else "",
        },
    )
    if data is not None and form.is_valid():
        d = form.cleaned_data
        try:
            position_services.position_claim_rewards(
                position=position,
                token=d["token"],
                quantity=d["quantity"],
                income_type=d["income_type"],
                occurred_at=d["occurred_at"],
                fiat_value=d.get("fiat_value"),
            )
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, f"Claim of {quantity(d['quantity'])} {d['token'].symbol} recorded.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(
        request,
        "portfolios/position_claim_form.html",
        {
            "position": position,
            "form": form,
            "suggestions": list(dict.fromkeys(suggestions)),
        },
    )


@login_required
def position_close(request: HttpRequest, position_id: int) -> HttpResponse:
    position = position_get_for_user(user=request.user, position_id=position_id)
    data = request.POST if request.method == "POST" else None
    form = pf.PositionCloseForm(data, opened_at=position.opened_at, initial={"closed_at": pf.now_minute()})
    if data is not None and form.is_valid():
        try:
            position_services.position_close(position=position, closed_at=form.cleaned_data["closed_at"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Position closed. Its history stays in your portfolio.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(request, "portfolios/position_close_form.html", {"position": position, "form": form})


@login_required
def position_override_amounts(request: HttpRequest, position_id: int) -> HttpResponse:
    position = position_get_for_user(user=request.user, position_id=position_id)
    tokens = position_tokens(position=position)
    data = request.POST if request.method == "POST" else None
    form = pf.OverrideAmountsForm(
        data, tokens=tokens, current=position_amount_overrides(position=position), initial={"as_of": pf.now_minute()}
    )
    if data is not None and form.is_valid():
        try:
            position_services.position_override_amounts(
                position=position, amounts=form.cleaned_data["amounts"], as_of=form.cleaned_data["as_of"]
            )
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Current amounts saved: the position is valued from them.")
            return redirect("portfolios:position_detail", position_id=position.pk)
    return render(
        request, "portfolios/position_amounts_form.html", {"position": position, "form": form, "tokens": tokens}
    )


# ----------------------------------------------------------------------------- transactions
