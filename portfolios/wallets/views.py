"""Wallet pages: a portfolio's wallets (add one), a wallet (sync now, progress,
checkpoints, reconciliation, positions, what is not covered), remove a wallet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portfolios.selectors.access import portfolio_get_for_user
from portfolios.wallets import selectors
from portfolios.wallets.forms import WalletForm
from portfolios.wallets.services import wallets as wallet_services
from portfolios.wallets.services.runner import wallet_chains


@login_required
def wallet_list(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    form = WalletForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            wallet = wallet_services.wallet_create(
                portfolio=portfolio, address=d["address"], label=d["label"], chains=d["chains"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Wallet added; its first sync has started.")
            return redirect("wallets:detail", wallet_id=wallet.pk)
    wallets = selectors.wallet_list_for_user(user=request.user, portfolio_id=portfolio.pk)
    return render(request, "wallets/list.html", {"portfolio": portfolio, "wallets": wallets, "form": form})


@login_required
def wallet_detail(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = selectors.wallet_get_for_user(user=request.user, wallet_id=wallet_id)
    run = selectors.wallet_latest_sync(wallet=wallet)
    last_done = wallet.syncs.filter(status="done").order_by("-created_at", "-id").first() if run else None
    chains = wallet_chains(wallet)
    shown = run if run is not None and run.is_finished else last_done  # the last finished run's reconciliation
    context = {
        "wallet": wallet,
        "portfolio": wallet.portfolio,
        "run": run,
        "reconciliation": selectors.reconciliation_lines(sync=shown) if shown is not None else [],
        "coverage": selectors.wallet_coverage(wallet=wallet, chains=chains),
        "cursors": list(wallet.cursors.all()),
        "positions": selectors.wallet_positions(wallet=wallet),
        "hidden_count": selectors.wallet_hidden_count(wallet=wallet),
    }
    return render(request, "wallets/detail.html", context)


@login_required
@require_POST
def wallet_sync(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = selectors.wallet_get_for_user(user=request.user, wallet_id=wallet_id)
    wallet_services.wallet_sync_start(wallet=wallet)
    messages.success(request, "Sync started.")
    return redirect("wallets:detail", wallet_id=wallet.pk)


@login_required
def wallet_delete(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = selectors.wallet_get_for_user(user=request.user, wallet_id=wallet_id)
    if request.method == "POST":
        portfolio_id = wallet.portfolio_id
        wallet_services.wallet_delete(wallet=wallet)
        messages.success(request, "Wallet removed with everything its syncs recorded.")
        return redirect("wallets:list", portfolio_id=portfolio_id)
    return render(request, "wallets/delete.html", {"wallet": wallet, "portfolio": wallet.portfolio})
