"""The bulk evaluation: once per episode, re-arming, each condition against the stored
data, constant queries per chunk, and the hook on the pools refresh."""

from datetime import timedelta
from decimal import Decimal
from typing import cast
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from alerts.models import AlertRule, Notification
from alerts.services.evaluation import alerts_evaluate
from alerts.tasks import evaluate_alerts
from pools.models import Pool
from pools.signals import pools_refreshed, prices_refreshed
from portfolios.models import Position
from tests.alerts.conftest import NOW
from tests.factories import UserFactory
from tests.portfolios.factories import PoolFactory, PoolSnapshotFactory, PortfolioFactory, PositionFactory

pytestmark = pytest.mark.django_db
D = Decimal
#: Queries per chunk at most: lock, asynchronous commit, rules, pools, 7-day means, yesterday's TVL,
#: token prices, the state update (temporary table + UPDATE) and the notification insert (temporary
#: table + INSERT), with the savepoint pair of the test's own transaction.
PER_CHUNK = 13


def _set(pool: Pool, **fields) -> None:
    Pool.objects.filter(pk=pool.pk).update(**fields)


def test_a_rule_fires_once_per_episode_and_rearms_when_it_clears(amm_pool, make_rule, owner):
    rule = make_rule(amm_pool, "apy_below", 10)  # amm_pool APY is 12
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 0

    _set(amm_pool, apy=D(8))
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 1
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 0  # still true: same episode
    assert Notification.objects.filter(user=owner).count() == 1

    _set(amm_pool, apy=D(11))
    result = alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW)
    assert (result.fired, result.cleared) == (0, 1)
    rule.refresh_from_db()
    assert rule.state == "armed"

    _set(amm_pool, apy=D(9))
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 1
    notes = list(Notification.objects.filter(user=owner).order_by("episode"))
    assert [n.episode for n in notes] == [1, 2]
    assert "9.00 %" in notes[1].body and "10.00 %" in notes[1].title
    rule.refresh_from_db()
    assert (rule.state, rule.episode, rule.last_fired_at) == ("firing", 2, NOW)


def test_a_paused_rule_never_fires(amm_pool, make_rule):
    make_rule(amm_pool, "apy_below", 50, is_paused=True)
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).rules == 0
    assert not Notification.objects.exists()


def test_only_the_changed_pools_are_evaluated(amm_pool, v3_pool, make_rule):
    make_rule(amm_pool, "apy_below", 50)
    make_rule(v3_pool, "apy_below", 50)
    result = alerts_evaluate(pool_ids=[v3_pool.pk], now=NOW)
    assert (result.rules, result.fired) == (1, 1)
    assert list(Notification.objects.values_list("pool_id", flat=True)) == [v3_pool.pk]


def test_apy_drop_against_the_mean_of_the_last_7_daily_apys(amm_pool, make_rule):
    today = NOW.date()
    for i, apy in enumerate(["10", "10", "10", "10", "10", "10", "4"]):  # days today-6 .. today
        PoolSnapshotFactory(pool=amm_pool, day=today - timedelta(days=6 - i), apy=D(apy))
    PoolSnapshotFactory(pool=amm_pool, day=today - timedelta(days=7), apy=D(1000))  # outside the window
    # Mean = (6 * 10 + 4) / 7 = 9.142857; APY now 6: (9.142857 - 6) / 9.142857 = 34.4 % below.
    _set(amm_pool, apy=D(6))
    make_rule(amm_pool, "apy_drop", 34)
    make_rule(amm_pool, "apy_drop", 35)
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 1
    assert Notification.objects.get().rule.threshold == D(34)


def test_tvl_drop_against_yesterdays_snapshot(amm_pool, make_rule):
    PoolSnapshotFactory(pool=amm_pool, day=NOW.date() - timedelta(days=1), tvl_usd=D(1_250_000))
    make_rule(amm_pool, "tvl_drop", 20)  # 1,000,000 now: exactly 20 % below
    make_rule(amm_pool, "tvl_drop", 21)
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 1


def test_depeg_and_range_rules_use_the_stored_token_prices(owner, v3_pool, usdc, eth, portfolio, make_rule):
    # v3_pool lists [USDC, WETH]; WETH 3000, USDC 1: 3000 USDC per WETH.
    position = PositionFactory(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", range_lower=D(3100),
                               range_upper=D(4000))
    make_rule(v3_pool, "out_of_range", position=position)
    make_rule(v3_pool, "depeg", 2)
    assert alerts_evaluate(pool_ids=[v3_pool.pk], now=NOW).fired == 1  # out of range; USDC on peg
    usdc.last_price_usd = D("0.97")
    usdc.save()
    # 0.97: 3 % off the peg; WETH now 2910 USDC per WETH: still out of range (no second firing).
    assert alerts_evaluate(token_ids=[usdc.pk], conditions=["depeg", "out_of_range"], now=NOW).fired == 1
    assert sorted(Notification.objects.values_list("condition", flat=True)) == ["depeg", "out_of_range"]


