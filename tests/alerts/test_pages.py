"""The alerts pages: star from the explorer and the pool page, the watchlist on the
dashboard with what changed, the notification centre, the unread count in the
navigation, rules with their defaults, and per-user isolation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from alerts.context_processors import alerts as processor
from alerts.models import AlertRule, Notification, WatchedPool
from alerts.services.watchlist import watch_add
from pools.models import Pool
from tests.alerts.conftest import NOW
from tests.portfolios.factories import PositionFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _note(user, n=1, **extra):
    return Notification.objects.create(user=user, condition="apy_below", episode=n, title=f"Alert number {n}",
                                       body="body", created_at=NOW + timedelta(minutes=n), **extra)


def test_starring_from_the_pool_page_and_unstarring(owner_client, owner, amm_pool):
    page = owner_client.get(reverse("pools:detail", args=[amm_pool.pk]))
    assert b"\xe2\x98\x86 Watch" in page.content  # ☆
    response = owner_client.post(reverse("alerts:watch_toggle", args=[amm_pool.pk]),
                                 {"action": "add", "next": f"/pools/{amm_pool.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/pools/{amm_pool.pk}/"
    assert WatchedPool.objects.filter(user=owner, pool=amm_pool).exists()
    assert b"\xe2\x98\x85 Watching" in owner_client.get(f"/pools/{amm_pool.pk}/").content  # ★
    owner_client.post(reverse("alerts:watch_toggle", args=[amm_pool.pk]), {"action": "remove"})
    assert not WatchedPool.objects.exists()


def test_starring_from_the_explorer_toggles_the_pressed_pool(owner_client, owner, amm_pool, v3_pool):
    page = owner_client.get("/pools/")
    assert page.content.count(b'name="pool" value=') == 2
    owner_client.post(reverse("alerts:watch_form"), {"pool": v3_pool.pk, "next": "/pools/?chain=ethereum"})
    assert list(WatchedPool.objects.values_list("pool_id", flat=True)) == [v3_pool.pk]
    assert b'aria-pressed="true"' in owner_client.get("/pools/").content
    owner_client.post(reverse("alerts:watch_form"), {"pool": v3_pool.pk})
    assert not WatchedPool.objects.exists()


def test_an_offsite_next_is_not_followed(owner_client, amm_pool):
    response = owner_client.post(reverse("alerts:watch_toggle", args=[amm_pool.pk]), {"next": "https://evil.test/"})
    assert response["Location"] == f"/pools/{amm_pool.pk}/"


def test_anonymous_visitors_see_no_star_and_cannot_post(client, amm_pool):
    assert b"Watch" not in client.get(f"/pools/{amm_pool.pk}/").content
    response = client.post(reverse("alerts:watch_toggle", args=[amm_pool.pk]))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_dashboard_shows_watched_pools_and_what_changed_since_the_last_look(owner_client, owner, amm_pool):
    watch_add(user=owner, pool=amm_pool)  # APY 12, TVL 1,000,000
    Pool.objects.filter(pk=amm_pool.pk).update(apy=D("9.5"), tvl_usd=D("1004000"), risk_grade="C")
    page = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "Watched pools" in page
    assert "APY 12.00 % → 9.50 %" in page
    assert "TVL 1,000,000 USD →" not in page  # a 0.4 % move is below the 1 % we call a change
    assert "Risk grade – → C" in page
    owner_client.post(reverse("alerts:watchlist_seen"))
    page = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "no change" in page and "→ 9.50 %" not in page


def test_the_navigation_shows_the_unread_count_in_one_query(owner_client, owner, django_assert_num_queries):
    for n in range(1, 4):
        _note(owner, n)
    _note(owner, 9, read_at=NOW)
    page = owner_client.get(reverse("alerts:watchlist")).content.decode()
    assert 'data-testid="alerts-unread">3<' in page
    class Req:
        user = owner

    context = processor(Req())
    with django_assert_num_queries(1):
        assert int(str(context["alerts_unread"])) == 3


def test_the_notification_centre_marks_one_or_all_read(owner_client, owner, stranger):
    mine = [_note(owner, n) for n in (1, 2)]
    theirs = _note(stranger, 1)
    page = owner_client.get(reverse("alerts:notifications")).content.decode()
    assert "Alert number 1" in page and "Alert number 2" in page
    assert page.count('data-testid="notification"') == 2  # never the stranger's
    owner_client.post(reverse("alerts:notifications_read"), {"id": [mine[0].pk, theirs.pk]})
    assert Notification.objects.filter(read_at__isnull=False).count() == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    owner_client.post(reverse("alerts:notifications_read"), {"all": "1"})
    assert Notification.objects.filter(user=owner, read_at__isnull=True).count() == 0


def test_rules_page_creates_pauses_and_deletes(owner_client, owner, amm_pool):
    response = owner_client.post(reverse("alerts:rules"), {"condition": "apy_below", "threshold": "4",
                                                          "pool": amm_pool.pk})
    assert response.status_code == 302
    rule = AlertRule.objects.get(user=owner)
    assert rule.threshold == D(4)
    owner_client.post(reverse("alerts:rule_action", args=[rule.pk]), {"action": "pause"})
    rule.refresh_from_db()
    assert rule.is_paused
    assert "paused" in owner_client.get(reverse("alerts:rules")).content.decode()
    owner_client.post(reverse("alerts:rule_action", args=[rule.pk]), {"action": "delete"})
    assert not AlertRule.objects.exists()


def test_rules_page_explains_a_missing_threshold(owner_client, amm_pool):
    response = owner_client.post(reverse("alerts:rules"), {"condition": "tvl_drop", "pool": amm_pool.pk})
    assert response.status_code == 200
    assert "This alert needs a threshold." in response.content.decode()
    assert not AlertRule.objects.exists()


def test_another_users_rule_answers_404(owner_client, stranger, amm_pool):
    rule = AlertRule.objects.create(user=stranger, pool=amm_pool, condition="apy_below", threshold=D(1))
    assert owner_client.post(reverse("alerts:rule_action", args=[rule.pk]), {"action": "delete"}).status_code == 404
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_a_new_position_is_offered_default_alerts(owner_client, owner, portfolio, v3_pool):
    position = PositionFactory(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", range_lower=D(2000),
                               range_upper=D(4000))
    detail = owner_client.get(reverse("portfolios:position_detail", args=[position.pk])).content.decode()
    assert reverse("alerts:position_defaults", args=[position.pk]) in detail
    offer = owner_client.get(reverse("alerts:position_defaults", args=[position.pk])).content.decode()
    assert "Concentrated position out of range" in offer and "TVL down X % in 24 hours" in offer
    owner_client.post(reverse("alerts:position_defaults", args=[position.pk]),
                      {"condition": ["out_of_range", "tvl_drop", "near_edge"]})
    rules = {r.condition: r for r in AlertRule.objects.filter(user=owner, position=position)}
    assert set(rules) == {"out_of_range", "tvl_drop", "near_edge"}
    assert rules["tvl_drop"].threshold == D(20) and rules["near_edge"].threshold == D(5)
    assert all(r.pool_id == v3_pool.pk for r in rules.values())


def test_someone_elses_position_has_no_defaults_page(owner_client, stranger, v3_pool):
    theirs = PositionFactory(portfolio__owner=stranger, pool=v3_pool)
    assert owner_client.get(reverse("alerts:position_defaults", args=[theirs.pk])).status_code == 404
    assert owner_client.post(reverse("alerts:position_defaults", args=[theirs.pk]),
                             {"condition": ["tvl_drop"]}).status_code == 404
    assert not AlertRule.objects.exists()


def test_email_preferences_page(owner_client, owner):
    owner_client.post(reverse("alerts:preferences"), {"email": "daily"})
    assert owner.alert_preference.email == "daily"


def test_pages_need_a_login(client):
    for name in ("notifications", "watchlist", "rules", "preferences", "opportunities"):
        response = client.get(reverse(f"alerts:{name}"))
        assert response.status_code == 302 and "/login" in response["Location"], name
