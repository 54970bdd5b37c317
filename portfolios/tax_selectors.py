"""Every read of the tax reports: access, the ledger, its fingerprint, prices.

Access: ``tax_report_get_for_user`` (404 for anything that is not the user's).

The ledger of a report is the owner's legs (all portfolios, or one) whose
transaction happened before ``ledger_cutoff`` - the local end of the tax year,
plus 30 days under UK pooling (the "bed and breakfast" rule looks ahead).
Later transactions cannot change the year's numbers, so adding today's trades
does not invalidate last year's report.

Fingerprint (``ledger_fingerprint``): one aggregate query - the number of legs
and the sum of a 64-bit hash of each leg's row (leg id, transaction id, kind,
income type, time, position, asset, quantity, fiat value, fee flag, token).
It covers every value the engine reads, so any insert, edit or delete of a
transaction or leg changes it (a sum of per-row hashes is order-free, and
row ids are hashed so equal rows never cancel). PostgreSQL computes the row
hash (``hashtextextended``); the build streams the same hash with each row, so
it can tell whether the ledger changed between the request and the build
without a second pass. Other databases (the SQLite embedded default) hash the
rows in Python, in both places.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DecimalField,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone as dj_timezone

from pools.models import Token, TokenPrice
from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.models.tax import TaxReport, TaxReportFile
from portfolios.tax import LegIn, TxIn
from portfolios.tax.years import tax_year_bounds

#: Bump when the build changes what a report contains: every cached report is then rebuilt on request.
REPORT_VERSION = 1
#: Rows per fetch of the server-side cursor that streams the ledger.
STREAM_CHUNK = 10_000


# --------------------------------------------------------------------------- access


def tax_reports_for_user(*, user) -> QuerySet[TaxReport]:
    """The user's reports, newest first (index: tax_report_list_idx). ``summary`` is deferred."""
    return (TaxReport.objects.filter(owner=user).select_related("portfolio").defer("summary")
            .order_by("-created_at", "-id"))


def tax_report_get_for_user(*, user, report_id: int) -> TaxReport:
    return get_object_or_404(TaxReport.objects.filter(owner=user).select_related("portfolio", "owner"), pk=report_id)


def tax_report_file_get(*, report: TaxReport, kind: str) -> TaxReportFile:
    """A finished report's file (404 while the report is not done, or for an unknown kind)."""
    if report.status != TaxReport.Status.DONE:
        from django.http import Http404

        raise Http404("The report is not ready.")
    return get_object_or_404(TaxReportFile.objects.filter(report=report), kind=kind)


def tax_report_file_kinds(*, report: TaxReport) -> list[str]:
    if report.status != TaxReport.Status.DONE:
        return []
    return list(TaxReportFile.objects.filter(report=report).order_by("kind").values_list("kind", flat=True))