def test_a_closed_position_keeps_its_rules_silent(v3_pool, portfolio, make_rule):
    position = PositionFactory(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", range_lower=D(3100),
                               range_upper=D(4000), closed_at=NOW)
    make_rule(v3_pool, "out_of_range", position=position)
    assert alerts_evaluate(pool_ids=[v3_pool.pk], now=NOW).fired == 0


def test_risk_worse_and_rewards_ended(amm_pool, make_rule):
    make_rule(amm_pool, "risk_worse", baseline_grade="B")
    make_rule(amm_pool, "rewards_ended", baseline_reward=D(2))
    _set(amm_pool, risk_grade="B", apy_reward=D("0.5"))
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 0
    _set(amm_pool, risk_grade="D", apy_reward=D(0))
    assert alerts_evaluate(pool_ids=[amm_pool.pk], now=NOW).fired == 2


def _rules_for(n_pools: int, per_pool: int) -> list[int]:
    users = [cast(User, UserFactory()) for _ in range(3)]
    ids = []
    for i in range(n_pools):
        pool = cast(Pool, PoolFactory(apy=D(3), risk_grade="C"))
        ids.append(pool.pk)
        PoolSnapshotFactory(pool=pool, day=NOW.date() - timedelta(days=1), tvl_usd=D(2_000_000))
        portfolio = PortfolioFactory(owner=users[i % 3])
        position = cast(Position, PositionFactory(portfolio=portfolio, pool=pool, kind="concentrated_lp",
                                                  range_lower=D(1), range_upper=D(2)))
        conditions = ["apy_below", "apy_drop", "tvl_drop", "out_of_range", "depeg", "risk_worse"]
        for j in range(per_pool):
            c = conditions[j % len(conditions)]
            AlertRule.objects.create(user=users[i % 3], pool=pool, condition=c, threshold=D(5),
                                     position=position if c == "out_of_range" else None, baseline_grade="A")
    return ids


def test_each_chunk_runs_a_constant_number_of_queries():
    small = _rules_for(2, 6)
    with CaptureQueriesContext(connection) as one:
        alerts_evaluate(pool_ids=small, now=NOW, chunk_size=100)
    Notification.objects.all().delete()
    AlertRule.objects.update(state="armed")
    big = _rules_for(12, 30)
    with CaptureQueriesContext(connection) as many:
        result = alerts_evaluate(pool_ids=big, now=NOW, chunk_size=100)
    assert result.rules == 360 and result.chunks == 1
    # Per pool, 5 rules of each condition: APY 3 < 5; 3 vs a 7-day mean of 5 (-40 %); TVL -50 %;
    # no token prices (range, peg unknown: silent); grade C worse than A.
    assert result.fired == 12 * (5 + 5 + 5 + 0 + 0 + 5)
    assert len(many.captured_queries) == len(one.captured_queries) <= 1 + PER_CHUNK


def test_chunks_add_queries_per_chunk_not_per_rule():
    ids = _rules_for(6, 12)
    with CaptureQueriesContext(connection) as ctx:
        result = alerts_evaluate(pool_ids=ids, now=NOW, chunk_size=2)
    assert result.chunks == 3
    assert len(ctx.captured_queries) <= 1 + 3 * PER_CHUNK


def test_the_pools_refresh_signal_enqueues_an_evaluation_on_commit(django_capture_on_commit_callbacks):
    with patch("alerts.receivers.evaluate_alerts.delay_on_commit") as delay:
        pools_refreshed.send(sender=Pool, pool_ids=[1, 2], rescored_all=False)
    delay.assert_called_once_with(pool_ids=[1, 2], rescored_all=False)
    with patch("alerts.receivers.evaluate_alerts_for_tokens.delay_on_commit") as delay:
        prices_refreshed.send(sender=Pool, token_ids=[7])
    delay.assert_called_once_with(token_ids=[7])


def test_the_evaluation_task_runs_after_a_refresh_and_emails(amm_pool, make_rule, mailoutbox):
    """In process (eager): the signal's task evaluates, and the immediate email goes out."""
    make_rule(amm_pool, "apy_below", 50)
    evaluate_alerts(pool_ids=[amm_pool.pk])
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1
