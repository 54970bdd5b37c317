"""The alerts API: CRUD, unread count, mark read, ordering and pagination, and
per-user isolation on every endpoint."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import AlertRule, Notification, WatchedPool
from alerts.services.rules import rule_create
from pools.models import Pool
from tests.alerts.conftest import NOW
from tests.portfolios.factories import PositionFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _note(user, n, **extra):
    return Notification.objects.create(user=user, condition="apy_below", episode=n, title=f"Alert {n}", body="",
                                       created_at=NOW + timedelta(minutes=n), **extra)


def test_watchlist_create_is_idempotent_and_lists_pool_metrics(owner_api, amm_pool):
    first = owner_api.post("/api/v1/watchlist/", {"pool": amm_pool.pk})
    again = owner_api.post("/api/v1/watchlist/", {"pool": amm_pool.pk})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    listed = owner_api.get("/api/v1/watchlist/").json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert row["pool"]["apy"] == "12.0000000000" and row["tvl_currency"] == "USD"
    assert owner_api.delete(f"/api/v1/watchlist/{row['id']}/").status_code == 204
    assert not WatchedPool.objects.exists()


def test_rule_crud_and_pause(owner_api, amm_pool):
    made = owner_api.post("/api/v1/alert-rules/", {"condition": "apy_below", "pool": amm_pool.pk, "threshold": "5"})
    assert made.status_code == 201, made.json()
    rule_id = made.json()["id"]
    assert made.json()["state"] == "armed"
    paused = owner_api.patch(f"/api/v1/alert-rules/{rule_id}/", {"is_paused": True})
    assert paused.json()["is_paused"] is True
    assert paused.json()["threshold"] == "5.0000000000"  # untouched
    changed = owner_api.patch(f"/api/v1/alert-rules/{rule_id}/", {"threshold": "7.5"})
    assert changed.json()["threshold"] == "7.5000000000"
    assert owner_api.delete(f"/api/v1/alert-rules/{rule_id}/").status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"condition": "apy_below"}, "threshold"),
    ({"condition": "out_of_range"}, "position"),
    ({"condition": "apy_below", "threshold": "-1"}, "threshold"),
    ({"condition": "sunshine", "threshold": "1"}, "condition"),
])
def test_bad_rules_get_a_clear_400(owner_api, amm_pool, payload, field):
    response = owner_api.post("/api/v1/alert-rules/", {"pool": amm_pool.pk, **payload})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not AlertRule.objects.exists()


def test_a_rule_on_someone_elses_position_is_refused(owner_api, stranger, v3_pool):
    theirs = PositionFactory(portfolio__owner=stranger, pool=v3_pool, kind="concentrated_lp", range_lower=D(1),
                             range_upper=D(2))
    response = owner_api.post("/api/v1/alert-rules/", {"condition": "out_of_range", "position": theirs.pk})
    assert response.status_code == 400 and "position" in response.json()["errors"]


def test_a_position_rule_watches_the_positions_pool(owner_api, portfolio, v3_pool):
    mine = PositionFactory(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", range_lower=D(1),
                           range_upper=D(2))
    response = owner_api.post("/api/v1/alert-rules/", {"condition": "near_edge", "position": mine.pk,
                                                       "threshold": "5"})
    assert response.status_code == 201, response.json()
    assert response.json()["pool"] == v3_pool.pk and response.json()["position"] == mine.pk


def test_notifications_unread_count_and_mark_read(owner_api, owner):
    notes = [_note(owner, n) for n in range(1, 4)]
    assert owner_api.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}
    assert owner_api.post(f"/api/v1/notifications/{notes[0].pk}/read/").json() == {"marked": 1}
    assert owner_api.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    unread = owner_api.get("/api/v1/notifications/?unread=true").json()
    assert [r["id"] for r in unread["results"]] == [notes[2].pk, notes[1].pk]
    assert owner_api.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert owner_api.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}


def test_notifications_order_newest_first_and_ordering_ascends(owner_api, owner):
    notes = [_note(owner, n) for n in range(1, 6)]
    newest_first = [r["id"] for r in owner_api.get("/api/v1/notifications/").json()["results"]]
    assert newest_first == [n.pk for n in reversed(notes)]
    ascending = [r["id"] for r in owner_api.get("/api/v1/notifications/?ordering=created_at").json()["results"]]
    assert ascending == [n.pk for n in notes]
    page = owner_api.get("/api/v1/notifications/?page_size=2&page=2").json()
    assert page["count"] == 5 and [r["id"] for r in page["results"]] == [notes[2].pk, notes[1].pk]


def test_preference_get_and_put(owner_api):
    assert owner_api.get("/api/v1/alert-preference/").json() == {"email": "immediate"}
    assert owner_api.put("/api/v1/alert-preference/", {"email": "daily"}).json() == {"email": "daily"}
    assert owner_api.put("/api/v1/alert-preference/", {"email": "hourly"}).status_code == 400


def test_lists_need_a_login(api_client):
    for url in ("/api/v1/watchlist/", "/api/v1/alert-rules/", "/api/v1/notifications/",
                "/api/v1/notifications/unread-count/", "/api/v1/opportunities/", "/api/v1/alert-preference/"):
        assert api_client.get(url).status_code in (401, 403), url


def test_no_endpoint_shows_or_changes_another_users_data(owner_api, stranger, amm_pool):
    watched = WatchedPool.objects.create(user=stranger, pool=amm_pool, seen_at=NOW)
    rule = rule_create(user=stranger, pool=amm_pool, condition="apy_below", threshold=D(5))
    note = _note(stranger, 1)
    for url in ("/api/v1/watchlist/", "/api/v1/alert-rules/", "/api/v1/notifications/"):
        assert owner_api.get(url).json()["count"] == 0, url
    assert owner_api.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert owner_api.get(f"/api/v1/alert-rules/{rule.pk}/").status_code == 404
    assert owner_api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"is_paused": True}).status_code == 404
    assert owner_api.delete(f"/api/v1/alert-rules/{rule.pk}/").status_code == 404
    assert owner_api.delete(f"/api/v1/watchlist/{watched.pk}/").status_code == 404
    assert owner_api.get(f"/api/v1/notifications/{note.pk}/").status_code == 404
    assert owner_api.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    assert owner_api.post("/api/v1/notifications/read-all/").json() == {"marked": 0}
    rule.refresh_from_db()
    note.refresh_from_db()
    assert not rule.is_paused and note.read_at is None and WatchedPool.objects.filter(pk=watched.pk).exists()


def test_notification_list_runs_constant_queries(owner_api, owner, django_assert_max_num_queries):
    for n in range(1, 30):
        _note(owner, n)
    with django_assert_max_num_queries(4):
        assert owner_api.get("/api/v1/notifications/").json()["count"] == 29


def test_suggested_alerts_for_a_position(owner_api, portfolio, v3_pool, stranger):
    mine = PositionFactory(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", range_lower=D(1),
                           range_upper=D(2))
    owner_api.post("/api/v1/alert-rules/", {"condition": "tvl_drop", "position": mine.pk, "threshold": "20"})
    body = owner_api.get(f"/api/v1/alert-rules/defaults/?position={mine.pk}").json()
    by_condition = {d["condition"]: d for d in body}
    assert {"apy_drop", "tvl_drop", "risk_worse", "out_of_range", "near_edge"} <= set(by_condition)
    assert by_condition["tvl_drop"]["already_set"] is True and by_condition["apy_drop"]["already_set"] is False
    assert by_condition["near_edge"]["threshold"] == "5.0000000000"
    assert "rewards_ended" not in by_condition  # v3_pool pays no reward APY
    theirs = PositionFactory(portfolio__owner=stranger, pool=v3_pool)
    assert owner_api.get(f"/api/v1/alert-rules/defaults/?position={theirs.pk}").status_code == 404
    assert owner_api.get("/api/v1/alert-rules/defaults/").status_code == 400


def test_watchlist_shows_what_changed_until_marked_seen(owner_api, amm_pool):
    owner_api.post("/api/v1/watchlist/", {"pool": amm_pool.pk})  # APY 12
    Pool.objects.filter(pk=amm_pool.pk).update(apy=D("9"))
    (row,) = owner_api.get("/api/v1/watchlist/?ordering=created_at").json()["results"]
    assert row["changes"] == [{"label": "APY", "before": "12.00 %", "after": "9.00 %", "direction": "down"}]
    assert owner_api.post("/api/v1/watchlist/seen/").json() == {"marked": 1}
    (row,) = owner_api.get("/api/v1/watchlist/").json()["results"]
    assert row["changes"] == [] and row["seen_apy"] == "9.0000000000"


@pytest.mark.parametrize("query", ["/api/v1/notifications/?unread=null", "/api/v1/notifications/?unread=1",
                                   "/api/v1/opportunities/?show_all=0", "/api/v1/opportunities/?show_all=yes"])
def test_a_flag_that_is_not_true_or_false_is_refused_not_read_as_false(owner_api, query):
    response = owner_api.get(query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == [query.split("?")[1].split("=")[0]]


def test_defaults_for_a_position_that_is_not_yours_is_404(owner_api):
    response = owner_api.get("/api/v1/alert-rules/defaults/?position=0")
    assert response.status_code == 404
