"""pools.services.fx: loading the bundled ECB history (COPY on PostgreSQL,
idempotent) and the guarded daily refresh (recorded payloads through
httpx.MockTransport; failures recorded, last good rates kept)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.db import connection

from pools.fx import FxRejectReason
from pools.locking import lock_key
from pools.models import FxRate, RefreshRun
from pools.selectors_fx import fx_rate_on
from pools.services.fx import ecb_published_at, fx_history_load, fx_refresh
from pools.sources import IncompletePayloadError, SourceError
from pools.sources.ecb import EcbSource, bundled_history
from tests.pools.services.test_refresh import _second_connection
from tests.pools.sources._support import ScriptedTransport

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAILY_0315 = (FIXTURES / "eurofxref-daily-2024-03-15.xml").read_bytes()
DAILY_0318 = (FIXTURES / "eurofxref-daily-2024-03-18.xml").read_bytes()
HIST_90D = (FIXTURES / "eurofxref-hist-90d-2024-03-15.xml").read_bytes()
TODAY = date(2024, 3, 18)
NOW = datetime(2024, 3, 18, 15, 30, tzinfo=UTC)
D = Decimal


def xml(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": "text/xml"})


def ecb(*replies) -> tuple[EcbSource, ScriptedTransport]:
    transport = ScriptedTransport(*replies)
    return EcbSource(client=transport.client(), retries=1, sleep=lambda _s: None), transport


def stored(currency: str, day: date) -> Decimal | None:
    return FxRate.objects.filter(currency=currency, day=day).values_list("rate", flat=True).first()


def row_versions() -> dict[int, str]:
    """PostgreSQL's xmin per rate row: it changes whenever a row is rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM pools_fxrate")
        return dict(cursor.fetchall())


# --------------------------------------------------------------------------- history load
def test_history_load_writes_every_published_rate_once():
    expected = bundled_history(since=date(2024, 1, 1), until=date(2024, 3, 31)).quotes
    run = fx_history_load(since=date(2024, 1, 1), until=date(2024, 3, 31))
    assert run.pk and run.kind == RefreshRun.Kind.FX and run.status == RefreshRun.Status.SUCCEEDED
    assert run.source == "ecb_history" and run.created == len(expected) == FxRate.objects.count()
    # 22 + 21 + 20 business days: 1 January and Good Friday (29 March) are TARGET holidays.
    assert run.detail["last_day_loaded"] == "2024-03-28" and run.detail["days_loaded"] == 63
    assert run.data_as_of == datetime(2024, 3, 28, 15, 0, tzinfo=UTC)  # 16:00 in Frankfurt (CET)
    assert stored("USD", date(2024, 3, 15)) == D("1.0892") and stored("GBP", date(2024, 3, 15)) == D("0.8541")
    assert set(FxRate.objects.values_list("source", flat=True)) == {"ecb_history"}
    assert not FxRate.objects.filter(currency="EUR").exists()


def test_history_load_again_writes_nothing_not_even_a_run():
    fx_history_load(since=date(2024, 1, 1), until=date(2024, 3, 31))
    versions, runs = row_versions(), RefreshRun.objects.count()
    again = fx_history_load(since=date(2024, 1, 1), until=date(2024, 3, 31))
    assert (again.created, again.rejected) == (0, 0) and again.unchanged == FxRate.objects.count()
    assert again.pk is None and RefreshRun.objects.count() == runs
    assert row_versions() == versions  # not a single row rewritten


def test_history_load_completes_a_partly_loaded_day_without_duplicates():
    fx_history_load(since=date(2024, 3, 1), until=date(2024, 3, 31))
    total = FxRate.objects.count()
    FxRate.objects.filter(currency="GBP", day=date(2024, 3, 15)).delete()
    run = fx_history_load(since=date(2024, 3, 1), until=date(2024, 3, 31))
    assert run.created == 1 and FxRate.objects.count() == total
    assert stored("GBP", date(2024, 3, 15)) == D("0.8541")


def test_history_load_can_be_limited_to_some_currencies():
    run = fx_history_load(since=date(2024, 3, 11), until=date(2024, 3, 15), currencies=["usd", "GBP"])
    assert run.created == 10
    assert set(FxRate.objects.values_list("currency", flat=True)) == {"USD", "GBP"}


def test_history_load_never_overwrites_a_stored_rate():
    FxRate.objects.create(currency="USD", day=date(2024, 3, 15), rate=D("1.2"), source="manual", fetched_at=NOW)
    fx_history_load(since=date(2024, 3, 15), until=date(2024, 3, 15))
    assert stored("USD", date(2024, 3, 15)) == D("1.2")
    assert FxRate.objects.filter(day=date(2024, 3, 15)).count() == 30