def tax_report_csv_page(*, report: TaxReport, kind: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one of the report's CSV files (the web tables show exactly what is downloaded)."""
    row = TaxReportFile.objects.filter(report=report, kind=kind).values_list("content", flat=True).first()
    if row is None:
        return [], []
    reader = csv.reader(io.StringIO(bytes(row).decode("utf-8-sig"), newline=""))
    header = next(reader, [])
    return header, list(reader)


# --------------------------------------------------------------------------- tax years


def tax_year_label(year: int, jurisdiction: str) -> str:
    return f"{year}/{(year + 1) % 100:02d}" if jurisdiction == "uk" else str(year)


def tax_year_period(year: int, jurisdiction: str) -> tuple[date, date]:
    """First and last local date of the tax year."""
    return tax_year_bounds(tax_year_label(year, jurisdiction), jurisdiction)


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def ledger_cutoff(*, year: int, jurisdiction: str, method: str, tz: str) -> datetime:
    """Transactions before this instant (UTC) decide the year: the local end of the
    tax year, plus 30 days under UK pooling (bed-and-breakfast matching)."""
    _, last = tax_year_period(year, jurisdiction)
    extra = 31 if method == "uk" else 1
    return _local_midnight(last + timedelta(days=extra), tz)


def year_end_cutoff(*, year: int, jurisdiction: str, tz: str) -> datetime:
    _, last = tax_year_period(year, jurisdiction)
    return _local_midnight(last + timedelta(days=1), tz)


def prices_as_of(*, year: int, jurisdiction: str, tz: str, today: date | None = None) -> date:
    """The day holdings are priced at: the year end, or today while the year runs."""
    _, last = tax_year_period(year, jurisdiction)
    today = today or dj_timezone.now().astimezone(ZoneInfo(tz)).date()
    return min(last, today)


def tax_years_for_user(*, user, jurisdiction: str, tz: str) -> list[int]:
    """Tax years (first calendar year) that hold any of the user's transactions, newest
    first; always includes the current one."""
    bounds = Transaction.objects.filter(portfolio__owner=user).aggregate(first=Min("occurred_at"),
                                                                         last=Max("occurred_at"))
    zone = ZoneInfo(tz)
    now = dj_timezone.now().astimezone(zone).date()

    def start_year(day: date) -> int:
        if jurisdiction == "uk" and (day.month, day.day) < (4, 6):
            return day.year - 1
        return day.year

    newest = start_year(now)
    oldest = start_year(bounds["first"].astimezone(zone).date()) if bounds["first"] else newest
    oldest = min(oldest, newest)
    return list(range(newest, oldest - 1, -1))


# --------------------------------------------------------------------------- the ledger


class _RowHash(Func):
    """64-bit hash of a leg's row text (PostgreSQL; stable for a given server major version)."""

    template = "hashtextextended(concat_ws('|', %(expressions)s), 0)"
    output_field = BigIntegerField()


def _text(expression, nullable: bool = False):
    value = Cast(expression, output_field=CharField())
    return Coalesce(value, Value("~")) if nullable else value


def _row_hash_expression() -> _RowHash:
    return _RowHash(
        _text(F("id")), _text(F("transaction_id")), _text(F("transaction__kind")),
        _text(F("transaction__income_type")), _text(F("transaction__occurred_at")),
        _text(F("transaction__position_id"), True), _text(F("asset")), _text(F("quantity")),
        _text(F("fiat_value"), True), _text(F("is_fee")), _text(F("token_id"), True),
    )


def _python_row_hash(row: tuple) -> int:
    """The same idea as ``_RowHash`` for databases without ``hashtextextended``."""
    text = "|".join("~" if v is None else (v.isoformat() if isinstance(v, datetime) else str(v)) for v in row)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


_HASHED_FIELDS = ("id", "transaction_id", "transaction__kind", "transaction__income_type",
                  "transaction__occurred_at", "transaction__position_id", "asset", "quantity", "fiat_value",
                  "is_fee", "token_id")


def _ledger_legs(*, owner_id: int, portfolio_id: int | None, until: datetime) -> QuerySet[Leg]:
    query = Leg.objects.filter(transaction__portfolio__owner_id=owner_id, transaction__occurred_at__lt=until)
    if portfolio_id is not None:
        query = query.filter(transaction__portfolio_id=portfolio_id)
    return query


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class LedgerFingerprint:
    legs: int
    hash_sum: int

    def digest_part(self) -> str:
        return f"{self.legs}:{self.hash_sum}"


def ledger_fingerprint(*, owner_id: int, portfolio_id: int | None, until: datetime) -> LedgerFingerprint:
    """Count and hash sum of the ledger's legs in one aggregate query (see module docstring)."""
    legs = _ledger_legs(owner_id=owner_id, portfolio_id=portfolio_id, until=until)
    if _on_postgres():
        row = legs.aggregate(n=Count("id"), s=Sum(_row_hash_expression(),
                                                   output_field=DecimalField(max_digits=40, decimal_places=0)))
        return LedgerFingerprint(row["n"], int(row["s"] or 0))
    total = count = 0
    for values in legs.values_list(*_HASHED_FIELDS).iterator(chunk_size=STREAM_CHUNK):
        total += _python_row_hash(values)
        count += 1
    return LedgerFingerprint(count, total)


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is computed from, apart from the ledger itself."""

    owner_id: int
    portfolio_id: int | None
    year: int
    jurisdiction: str
    method: str
    lp_treatment: str
    timezone: str
    fiat_currency: str
    prices_day: date

    @classmethod
    def of(cls, report: TaxReport) -> ReportInputs:
        return cls(report.owner_id, report.portfolio_id, report.year, report.jurisdiction, report.method,
                   report.lp_treatment, report.timezone, report.fiat_currency, report.prices_as_of)

    @property
    def tax_year(self) -> str:
        return tax_year_label(self.year, self.jurisdiction)

    @property
    def cutoff(self) -> datetime:
        return ledger_cutoff(year=self.year, jurisdiction=self.jurisdiction, method=self.method, tz=self.timezone)

    def hash(self, fingerprint: LedgerFingerprint) -> str:
        """SHA-256 of the inputs and the ledger's fingerprint: the report's cache key."""
        payload = json.dumps({
            "v": REPORT_VERSION, "owner": self.owner_id, "portfolio": self.portfolio_id, "year": self.year,
            "jurisdiction": self.jurisdiction, "method": self.method, "lp": self.lp_treatment,
            "tz": self.timezone, "fiat": self.fiat_currency, "prices": self.prices_day.isoformat(),
            "ledger": fingerprint.digest_part(),
        }, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


def tax_inputs_hash(*, inputs: ReportInputs) -> tuple[str, LedgerFingerprint]:
    """The cache key of a report with these inputs, over the ledger as it is now."""
    fingerprint = ledger_fingerprint(owner_id=inputs.owner_id, portfolio_id=inputs.portfolio_id,
                                     until=inputs.cutoff)
    return inputs.hash(fingerprint), fingerprint


@dataclass
class Ledger:
    """What one streaming pass over the legs yields for a build."""

    transactions: list[TxIn] = field(default_factory=list)
    fingerprint: LedgerFingerprint = LedgerFingerprint(0, 0)
    # Asset -> the token its legs name most often (prices for holdings and rewards).
    asset_tokens: dict[str, int] = field(default_factory=dict)


_STREAM_FIELDS = ("transaction_id", "transaction__occurred_at", "transaction__kind", "transaction__income_type",
                  "transaction__position_id", "asset", "quantity", "fiat_value", "is_fee", "token_id")


def tax_ledger_load(*, owner_id: int, portfolio_id: int | None, until: datetime,
                    on_progress: Callable[[int], None] | None = None,
                    chunk_size: int = STREAM_CHUNK) -> Ledger:
    """The ledger as engine inputs, in one ordered query streamed from a server-side
    cursor (no query per transaction); ``on_progress(rows_read)`` every chunk."""
    legs = _ledger_legs(owner_id=owner_id, portfolio_id=portfolio_id, until=until).order_by(
        "transaction__occurred_at", "transaction_id", "id")
    postgres = _on_postgres()
    if postgres:
        rows = legs.annotate(row_hash=_row_hash_expression()).values_list(*_STREAM_FIELDS, "row_hash")
    else:
        rows = legs.values_list(*_STREAM_FIELDS, *_HASHED_FIELDS)

    ledger = Ledger()
    txs = ledger.transactions
    token_counts: dict[str, dict[int, int]] = {}
    hash_sum = count = 0
    current_id = None
    head: tuple | None = None
    legs_of: list[LegIn] = []

    def flush() -> None:
        tx_id, occurred_at, kind, income_type, position_id = head
        txs.append(TxIn(str(tx_id), occurred_at, kind, tuple(legs_of), income_type or None,
                        None if position_id is None else str(position_id)))

    for row in rows.iterator(chunk_size=chunk_size):
        tx_id = row[0]
        if tx_id != current_id:
            if head is not None:
                flush()
            current_id = tx_id
            head = row[:5]
            legs_of = []
        asset, quantity, fiat_value, is_fee, token_id = row[5:10]
        legs_of.append(LegIn(asset, quantity, fiat_value, is_fee))
        if token_id is not None:
            per_asset = token_counts.setdefault(asset, {})
            per_asset[token_id] = per_asset.get(token_id, 0) + 1
        hash_sum += row[10] if postgres else _python_row_hash(row[10:])
        count += 1
        if on_progress is not None and count % chunk_size == 0:
            on_progress(count)
    if head is not None:
        flush()
    ledger.fingerprint = LedgerFingerprint(count, hash_sum)
    ledger.asset_tokens = {asset: max(ids, key=lambda t: (ids[t], -t)) for asset, ids in token_counts.items()}
    return ledger


def tax_ledger_transaction_labels(*, transaction_ids: list[int]) -> dict[int, str]:
    """How an error message names transactions: kind, date and portfolio."""
    rows = Transaction.objects.filter(pk__in=transaction_ids).values_list("pk", "kind", "occurred_at",
                                                                           "portfolio__name")
    return {pk: f"#{pk} ({kind.replace('_', ' ')} on {when:%Y-%m-%d %H:%M} UTC in “{name}”)"
            for pk, kind, when, name in rows}


def tax_position_labels(*, position_ids: list[int]) -> dict[int, str]:
    positions = Position.objects.filter(pk__in=position_ids).select_related("pool")
    return {p.pk: str(p) for p in positions}


def portfolio_for_tax(*, user, portfolio_id: int) -> Portfolio:
    from portfolios.selectors import portfolio_get_for_user

    return portfolio_get_for_user(user=user, portfolio_id=portfolio_id)


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class PriceAt:
    price: Decimal
    day: date  # the day of the stored price used (may be earlier than asked)


def tax_prices_at(*, token_ids: list[int], day: date, latest_fallback: bool = False) -> dict[int, PriceAt]:
    """USD price of each token on ``day``: its stored daily price of that UTC day or the
    nearest earlier one (``pools.TokenPrice``, index pools_tokenprice_token_ts_uniq),
    in one query. ``latest_fallback``: a token without any such row uses its latest
    quote (``Token.last_price_usd``) - for a year that is still running."""
    if not token_ids:
        return {}
    end = datetime.combine(day, time(0), tzinfo=UTC)
    nearest = TokenPrice.objects.filter(token=OuterRef("pk"), timestamp__lte=end).order_by("-timestamp")
    rows = Token.objects.filter(pk__in=token_ids).annotate(
        p=Subquery(nearest.values("price_usd")[:1]), p_at=Subquery(nearest.values("timestamp")[:1]),
    ).values_list("pk", "p", "p_at", "last_price_usd", "last_price_at")
    out: dict[int, PriceAt] = {}
    for pk, price, price_at, last, last_at in rows:
        if price is not None:
            out[pk] = PriceAt(price, price_at.astimezone(UTC).date())
        elif latest_fallback and last is not None:
            out[pk] = PriceAt(last, (last_at or dj_timezone.now()).astimezone(UTC).date())
    return out


def tax_latest_prices(*, token_ids: list[int]) -> dict[int, Decimal]:
    """The latest known USD price of each token (``Token.last_price_usd``)."""
    if not token_ids:
        return {}
    return {pk: price for pk, price in Token.objects.filter(pk__in=token_ids, last_price_usd__isnull=False)
            .values_list("pk", "last_price_usd")}


@dataclass(frozen=True)
class RewardRow:
    position: str  # label ("" when the reward names no position)
    asset: str
    month: str
    quantity: Decimal
    value_at_receipt: Decimal
    value_now: Decimal | None
    events: int

    @property
    def change(self) -> Decimal | None:
        return None if self.value_now is None else self.value_now - self.value_at_receipt


def tax_report_rewards(*, report: TaxReport) -> tuple[list[RewardRow], dict[str, Decimal | None]]:
    """The report's rewards summary (stored quantities and values at receipt) valued at
    today's prices: "value now" is read when asked, so it never goes stale."""
    summary = report.summary or {}
    stored = summary.get("rewards", [])
    tokens: Mapping[str, int] = summary.get("asset_tokens", {})
    prices = tax_latest_prices(token_ids=sorted({tokens[r["asset"]] for r in stored if r["asset"] in tokens}))
    rows: list[RewardRow] = []
    at_receipt = Decimal(0)
    now: Decimal | None = Decimal(0)
    for r in stored:
        qty = Decimal(r["quantity"])
        token_id = tokens.get(r["asset"])
        price = prices.get(token_id) if token_id is not None else None
        value_now = None if price is None else qty * price
        value = Decimal(r["value_at_receipt"])
        rows.append(RewardRow(r.get("position_label", ""), r["asset"], r["month"], qty, value, value_now,
                              r["events"]))
        at_receipt += value
        now = None if now is None or value_now is None else now + value_now
    return rows, {"value_at_receipt": at_receipt, "value_now": now}


def tax_report_is_current(*, report: TaxReport) -> bool:
    """Whether the report was built from the ledger as it is now (one aggregate query).
    A report of the running year also goes out of date each day (its prices day moves)."""
    inputs = ReportInputs.of(report)
    today = prices_as_of(year=report.year, jurisdiction=report.jurisdiction, tz=report.timezone)
    if today != report.prices_as_of:
        return False
    return tax_inputs_hash(inputs=inputs)[0] == report.inputs_hash


def iter_months(first: date, last: date) -> Iterator[str]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
