"""The FX task (eager and on a real worker), its beat schedule, the FxRate admin and
``manage.py fx_load``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from django.urls import reverse

from pools.models import FxRate, RefreshRun
from pools.services.fx import fx_history_load
from pools.sources import SourceError
from pools.sources.ecb import EcbSource
from pools.tasks import refresh_fx_rates
from tests.factories import UserFactory
from tests.pools.sources._support import ScriptedTransport

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAILY_0315 = (FIXTURES / "eurofxref-daily-2024-03-15.xml").read_bytes()
D = Decimal


def source_replying(*replies) -> EcbSource:
    return EcbSource(client=ScriptedTransport(*replies).client(), retries=0, sleep=lambda _s: None)


def daily() -> httpx.Response:
    return httpx.Response(200, content=DAILY_0315, headers={"Content-Type": "text/xml"})


@pytest.fixture
def until_thursday(db):
    return fx_history_load(since=date(2024, 3, 1), until=date(2024, 3, 14))


# --------------------------------------------------------------------------- task and schedule
def test_the_task_stores_the_days_rates(until_thursday):
    with patch("pools.services.fx.ecb_source", return_value=source_replying(daily())):
        result = refresh_fx_rates.delay().get()
    assert result["status"] == "succeeded" and result["created"] == 30 and result["rejected"] == 0
    assert RefreshRun.objects.get(pk=result["run_id"]).kind == "fx"
    assert FxRate.objects.get(currency="USD", day=date(2024, 3, 15)).rate == D("1.0892")


def test_the_task_retries_with_backoff_when_the_ecb_fails(until_thursday):
    failing = source_replying(httpx.ReadTimeout("slow"))
    with (
        patch("pools.services.fx.ecb_source", return_value=failing),
        patch.object(refresh_fx_rates, "retry", side_effect=lambda **kw: Retry("again", exc=kw["exc"])) as retry,
    ):
        with pytest.raises(Retry):
            refresh_fx_rates.run()
    assert isinstance(retry.call_args.kwargs["exc"], SourceError)
    assert retry.call_args.kwargs["countdown"] >= 0 and refresh_fx_rates.max_retries == 5
    assert RefreshRun.objects.get(kind="fx", source="ecb").status == "failed"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the migrations' seeded rows for others
def test_the_task_runs_on_a_real_worker_through_redis(real_worker):
    fx_history_load(since=date(2024, 3, 1), until=date(2024, 3, 14), currencies=["USD", "GBP"])
    with patch("pools.services.fx.ecb_source", return_value=source_replying(daily())):
        payload = refresh_fx_rates.delay().get(timeout=60)
    assert payload["status"] == "succeeded" and payload["created"] == 30
    assert FxRate.objects.filter(day=date(2024, 3, 15)).count() == 30


def test_the_beat_schedule_is_seeded(db):
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    task = PeriodicTask.objects.get(name="refresh-fx-rates")
    assert task.task == "pools.tasks.refresh_fx_rates" and task.task in app.tasks
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "15,17", "1-5")
    assert str(task.crontab.timezone) == "UTC" and "ECB" in task.description


# --------------------------------------------------------------------------- admin
@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_rates_and_shows_one_read_only(staff_client, until_thursday):
    assert staff_client.get(reverse("admin:pools_fxrate_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:pools_fxrate_changelist"), {"currency": "GBP"}).status_code == 200
    rate = FxRate.objects.get(currency="GBP", day=date(2024, 3, 14))
    page = staff_client.get(reverse("admin:pools_fxrate_change", args=[rate.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    staff_client.post(reverse("admin:pools_fxrate_change", args=[rate.pk]), {"rate": "9.99"})
    assert FxRate.objects.get(pk=rate.pk).rate == D("0.8542")
    assert staff_client.get(reverse("admin:pools_fxrate_delete", args=[rate.pk])).status_code == 403
    assert staff_client.get(reverse("admin:pools_refreshrun_changelist"), {"kind": "fx"}).status_code == 200


def test_staff_may_add_a_missing_rate_by_hand(staff_client, until_thursday):
    response = staff_client.post(
        reverse("admin:pools_fxrate_add"), {"currency": "gbp", "day": "2024-03-15", "rate": "0.85410"}
    )
    assert response.status_code == 302
    added = FxRate.objects.get(currency="GBP", day=date(2024, 3, 15))
    assert (added.rate, added.source) == (D("0.8541"), "manual") and added.fetched_at is not None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"currency": "EUR", "day": "2024-03-15", "rate": "1"}, b"Not a currency the ECB publishes"),
        ({"currency": "XAU", "day": "2024-03-15", "rate": "1"}, b"Not a currency the ECB publishes"),
        ({"currency": "GBP", "day": "2024-03-14", "rate": "0.85"}, b"already exists"),
        ({"currency": "GBP", "day": "2024-03-15", "rate": "0.8541234"}, b"decimal places"),
        ({"currency": "GBP", "day": "2024-03-15", "rate": "-1"}, b"A rate must be positive."),
    ],
)
def test_the_admin_refuses_bad_rates(staff_client, until_thursday, data, error):
    count = FxRate.objects.count()
    response = staff_client.post(reverse("admin:pools_fxrate_add"), data)
    assert response.status_code == 200 and error in response.content
    assert FxRate.objects.count() == count


# --------------------------------------------------------------------------- command
def test_fx_load_reports_what_it_did_and_is_idempotent(db):
    out = StringIO()
    call_command("fx_load", since=date(2024, 3, 11), until=date(2024, 3, 15), currencies="USD,GBP", stdout=out)
    assert "10 rates inserted on 5 days, 0 already stored, 0 rejected" in out.getvalue()
    again = StringIO()
    call_command("fx_load", "--since", "2024-03-11", "--until", "2024-03-15", "--currencies", "USD,GBP", stdout=again)
    assert "0 rates inserted on 0 days, 10 already stored" in again.getvalue()
    assert FxRate.objects.count() == 10


def test_fx_load_fetch_runs_the_refresh_once(until_thursday):
    out = StringIO()
    with patch("pools.services.fx.ecb_source", return_value=source_replying(daily())):
        call_command("fx_load", "--since", "2024-03-14", "--until", "2024-03-14", "--fetch", stdout=out)
    assert "ECB fetch 2024-03-15 .. 2024-03-15: 30 new, 0 unchanged, 0 rejected" in out.getvalue()


def test_fx_load_errors_are_clear(db, tmp_path):
    with pytest.raises(CommandError, match="could not read the ECB history"):
        call_command("fx_load", "--file", str(tmp_path / "missing.zip"))
    with pytest.raises(CommandError, match="not a date"):
        call_command("fx_load", "--since", "15/03/2024")
    with (
        patch("pools.services.fx.ecb_source", return_value=source_replying(httpx.Response(503))),
        pytest.raises(CommandError, match="ECB fetch failed"),
    ):
        call_command("fx_load", "--since", "2024-03-14", "--until", "2024-03-14", "--fetch", stdout=StringIO())
