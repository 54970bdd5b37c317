"""Alert emails: immediate and digest per preference, one email per user, the signed
one-click unsubscribe (no login, only its own user), List-Unsubscribe headers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse

from alerts.models import AlertPreference, Notification
from alerts.services.emails import (
    alert_emails_send,
    preference_set,
    unsubscribe,
    unsubscribe_token,
    unsubscribe_user_id,
)
from alerts.services.evaluation import alerts_evaluate
from tests.alerts.conftest import NOW

pytestmark = pytest.mark.django_db
D = Decimal


def _note(user, n=1, **extra):
    return Notification.objects.create(user=user, condition="apy_below", episode=n, title=f"Alert {n}", body="b",
                                       created_at=extra.pop("created_at", NOW), **extra)


def test_an_immediate_email_lists_the_new_notifications_once(owner, mailoutbox):
    _note(owner, 1)
    _note(owner, 2)
    assert alert_emails_send(now=NOW) == 1
    assert alert_emails_send(now=NOW) == 0  # claimed: never twice
    (mail,) = mailoutbox
    assert mail.to == [owner.email]
    assert mail.subject == "[Yieldledger] 2 alerts"
    assert "Alert 1" in mail.body and "Alert 2" in mail.body
    assert "not advice" in mail.body
    token_url = mail.extra_headers["List-Unsubscribe"].strip("<>")
    assert token_url.endswith("/") and "/alerts/unsubscribe/" in token_url
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert token_url in mail.body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_daily_digest_users_get_nothing_immediately_and_one_digest(owner, stranger, mailoutbox):
    preference_set(user=owner, email="daily")
    _note(owner, 1)
    _note(stranger, 1)
    assert alert_emails_send(now=NOW) == 1  # the stranger (default: immediate)
    assert [m.to for m in mailoutbox] == [[stranger.email]]
    assert alert_emails_send(mode="daily", now=NOW) == 1
    assert mailoutbox[-1].to == [owner.email]
    assert "today" in mailoutbox[-1].subject


def test_users_who_turned_emails_off_get_none(owner, mailoutbox):
    preference_set(user=owner, email="off")
    _note(owner, 1)
    assert alert_emails_send(now=NOW) + alert_emails_send(mode="daily", now=NOW) == 0
    assert mailoutbox == []


def test_old_unsent_notifications_are_not_emailed(owner, mailoutbox):
    _note(owner, 1, created_at=NOW - timedelta(days=3))
    assert alert_emails_send(now=NOW) == 0


def test_an_unsubscribe_token_names_its_user_and_cannot_be_altered(owner, stranger):
    token = unsubscribe_token(user_id=owner.pk)
    assert unsubscribe_user_id(token) == owner.pk
    forged = signing.dumps({"u": stranger.pk}, salt="another.salt", compress=True)
    assert unsubscribe_user_id(forged) is None
    assert unsubscribe_user_id(token[:-2] + "xx") is None


def test_unsubscribe_works_without_login_and_only_for_its_own_user(client, owner, stranger):
    url = reverse("alerts:unsubscribe", args=[unsubscribe_token(user_id=owner.pk)])
    page = client.get(url)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert not AlertPreference.objects.exists()
    done = client.post(url)  # no session, no CSRF token: the signed token is the credential
    assert done.status_code == 200 and b"Done" in done.content
    assert AlertPreference.objects.get(user=owner).email == "off"
    assert not AlertPreference.objects.filter(user=stranger).exists()


def test_a_tampered_unsubscribe_link_is_refused(client, owner):
    token = unsubscribe_token(user_id=owner.pk)
    response = client.post(reverse("alerts:unsubscribe", args=[token[:-3] + "abc"]))
    assert response.status_code == 400
    assert not AlertPreference.objects.exists()


def test_choosing_emails_again_after_unsubscribing_clears_the_mark(owner):
    unsubscribe(token=unsubscribe_token(user_id=owner.pk))
    assert AlertPreference.objects.get(user=owner).unsubscribed_at is not None
    pref = preference_set(user=owner, email="immediate")
    assert pref.unsubscribed_at is None


def test_a_firing_emails_with_the_numbers_that_made_it_fire(amm_pool, make_rule, mailoutbox):
    make_rule(amm_pool, "apy_below", 15)  # APY 12
    alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW)
    assert alert_emails_send(now=NOW) == 1
    assert "12.00 %" in mailoutbox[0].body and "15.00 %" in mailoutbox[0].subject
