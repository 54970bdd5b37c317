"""End to end on a real Celery worker through Redis: a pool refresh with changed data
notifies once and emails once; the next refresh with the condition still true adds
nothing; when it clears and comes back, a new notification and email."""

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.tasks import ping
from django.core import mail

from alerts.models import AlertRule, Notification
from alerts.services.rules import rule_create
from pools.models import Pool
from pools.services.refresh import pools_refresh
from pools.sources import PoolBatch
from tests.pools.conftest import fixture_items, records_from

D = Decimal
STETH = "57d30b9c-fc66-4ac2-b666-69ad5f410cce"  # ETH-STETH, APY 2.12 in the recorded payload
START = datetime(2026, 3, 10, 9, tzinfo=UTC)


class Source:
    """The recorded DeFiLlama pools, observed at a given time, with ETH-STETH's APY set."""

    name = "test"

    def __init__(self) -> None:
        self.records = records_from(fixture_items())
        self.hour = 0

    def refresh(self, apy: str) -> None:
        self.hour += 1
        self.apy = D(apy)
        run = pools_refresh(source=self, use_lock=False)
        assert run.status == "succeeded"

    def fetch_pools(self) -> PoolBatch:
        when = START + timedelta(hours=self.hour)
        records = [replace(r, updated_at=when, apy=self.apy, apy_base=self.apy) if r.pool_id == STETH
                   else replace(r, updated_at=when) for r in self.records]
        return PoolBatch(tuple(records), (), when, source="test")


def _drain() -> None:
    """Wait until the worker has run everything queued so far, and what that queued in
    turn (an evaluation queues its emails): the solo worker runs tasks in order."""
    for _ in range(2):
        assert ping.delay().get(timeout=30) == "pong"


def _wait_for(check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_refresh_notifies_and_emails_once_per_episode_on_a_real_worker(real_worker, owner):
    mail.outbox = []
    source = Source()
    source.refresh("2.12")
    pool = Pool.objects.get(external_id=STETH)
    assert pool.apy == D("2.12")
    rule = rule_create(user=owner, pool=pool, condition="apy_below", threshold=D(2))
    _drain()

    source.refresh("1.8")  # changed data: the condition becomes true
    _wait_for(lambda: len(mail.outbox) == 1)
    _drain()
    assert Notification.objects.filter(user=owner).count() == 1
    assert "1.80 %" in mail.outbox[0].body and mail.outbox[0].to == [owner.email]

    source.refresh("1.7")  # still true: nothing new
    _drain()
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1

    source.refresh("2.3")  # clears: re-armed, silent
    _drain()
    assert AlertRule.objects.get(pk=rule.pk).state == "armed"
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1

    source.refresh("1.9")  # true again: a new episode
    _wait_for(lambda: len(mail.outbox) == 2)
    _drain()
    assert list(Notification.objects.order_by("episode").values_list("episode", flat=True)) == [1, 2]
    assert "1.90 %" in mail.outbox[1].body
    assert len(mail.outbox) == 2
