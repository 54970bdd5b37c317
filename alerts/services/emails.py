"""Alert emails (immediate or a daily digest, per user), preferences and the signed unsubscribe.

Each email lists the user's notifications not emailed yet (at most ``EMAIL_MAX_AGE``
old) and ends with a one-click unsubscribe link: a token signed with
``django.core.signing`` that names the user, valid without login and only for that
user; the ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers carry it for
mail clients (RFC 8058). Notifications are claimed with a conditional UPDATE
before sending, so two senders never email the same row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertPreference, Notification

UNSUBSCRIBE_SALT = "alerts.unsubscribe"
#: A notification that waited longer than this for an email (emails were off) stays in the app only.
EMAIL_MAX_AGE = timedelta(hours=48)


def site_url() -> str:
    return str(getattr(settings, "ALERTS_SITE_URL", "http://127.0.0.1:8000")).rstrip("/")


def unsubscribe_token(*, user_id: int) -> str:
    return signing.dumps({"u": user_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_user_id(token: str) -> int | None:
    """The user a token was made for, or None if it is not one of ours (or was altered)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) else None


def unsubscribe_url(*, user_id: int) -> str:
    return site_url() + reverse("alerts:unsubscribe", args=[unsubscribe_token(user_id=user_id)])


def preference_set(*, user: Any, email: str) -> AlertPreference:
    if email not in AlertPreference.Email.values:
        raise ValueError(f"unknown email preference {email!r}")
    pref, _ = AlertPreference.objects.update_or_create(
        user=user, defaults={"email": email, **({"unsubscribed_at": None} if email != "off" else {})})
    return pref


def unsubscribe(*, token: str) -> int | None:
    """Turn alert emails off for the token's user. Returns the user id, or None for a bad token."""
    user_id = unsubscribe_user_id(token)
    if user_id is None or not get_user_model().objects.filter(pk=user_id).exists():
        return None
    AlertPreference.objects.update_or_create(
        user_id=user_id, defaults={"email": AlertPreference.Email.OFF, "unsubscribed_at": timezone.now()})
    return user_id


def _mode_filter(mode: str) -> Q:
    if mode == AlertPreference.Email.IMMEDIATE:  # no preference row = immediate
        return Q(user__alert_preference__isnull=True) | Q(user__alert_preference__email=mode)
    return Q(user__alert_preference__email=mode)


def alert_emails_send(*, mode: str = AlertPreference.Email.IMMEDIATE, now: datetime | None = None) -> int:
    """Email each user in ``mode`` (immediate or daily) their notifications not emailed yet.
    One email per user. Returns the number of emails sent."""
    now = now or timezone.now()
    pending = (Notification.objects.filter(_mode_filter(mode), emailed_at__isnull=True,
                                           created_at__gte=now - EMAIL_MAX_AGE)
               .order_by("user_id", "created_at", "id").values_list("user_id", "id"))
    by_user: dict[int, list[int]] = defaultdict(list)
    for user_id, note_id in pending:
        by_user[user_id].append(note_id)
    if not by_user:
        return 0
    users = get_user_model().objects.in_bulk(list(by_user))
    sent = 0
    for user_id, ids in by_user.items():
        user = users.get(user_id)
        if user is None or not user.email:
            continue
        # Claim: only rows still unsent are ours; a concurrent sender gets the rest (or none).
        claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)
        if not claimed:
            continue
        notes = list(Notification.objects.filter(pk__in=ids, emailed_at=now).order_by("created_at", "id"))
        try:
            _send(user=user, notes=notes, digest=mode == AlertPreference.Email.DAILY)
        except Exception:
            Notification.objects.filter(pk__in=[n.pk for n in notes]).update(emailed_at=None)
            raise
        sent += 1
    return sent


def _send(*, user: Any, notes: list[Notification], digest: bool) -> None:
    unsubscribe = unsubscribe_url(user_id=user.pk)
    if len(notes) == 1 and not digest:
        subject = notes[0].title
    else:
        subject = f"{len(notes)} alert{'s' if len(notes) != 1 else ''}" + (" today" if digest else "")
    context = {"user": user, "notes": notes, "digest": digest, "unsubscribe_url": unsubscribe,
               "site_url": site_url(), "notifications_url": site_url() + reverse("alerts:notifications"),
               "settings_url": site_url() + reverse("alerts:preferences")}
    message = EmailMultiAlternatives(
        subject=f"[Yieldledger] {subject}"[:200],
        body=render_to_string("alerts/email.txt", context),
        to=[user.email],
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string("alerts/email.html", context), "text/html")
    message.send()
