"""Alerts in a real browser: star a pool from the explorer, set an alert, a refresh makes
it true, the navigation shows one unread alert, the notification centre marks it read.
Strict CSP: the pages run no inline script (any CSP violation is a console error)."""

from decimal import Decimal

import pytest

from alerts.services.evaluation import alerts_evaluate
from pools.models import Pool
from tests.factories import UserFactory
from tests.pools.factories import ChainFactory, PoolFactory, ProtocolFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_star_set_an_alert_and_read_the_notification(page, live_server, shot):
    UserFactory(email="watcher@example.com")
    pool = PoolFactory(chain=ChainFactory(), protocol=ProtocolFactory(slug="curve-dex", name="Curve DEX"),
                       symbol="USDC-USDT", apy=D("6"), apy_mean_30d=D("5.5"), tvl_usd=D("25000000"),
                       risk_score=22, risk_grade="B")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("watcher@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()

    page.goto("/pools/")
    page.get_by_role("button", name="Watch USDC-USDT").click()
    page.wait_for_url("**/pools/")
    assert page.get_by_role("button", name="Stop watching USDC-USDT").get_attribute("aria-pressed") == "true"

    page.goto("/portfolios/")
    assert page.get_by_role("heading", name="Watched pools").is_visible()
    assert page.get_by_test_id("watched-pool").count() == 1

    page.goto(f"/alerts/rules/?pool={pool.pk}")
    page.get_by_label("Condition").select_option("apy_below")
    page.get_by_label("Threshold").fill("5")
    page.get_by_role("button", name="Save alert").click()
    assert page.get_by_test_id("rule").count() == 1

    Pool.objects.filter(pk=pool.pk).update(apy=D("4.2"))
    assert alerts_evaluate(pool_ids=[pool.pk]).fired == 1
    page.goto("/alerts/watchlist/")
    assert page.get_by_test_id("alerts-unread").inner_text() == "1"
    page.get_by_role("link", name="Alerts, 1 unread").click()
    assert "fell below 5.00 %" in page.get_by_test_id("notification").inner_text()
    shot("alerts-notification-centre")
    page.get_by_role("button", name="Mark read").click()
    assert page.get_by_test_id("alerts-unread").count() == 0
    assert page.js_errors == []
