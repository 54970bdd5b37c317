"""Create, rename and delete a portfolio."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from portfolios import forms as pf
from portfolios.selectors import portfolio_get_for_user, positions_for_portfolio, transactions_for_portfolio
from portfolios.services import portfolios as portfolio_services
from portfolios.services.errors import SERVICE_ERRORS


@login_required
def portfolio_create(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = pf.PortfolioForm(data)
    if data is not None and form.is_valid():
        try:
            owner = cast(User, request.user)  # @login_required
            portfolio = portfolio_services.portfolio_create(owner=owner, name=form.cleaned_data["name"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, f"Portfolio “{portfolio.name}” created. Add a position or import a CSV.")
            return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)
    return render(request, "portfolios/portfolio_form.html", {"form": form, "portfolio": None})


@login_required
def portfolio_edit(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    data = request.POST if request.method == "POST" else None
    form = pf.PortfolioForm(data, initial={"name": portfolio.name})
    if data is not None and form.is_valid():
        try:
            portfolio_services.portfolio_update(portfolio=portfolio, name=form.cleaned_data["name"])
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
        else:
            messages.success(request, "Portfolio renamed.")
            return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)
    return render(request, "portfolios/portfolio_form.html", {"form": form, "portfolio": portfolio})


@login_required
def portfolio_delete(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    data = request.POST if request.method == "POST" else None
    form = pf.ConfirmDeleteForm(data)
    if data is not None and form.is_valid():
        name = portfolio.name
        portfolio_services.portfolio_delete(portfolio=portfolio)
        messages.success(request, f"Portfolio “{name}” deleted.")
        return redirect("portfolios:dashboard")
    counts = {
        "positions": positions_for_portfolio(portfolio=portfolio).count(),
        "transactions": transactions_for_portfolio(portfolio=portfolio, with_hidden=True).count(),
    }
    return render(
        request, "portfolios/portfolio_confirm_delete.html", {"form": form, "portfolio": portfolio, "counts": counts}
    )
