"""The refreshes tell the alerts app what changed (pools never imports alerts), and the
daily digest is scheduled in beat."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from django_celery_beat.models import PeriodicTask

from pools.models import Pool
from pools.services.prices import prices_refresh
from pools.services.refresh import pools_refresh
from tests.alerts.test_worker import START, STETH, Source

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.mark.uses_cache
def test_a_pool_refresh_enqueues_an_evaluation_of_the_pools_that_changed(django_capture_on_commit_callbacks):
    source = Source()
    with patch("alerts.receivers.evaluate_alerts.delay_on_commit") as delay:
        source.refresh("2.12")
    first = delay.call_args.kwargs
    assert len(first["pool_ids"]) == Pool.objects.count() == 50  # all new
    assert first["rescored_all"] is True  # the day's first refresh rescored every pool
    with patch("alerts.receivers.evaluate_alerts.delay_on_commit") as delay:
        source.refresh("1.5")  # one pool's APY moves
    steth = Pool.objects.get(external_id=STETH).pk
    assert steth in delay.call_args.kwargs["pool_ids"]
    assert len(delay.call_args.kwargs["pool_ids"]) < 50


@pytest.mark.uses_cache
def test_an_unchanged_refresh_enqueues_nothing(django_capture_on_commit_callbacks):
    source = Source()
    source.refresh("2.12")

    class Same(Source):
        def fetch_pools(self):
            batch = super().fetch_pools()
            when = START + timedelta(hours=1)
            return replace(batch, records=tuple(replace(r, updated_at=when) for r in batch.records), fetched_at=when)

    same = Same()
    same.hour = source.hour  # the same observation time and data
    same.apy = D("2.12")
    with patch("alerts.receivers.evaluate_alerts.delay_on_commit") as delay:
        run = pools_refresh(source=same, use_lock=False)
    assert run.unchanged == 50
    delay.assert_not_called()


def test_a_price_refresh_enqueues_the_price_conditions_of_the_repriced_tokens(eth, usdc):
    eth.is_tracked = usdc.is_tracked = True
    eth.save()
    usdc.save()
    with patch("alerts.receivers.evaluate_alerts_for_tokens.delay_on_commit") as delay:
        prices_refresh(source_name="bundled", use_lock=False)
    assert set(delay.call_args.kwargs["token_ids"]) == {eth.pk, usdc.pk}


def test_the_daily_digest_is_scheduled():
    task = PeriodicTask.objects.get(name="alert-digests")
    assert task.task == "alerts.tasks.send_alert_digests"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "7")


def test_a_wallet_sync_enqueues_an_evaluation_of_its_portfolios_pools(django_capture_on_commit_callbacks):
    from portfolios.wallets.models import Chain, Wallet
    from portfolios.wallets.services.runner import wallet_sync_queue, wallet_sync_run
    from tests.portfolios.factories import PoolFactory, PortfolioFactory, PositionFactory

    Chain.objects.update(active=False)  # nothing to read: the run finishes at once, as after an empty sync
    portfolio = PortfolioFactory()
    held, other = PoolFactory(), PoolFactory()
    PositionFactory(portfolio=portfolio, pool=held)
    PositionFactory(portfolio=PortfolioFactory(), pool=other)  # someone else's pool is not re-checked
    wallet = Wallet.objects.create(portfolio=portfolio, address="0x" + "ab" * 20)
    run, _ = wallet_sync_queue(wallet=wallet)
    with patch("alerts.receivers.evaluate_alerts.delay_on_commit") as delay:
        finished = wallet_sync_run(sync_id=run.pk)
    assert finished is not None and finished.status == "done"
    delay.assert_called_once_with(pool_ids=[held.pk])
