"""Pages: notification centre, watchlist (star buttons post here), rules, email
preferences, the signed unsubscribe (no login) and opportunities. Server-rendered, no script."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.forms import PreferenceForm, RuleForm
from alerts.models import AlertRule
from alerts.opportunities import opportunities_for_user
from alerts.selectors import (
    notification_list_for_user,
    preference_for_user,
    rule_conditions_for_position,
    rule_get_for_user,
    rule_list_for_user,
    watch_changes,
    watchlist_for_user,
)
from alerts.services.emails import preference_set, unsubscribe, unsubscribe_user_id
from alerts.services.notifications import notifications_mark_read
from alerts.services.rules import rule_create, rule_defaults_for, rule_delete, rule_update, rules_create_defaults
from alerts.services.watchlist import watch_add, watch_remove, watchlist_mark_seen
from pools.selectors import pool_get
from portfolios.selectors import position_get_for_user

PAGE_SIZE = 50


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


# --------------------------------------------------------------------------- notifications


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alerts/notifications.html", {"page": page, "notes": page.object_list})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    notifications_mark_read(user=request.user, ids=ids)
    return _back(request, reverse("alerts:notifications"))


# --------------------------------------------------------------------------- watchlist


@login_required
def watchlist(request: HttpRequest) -> HttpResponse:
    rows = [(w, watch_changes(w)) for w in watchlist_for_user(user=request.user)]
    return render(request, "alerts/watchlist.html", {"rows": rows})


@login_required
@require_POST
def watch_toggle(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = pool_get(pool_id=pool_id)
    if request.POST.get("action") == "remove":
        watch_remove(user=request.user, pool_id=pool.pk)
        messages.success(request, f"You no longer watch {pool.symbol}.")
    else:
        watch_add(user=request.user, pool=pool)
        messages.success(request, f"You now watch {pool.symbol}: changes show on your dashboard and watchlist.")
    return _back(request, reverse("pools:detail", args=[pool.pk]))


@login_required
@require_POST
def watch_form(request: HttpRequest) -> HttpResponse:
    """The explorer's table form: the pressed star button names the pool; it toggles."""
    raw = request.POST.get("pool", "")
    pool = pool_get(pool_id=int(raw)) if raw.isdigit() else None
    if pool is None:
        return _back(request, reverse("pools:explorer"))
    if watch_remove(user=request.user, pool_id=pool.pk):
        messages.success(request, f"You no longer watch {pool.symbol}.")
    else:
        watch_add(user=request.user, pool=pool)
        messages.success(request, f"You now watch {pool.symbol}.")
    return _back(request, reverse("pools:explorer"))


@login_required
@require_POST
def watchlist_seen(request: HttpRequest) -> HttpResponse:
    watchlist_mark_seen(user=request.user)
    return _back(request, reverse("alerts:watchlist"))


# --------------------------------------------------------------------------- rules


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, user=request.user, initial={"pool": request.GET.get("pool")})
    if request.method == "POST" and form.is_valid():
        try:
            rule_create(user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Alert saved.")
            return redirect("alerts:rules")
    rule_rows = rule_list_for_user(user=request.user)
    return render(request, "alerts/rules.html", {"form": form, "rules": rule_rows})


@login_required
@require_POST
def rule_action(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = rule_get_for_user(user=request.user, pk=rule_id)
    action = request.POST.get("action")
    if action == "delete":
        rule_delete(rule=rule)
        messages.success(request, "Alert deleted.")
    elif action in ("pause", "resume"):
        rule_update(rule=rule, is_paused=action == "pause")
    return _back(request, reverse("alerts:rules"))


@login_required
def position_defaults(request: HttpRequest, position_id: int) -> HttpResponse:
    """The alerts we suggest for a position (offered after it is added): tick and save."""
    position = position_get_for_user(user=request.user, position_id=position_id)
    defaults = rule_defaults_for(pool=position.pool, position=position) if position.pool is not None else []
    if request.method == "POST":
        made = rules_create_defaults(user=request.user, position=position, conditions=request.POST.getlist("condition"))
        messages.success(request, f"{len(made)} alert{'s' if len(made) != 1 else ''} set for this position.")
        return redirect("portfolios:position_detail", position.pk)
    existing = rule_conditions_for_position(user=request.user, position_id=position.pk)
    return render(request, "alerts/position_defaults.html", {
        "position": position, "defaults": defaults, "existing": existing,
        "labels": dict(AlertRule.Condition.choices)})


# --------------------------------------------------------------------------- emails


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST or None, initial={"email": preference_for_user(user=request.user)})
    if request.method == "POST" and form.is_valid():
        preference_set(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, "Alert email preference saved.")
        return redirect("alerts:preferences")
    return render(request, "alerts/preferences.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients post here without a session (RFC 8058)
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button (link scanners must not unsubscribe anyone);
    POST turns alert emails off for the token's user only. No login needed."""
    if unsubscribe_user_id(token) is None:
        return render(request, "alerts/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        done = unsubscribe(token=token) is not None
        return render(request, "alerts/unsubscribe.html", {"done": done, "invalid": not done},
                      status=200 if done else 400)
    return render(request, "alerts/unsubscribe.html", {"token": token})


# --------------------------------------------------------------------------- opportunities


@login_required
def opportunities(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show_all") == "true"
    report = opportunities_for_user(user=request.user, show_all=show_all)
    return render(request, "alerts/opportunities.html", {"report": report, "show_all": show_all})
