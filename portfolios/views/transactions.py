"""A portfolio's transactions: the list, record one, edit one (its legs as a
formset), delete one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from config.formatting import normalize_decimal
from portfolios import forms as pf
from portfolios.models import Portfolio, Position, Transaction
from portfolios.selectors import (
    portfolio_get_for_user,
    positions_for_portfolio,
    transaction_get_for_user,
    transactions_for_portfolio,
    transactions_hidden_count,
)
from portfolios.services import transactions as transaction_services
from portfolios.services.errors import SERVICE_ERRORS

TRANSACTIONS_PAGE_SIZE = 50


@login_required
def transaction_list(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    """Without ``?hidden=1`` hidden transactions are left out; the page says how many there are."""
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    show_hidden = request.GET.get("hidden") == "1"
    page = Paginator(
        transactions_for_portfolio(portfolio=portfolio, with_hidden=show_hidden).select_related("position__pool"),
        TRANSACTIONS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "portfolios/transaction_list.html",
        {
            "portfolio": portfolio,
            "page": page,
            "show_hidden": show_hidden,
            "hidden_count": transactions_hidden_count(portfolio=portfolio),
        },
    )


def _transaction_positions(portfolio: Portfolio) -> list[Position]:
    return list(positions_for_portfolio(portfolio=portfolio))


@login_required
def transaction_create(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    positions = _transaction_positions(portfolio)
    data = request.POST if request.method == "POST" else None
    initial: dict[str, object] = {"occurred_at": pf.now_minute()}
    wanted = request.GET.get("position")
    if wanted and wanted.isdigit() and any(p.pk == int(wanted) for p in positions):
        initial["position"] = wanted
    form = pf.TransactionForm(data, positions=positions, initial=initial)
    formset = pf.leg_formset(data=data)
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            txn = transaction_services.transaction_record(
                portfolio=portfolio,
                kind=d["kind"],
                legs=formset.leg_inputs(),
                occurred_at=d["occurred_at"],
                position=d["position_obj"],
                income_type=d["income_type"] or None,
                description=d["description"],
                category=d["category"],
                hidden=d["hidden"],
            )
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, f"{txn.get_kind_display()} recorded.")
            return redirect(_after_transaction(txn))
    return render(
        request,
        "portfolios/transaction_form.html",
        {"portfolio": portfolio, "form": form, "formset": formset, "txn": None},
    )


def _after_transaction(txn: Transaction) -> str:
    if txn.position_id:
        return reverse("portfolios:position_detail", kwargs={"position_id": txn.position_id})
    return reverse("portfolios:transaction_list", kwargs={"portfolio_id": txn.portfolio_id})


@login_required
def transaction_edit(request: HttpRequest, transaction_id: int) -> HttpResponse:
    txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
    portfolio = txn.portfolio
    positions = _transaction_positions(portfolio)
    data = request.POST if request.method == "POST" else None
    initial = {
        "kind": txn.kind,
        "income_type": txn.income_type,
        "occurred_at": txn.occurred_at,
        "position": txn.position_id,
        "description": txn.description,
        "category": txn.category,
        "hidden": txn.hidden,
    }
    # A value looked up from a token's price history is left blank, so a changed date
    # looks it up again; entered values (and those of fiat and receipt legs) are kept.
    legs_initial = [
        {
            "asset": leg.asset,
            "quantity": normalize_decimal(leg.quantity),
            "fiat_value": normalize_decimal(leg.fiat_value)
            if leg.fiat_value is not None and (leg.value_source == "entered" or leg.token_id is None)
            else None,
            "fiat_currency": leg.fiat_currency
            if leg.fiat_value is not None and (leg.value_source == "entered" or leg.token_id is None)
            else "",
            "is_fee": leg.is_fee,
        }
        for leg in txn.legs.all()
    ]
    form = pf.TransactionForm(data, positions=positions, initial=initial)
    formset = pf.leg_formset(data=data, initial=legs_initial, extra=2, can_delete=True)
    # A synced transaction's legs are the chain's: no legs are sent, and the service refuses
    # any change to its kind, date or position (a note and an income type may change).
    if data is not None and form.is_valid() and (txn.is_synced or formset.is_valid()):
        d = form.cleaned_data
        changes = {
            "kind": d["kind"],
            "occurred_at": d["occurred_at"],
            "position": d["position_obj"],
            "income_type": d["income_type"] or None,
            "description": d["description"],
            "category": d["category"],
            "hidden": d["hidden"],
        }
        if not txn.is_synced:
            changes["legs"] = formset.leg_inputs()
        try:
            txn = transaction_services.transaction_update(transaction=txn, **changes)
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form, formset)
        else:
            messages.success(request, "Transaction saved.")
            return redirect(_after_transaction(txn))
    return render(
        request,
        "portfolios/transaction_form.html",
        {"portfolio": portfolio, "form": form, "formset": formset, "txn": txn},
    )


@login_required
def transaction_delete(request: HttpRequest, transaction_id: int) -> HttpResponse:
    txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
    if request.method == "POST":
        target = _after_transaction(txn)
        try:
            transaction_services.transaction_delete(transaction=txn)
        except SERVICE_ERRORS as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect(target)
        messages.success(request, "Transaction deleted.")
        return redirect(target)
    return render(request, "portfolios/transaction_confirm_delete.html", {"txn": txn})
