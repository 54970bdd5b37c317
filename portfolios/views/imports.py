"""CSV import (upload, preview, commit) and export of a portfolio's transactions.

The uploaded file stays on the server between the preview and the commit: the
preview stores the decoded text in the cache under a random token, bound to the
user and the portfolio, and the commit form sends only that token back (see
docs/portfolios-web.md).
"""

from __future__ import annotations

import secrets
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portfolios import forms as pf
from portfolios.csvformats.detect import detect_format, header_of
from portfolios.models import Portfolio
from portfolios.selectors import portfolio_get_for_user
from portfolios.services.csv_import import ImportResult, csv_export, csv_import_commit, csv_import_preview
from portfolios.services.errors import SERVICE_ERRORS

IMPORT_CACHE_SECONDS = 60 * 60
IMPORT_CACHE_PREFIX = "portfolios:import:"
IMPORT_PREVIEW_ROWS = 200
SKIPPED_SHOWN = 5  # row errors named in the message after an import that left rows out
FORMAT_LABELS = {"native": "Yieldledger", "koinly": "Koinly universal"}


def _import_key(token: str) -> str:
    return f"{IMPORT_CACHE_PREFIX}{token}"


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_import(request: HttpRequest, portfolio_id: int) -> HttpResponse:
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
        detected = fmt == "auto"
        if detected:
            fmt = detect_format(content)
            if fmt is None:
                first = ", ".join(header_of(content)[:8]) or "(empty)"
                form.add_error(
                    "format",
                    f"We could not tell the format from the first line ({first}). Choose the format: "
                    "“Which format?” below lists the columns each one needs.",
                )
                return render(request, "portfolios/import.html", context)
        try:
            preview = csv_import_preview(portfolio=portfolio, file=content, fmt=fmt)
        except SERVICE_ERRORS as exc:
            pf.apply_service_error(exc, form)
            return render(request, "portfolios/import.html", context)
        token = secrets.token_urlsafe(24)
        filename = cast(UploadedFile, request.FILES["file"]).name
        # The commit step reads the file from here, never from the client: the form
        # only carries this token, and the entry is bound to the user and portfolio.
        cache.set(
            _import_key(token),
            {
                "user_id": request.user.pk,
                "portfolio_id": portfolio.pk,
                "content": content,
                "format": fmt,
                "filename": filename,
            },
            IMPORT_CACHE_SECONDS,
        )
        context.update(
            preview=preview,
            token=token,
            filename=filename,
            fmt=fmt,
            fmt_label=FORMAT_LABELS[fmt],
            detected=detected,
            rows_shown=preview.rows[:IMPORT_PREVIEW_ROWS],
        )
    return render(request, "portfolios/import.html", context)


def _import_commit(request: HttpRequest, portfolio: Portfolio) -> HttpResponse:
    token = request.POST.get("token", "")
    key = _import_key(token)
    stored = cache.get(key) if token else None
    if not stored or stored["user_id"] != request.user.pk or stored["portfolio_id"] != portfolio.pk:
        messages.error(request, "This preview has expired or is not yours: upload the file again.")
        return redirect("portfolios:portfolio_import", portfolio_id=portfolio.pk)
    try:
        result = csv_import_commit(
            portfolio=portfolio,
            file=stored["content"],
            fmt=stored["format"],
            skip_errors=request.POST.get("skip_errors") == "1",
        )
    except SERVICE_ERRORS as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("portfolios:portfolio_import", portfolio_id=portfolio.pk)
    if result.errors:
        # Something changed since the preview (e.g. a position was deleted): nothing was written.
        preview = csv_import_preview(portfolio=portfolio, file=stored["content"], fmt=stored["format"])
        messages.error(request, "Nothing was imported: some rows have errors now. Fix them and upload again.")
        return render(
            request,
            "portfolios/import.html",
            {
                "portfolio": portfolio,
                "form": pf.ImportUploadForm(),
                "preview": preview,
                "token": token,
                "filename": stored["filename"],
                "fmt": stored["format"],
                "rows_shown": preview.rows[:IMPORT_PREVIEW_ROWS],
            },
        )
    cache.delete(key)
    messages.success(request, _import_message(result))
    return redirect("portfolios:portfolio_detail", portfolio_id=portfolio.pk)


def _import_message(result: ImportResult) -> str:
    created, duplicates = result.created, result.duplicates
    text = f"Imported {created} transaction{'s' if created != 1 else ''}."
    if duplicates:
        text += f" {duplicates} duplicate{'s' if duplicates != 1 else ''} skipped."
    if result.skipped:
        shown = "; ".join(
            f"row {e.row}{f' ({e.ref})' if e.ref else ''}: {e.field} {e.message}".strip()
            for e in result.skipped[:SKIPPED_SHOWN]
        )
        more = len(result.skipped) - SKIPPED_SHOWN
        text += (
            f" Left out as you asked, {len(result.skipped)} row error{'s' if len(result.skipped) != 1 else ''}: "
            f"{shown}{f'; and {more} more' if more > 0 else ''}. Fix those rows and import the file again to add them; "
            "what is already imported is skipped as a duplicate."
        )
    return text


@login_required
def portfolio_export(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    response = HttpResponse(csv_export(portfolio=portfolio), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in portfolio.name).strip("-") or "portfolio"
    response["Content-Disposition"] = f'attachment; filename="{safe}-transactions.csv"'
    return response