def test_a_missing_history_file_records_a_failed_run(tmp_path):
    with pytest.raises(FileNotFoundError):
        fx_history_load(path=tmp_path / "nope.zip")
    run = RefreshRun.objects.get(kind="fx")
    assert run.status == RefreshRun.Status.FAILED and "FileNotFoundError" in run.error


def test_the_whole_history_loads_and_reloads_on_postgresql():
    run = fx_history_load()
    assert run.created == FxRate.objects.count() > 220_000
    # The first day: 27 figures (41 columns, 14 of them N/A: BGN, RON, HRK, RUB, TRY, BRL, CNY, IDR, ILS,
    # INR, MXN, MYR, PHP, THB, which the ECB began to publish later).
    assert FxRate.objects.filter(day=date(1999, 1, 4)).count() == 27
    assert fx_history_load().created == 0


def test_the_embedded_default_loads_history_on_sqlite_idempotently(tmp_path):
    """The SQLite path (bulk_create) end to end, in a fresh process with no environment."""
    code = (
        "import django, json; django.setup();"
        "from datetime import date; from decimal import Decimal;"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from pools.services.fx import fx_history_load; from pools.selectors_fx import fx_convert, fx_rate_on;"
        "runs = [fx_history_load(since=date(2024, 1, 1), until=date(2024, 6, 30)) for _ in range(2)];"
        "used = fx_rate_on('GBP', date(2024, 3, 16));"
        "c = fx_convert(Decimal(1000), 'USD', 'GBP', date(2024, 3, 16));"
        "print(json.dumps({'runs': [[r.created, r.unchanged] for r in runs],"
        " 'gbp': [str(used.rate), used.used_day.isoformat()], 'converted': str(c.amount)}))"
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    rows = len(bundled_history(since=date(2024, 1, 1), until=date(2024, 6, 30)).quotes)
    assert out["runs"] == [[rows, 0], [0, rows]]
    assert D(out["gbp"][0]) == D("0.8541") and out["gbp"][1] == "2024-03-15"
    assert out["converted"].startswith("784.1535071612")


# --------------------------------------------------------------------------- daily refresh
@pytest.fixture
def until_thursday():
    """History up to Thursday 2024-03-14, as if the last refresh ran that evening."""
    return fx_history_load(since=date(2024, 1, 1), until=date(2024, 3, 14))


def test_refresh_stores_the_new_day_from_the_daily_feed(until_thursday):
    source, transport = ecb(xml(DAILY_0315))
    run = fx_refresh(source=source, today=TODAY)
    assert [r.url.path for r in transport.requests] == ["/stats/eurofxref/eurofxref-daily.xml"]
    assert run.status == RefreshRun.Status.SUCCEEDED and run.source == "ecb"
    assert (run.created, run.unchanged, run.rejected) == (30, 0, 0)
    assert run.data_as_of == ecb_published_at(date(2024, 3, 15)) == datetime(2024, 3, 15, 15, 0, tzinfo=UTC)
    assert stored("GBP", date(2024, 3, 15)) == D("0.85410")
    assert FxRate.objects.get(currency="GBP", day=date(2024, 3, 15)).source == "ecb"
    again = fx_refresh(source=ecb(xml(DAILY_0315))[0], today=TODAY)
    assert (again.created, again.unchanged) == (0, 30)


def test_refresh_fills_a_gap_from_the_90_day_feed():
    fx_history_load(since=date(2023, 12, 1), until=date(2024, 3, 12))
    source, transport = ecb(xml(DAILY_0315), xml(HIST_90D))
    run = fx_refresh(source=source, today=TODAY)
    assert [r.url.path.rsplit("/", 1)[1] for r in transport.requests] == [
        "eurofxref-daily.xml",
        "eurofxref-hist-90d.xml",
    ]
    assert run.created == 90  # 13, 14 and 15 March, 30 currencies each
    assert run.unchanged == 59 * 30  # the 90-day file's other business days, already held
    assert run.detail["first_day"] == "2023-12-18" and run.detail["last_day"] == "2024-03-15"
    assert stored("USD", date(2024, 3, 13)) == D("1.0939") and stored("USD", date(2024, 3, 14)) == D("1.0925")


def test_a_weekend_is_not_a_gap(until_thursday):
    fx_refresh(source=ecb(xml(DAILY_0315))[0], today=TODAY)
    source, transport = ecb(xml(DAILY_0318))
    assert fx_refresh(source=source, today=TODAY).created == 30
    assert len(transport.requests) == 1


def test_the_first_refresh_on_an_empty_table_takes_90_days():
    source, transport = ecb(xml(HIST_90D))
    run = fx_refresh(source=source, today=TODAY)
    assert transport.requests[0].url.path.endswith("eurofxref-hist-90d.xml") and len(transport.requests) == 1
    assert run.created == FxRate.objects.count() == 62 * 30


def test_a_rate_jumping_more_than_half_is_rejected_and_the_last_good_one_stays(until_thursday):
    bad = DAILY_0315.replace(b"rate='0.85410'", b"rate='8.5410'")  # a shifted decimal point
    run = fx_refresh(source=ecb(xml(bad))[0], today=TODAY)
    assert (run.created, run.rejected) == (29, 1)
    assert run.rejection_reasons == {FxRejectReason.MOVE_TOO_LARGE: 1}
    assert run.detail["rejections"][0]["currency"] == "GBP" and "0.854200" in run.detail["rejections"][0]["detail"]
    assert stored("GBP", date(2024, 3, 15)) is None
    used = fx_rate_on("GBP", date(2024, 3, 15))
    assert (used.rate, used.used_day) == (D("0.8542"), date(2024, 3, 14))  # Thursday's, said so


def test_the_move_limit_is_a_setting(until_thursday, settings):
    settings.FX_MAX_DAILY_MOVE = D("0.001")  # 0.1 %: most real daily moves now count as jumps
    run = fx_refresh(source=ecb(xml(DAILY_0315))[0], today=TODAY)
    assert run.rejected > 0 and run.created + run.rejected == 30


def test_unknown_codes_future_days_and_contradictions_are_reported(until_thursday):
    body = DAILY_0315.replace(b"currency='JPY'", b"currency='XAU'")
    fx_refresh(source=ecb(xml(DAILY_0315))[0], today=TODAY)
    changed = DAILY_0315.replace(b"rate='1.0892'", b"rate='1.0900'")
    run = fx_refresh(source=ecb(xml(changed))[0], today=TODAY)
    assert run.rejection_reasons == {FxRejectReason.CONFLICTS_WITH_STORED: 1}
    assert stored("USD", date(2024, 3, 15)) == D("1.0892")  # a published rate is never rewritten
    FxRate.objects.filter(day=date(2024, 3, 15)).delete()
    early = fx_refresh(source=ecb(xml(body))[0], today=date(2024, 3, 13))
    assert early.rejection_reasons == {FxRejectReason.UNKNOWN_CURRENCY: 1, FxRejectReason.FUTURE_DAY: 29}
    assert early.created == 0


FAULTS = {
    "timeout": lambda: httpx.ReadTimeout("read timed out"),
    "server error": lambda: xml(b"<html>busy</html>", 503),
    "not found": lambda: xml(b"<html>gone</html>", 404),
    "html instead of xml": lambda: xml(b"<!doctype html><html><body>maintenance</body></html>"),
    "truncated": lambda: xml(DAILY_0315[:700]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fetch_failure_records_a_failed_run_and_writes_nothing(until_thursday, fault):
    before = FxRate.objects.count()
    with pytest.raises(SourceError):
        fx_refresh(source=ecb(FAULTS[fault]())[0], today=TODAY)
    run = RefreshRun.objects.filter(kind="fx", source="ecb").get()
    assert run.status == RefreshRun.Status.FAILED and run.error and run.finished_at
    assert FxRate.objects.count() == before
    assert fx_rate_on("USD", date(2024, 3, 15)).used_day == date(2024, 3, 14)  # last good rate still answers


def test_a_refresh_is_skipped_while_another_one_holds_the_lock(until_thursday):
    with _second_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key(RefreshRun.Kind.FX)])
        run = fx_refresh(source=ecb(xml(DAILY_0315))[0], today=TODAY)
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key(RefreshRun.Kind.FX)])
    assert run.status == RefreshRun.Status.SKIPPED and stored("USD", date(2024, 3, 15)) is None


def test_the_source_is_built_from_settings(until_thursday, settings, monkeypatch):
    settings.FX_ECB_BASE_URL, settings.FX_ECB_TIMEOUT, settings.FX_ECB_RETRIES = "https://fx.test/ecb/", 7.5, 0
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    real_client = httpx.Client
    monkeypatch.setattr(
        "pools.sources.http.httpx.Client", lambda **kw: real_client(transport=httpx.MockTransport(handler), **kw)
    )
    with pytest.raises(SourceError):
        fx_refresh(today=TODAY)
    assert [str(r.url) for r in seen] == ["https://fx.test/ecb/eurofxref-daily.xml"]  # retries=0: one attempt
    assert seen[0].extensions["timeout"]["read"] == 7.5


def test_an_empty_feed_is_a_failure_not_an_empty_success(until_thursday):
    empty = DAILY_0315.split(b"\t\t<Cube time=")[0] + b"\t</Cube>\n</gesmes:Envelope>"
    with pytest.raises(IncompletePayloadError):
        fx_refresh(source=ecb(xml(empty))[0], today=TODAY)
    assert RefreshRun.objects.filter(kind="fx", status="failed").count() == 1
