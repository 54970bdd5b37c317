"""What a tax report is computed from: its period, its ledger and the ledger's fingerprint.

The ledger of a report is the owner's legs (all portfolios, or one) whose
transaction happened before ``ledger_cutoff`` - the local end of the tax year,
plus 30 days under UK pooling (the "bed and breakfast" rule looks ahead).
Later transactions cannot change the year's numbers, so adding today's trades
does not invalidate last year's report.

Fingerprint (``ledger_fingerprint``): one aggregate query - the number of legs
and the sum of a 64-bit hash of each leg's row (leg id, transaction id, kind,
income type, time, position, asset, quantity, fiat value, fee flag, token,
currency, category). Hidden transactions are not in the ledger at all.
It covers every value the engine reads, so any insert, edit or delete of a
transaction or leg changes it (a sum of per-row hashes is order-free, and
row ids are hashed so equal rows never cancel). PostgreSQL computes the row
hash (``hashtextextended``); the build streams the same hash with each row, so
it can tell whether the ledger changed between the request and the build
without a second pass. Other databases (the SQLite embedded default) hash the
rows in Python, in both places.

``ReportInputs`` is everything else a report depends on; its ``hash`` with the
fingerprint is the report's cache key (``TaxReport.inputs_hash``).

Currency (issue 11): a report is in its jurisdiction's currency
(:func:`report_currency`: UK in GBP, US in USD, elsewhere the user's currency).
Each leg's value stays stored in the currency it was entered in
(``Leg.fiat_currency``); the load converts it, exactly in Decimal, at the ECB
reference rates of the transaction's local date in the report's time zone
(``pools.fx``: USD to GBP goes through the euro; a day without a rate - weekend,
holiday - uses the last rate before it). Every rate used is recorded
(:class:`FxUsage`) so the report can say which rate and which date it used.
The rates are read in one query before the ledger streams. Stored rates are
never changed (the ECB does not revise them), so they are not part of the cache
key; a missing rate fails the build with a message naming currency and day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import BigIntegerField, CharField, Count, DecimalField, F, Func, Max, Min, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone as dj_timezone

from pools.fx import ECB_CURRENCIES
from pools.models import Token
from pools.selectors_fx import fx_table
from portfolios.analytics import STABLECOIN_PEG
from portfolios.models import Leg
from portfolios.tax.engine import LegIn, TxIn
from portfolios.tax.engine.years import tax_year_bounds, tax_year_label
from portfolios.tax.fxconvert import FxUsage, LedgerConverter
from portfolios.tax.models import TaxReport

#: Bump when the build changes what a report contains: every cached report is then rebuilt on request.
REPORT_VERSION = 3  # 2: values converted into the report's currency (issue 11); 3: gifts (issue 12)
#: Rows per fetch of the server-side cursor that streams the ledger.
STREAM_CHUNK = 10_000


# --------------------------------------------------------------------------- the period


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
        _text(F("fiat_value"), True), _text(F("is_fee")), _text(F("token_id"), True), _text(F("fiat_currency")),
        _text(F("transaction__category")),
    )


def _python_row_hash(row: tuple) -> int:
    """The same idea as ``_RowHash`` for databases without ``hashtextextended``."""
    text = "|".join("~" if v is None else (v.isoformat() if isinstance(v, datetime) else str(v)) for v in row)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


_HASHED_FIELDS = ("id", "transaction_id", "transaction__kind", "transaction__income_type",
                  "transaction__occurred_at", "transaction__position_id", "asset", "quantity", "fiat_value",
                  "is_fee", "token_id", "fiat_currency", "transaction__category")


def report_currency(*, jurisdiction: str, user_currency: str) -> str:
    """The currency a report is made in: GBP for the UK (HMRC wants pounds), USD for
    the US (the IRS wants dollars), the user's own currency elsewhere."""
    return {"uk": "GBP", "us": "USD"}.get(jurisdiction, user_currency or "USD")


def _ledger_legs(*, owner_id: int, portfolio_id: int | None, until: datetime) -> QuerySet[Leg]:
    # Hidden transactions count nowhere (Transaction.hidden): not in the ledger, not in its fingerprint.
    query = Leg.objects.counted().filter(transaction__portfolio__owner_id=owner_id,
                                         transaction__occurred_at__lt=until)
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
    lots_per_wallet_from: date | None = None

    @classmethod
    def of(cls, report: TaxReport) -> ReportInputs:
        return cls(report.owner_id, report.portfolio_id, report.year, report.jurisdiction, report.method,
                   report.lp_treatment, report.timezone, report.fiat_currency, report.prices_as_of,
                   report.lots_per_wallet_from)

    @property
    def tax_year(self) -> str:
        return tax_year_label(self.year, self.jurisdiction)

    @property
    def cutoff(self) -> datetime:
        return ledger_cutoff(year=self.year, jurisdiction=self.jurisdiction, method=self.method, tz=self.timezone)

    def hash(self, fingerprint: LedgerFingerprint) -> str:
        """SHA-256 of the inputs and the ledger's fingerprint: the report's cache key."""
        inputs = {
            "v": REPORT_VERSION, "owner": self.owner_id, "portfolio": self.portfolio_id, "year": self.year,
            "jurisdiction": self.jurisdiction, "method": self.method, "lp": self.lp_treatment,
            "tz": self.timezone, "fiat": self.fiat_currency, "prices": self.prices_day.isoformat(),
            "ledger": fingerprint.digest_part(),
        }
        if self.lots_per_wallet_from is not None:  # only when set: other reports keep their cache keys
            inputs["wallets"] = self.lots_per_wallet_from.isoformat()
        payload = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
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
    # Stablecoin legs stored without a value, valued at the peg here: asset -> how many legs.
    pegged: dict[str, int] = field(default_factory=dict)
    # The currency conversions made (none when every value was already in the report's currency).
    fx: FxUsage | None = None


_STREAM_FIELDS = ("transaction_id", "transaction__occurred_at", "transaction__kind", "transaction__income_type",
                  "transaction__position_id", "asset", "quantity", "fiat_value", "is_fee", "token_id",
                  "fiat_currency")


def _converter(legs: QuerySet[Leg], *, currency: str, tz: str) -> LedgerConverter | None:
    """A converter for the legs not already in ``currency`` (None when there are
    none): their currencies and time span in one query, their rates in another."""
    # Values in another currency, and fiat amounts without a value in another fiat (worth their face).
    foreign = legs.exclude(fiat_currency=currency).exclude(fiat_value__isnull=True) | legs.filter(
        fiat_value__isnull=True, asset__in=sorted(ECB_CURRENCIES - {currency}))
    if currency != "USD":  # stablecoin legs without a value are valued at their USD peg
        foreign = foreign | legs.filter(fiat_value__isnull=True, token__isnull=False)
    span = foreign.aggregate(first=Min("transaction__occurred_at"), last=Max("transaction__occurred_at"))
    if span["first"] is None:
        return None
    codes = set(foreign.exclude(fiat_value__isnull=True).order_by().values_list("fiat_currency", flat=True)
                .distinct()) | set(foreign.filter(fiat_value__isnull=True, token__isnull=True).order_by()
                                   .values_list("asset", flat=True).distinct())
    if currency != "USD" and foreign.filter(fiat_value__isnull=True, token__isnull=False).exists():
        codes.add("USD")
    zone = ZoneInfo(tz)
    start, end = span["first"].astimezone(zone).date(), span["last"].astimezone(zone).date()
    unknown = sorted(codes - ECB_CURRENCIES)
    if unknown:
        raise ValueError(f"values in {', '.join(unknown)} cannot be converted: the ECB publishes no rate for it")
    table = fx_table(currencies=codes | {currency}, start=start, end=end)
    return LedgerConverter(table, FxUsage(currency, tz))


def tax_ledger_load(*, owner_id: int, portfolio_id: int | None, until: datetime,
                    on_progress: Callable[[int], None] | None = None,
                    chunk_size: int = STREAM_CHUNK, currency: str = "USD", timezone: str = "UTC") -> Ledger:
    """The ledger as engine inputs, in one ordered query streamed from a server-side
    cursor (no query per transaction); ``on_progress(rows_read)`` every chunk.

    Values are converted into ``currency`` at the ECB rates of each transaction's
    day in ``timezone`` (two more queries when any leg is in another currency);
    ``Ledger.fx`` records the rates used. Raises ``pools.fx.FxRateUnavailable``
    when a rate is missing."""
    base = _ledger_legs(owner_id=owner_id, portfolio_id=portfolio_id, until=until)
    convert = _converter(base, currency=currency, tz=timezone)
    legs = base.order_by("transaction__occurred_at", "transaction_id", "id")
    postgres = _on_postgres()
    rows: QuerySet  # value tuples, with the row hash on PostgreSQL
    if postgres:
        rows = legs.annotate(row_hash=_row_hash_expression()).values_list(
            *_STREAM_FIELDS, "row_hash", "transaction__wallet_address", "transaction__category")
    else:
        rows = legs.values_list(*_STREAM_FIELDS, "transaction__wallet_address", "transaction__category",
                                *_HASHED_FIELDS)

    ledger = Ledger()
    txs = ledger.transactions
    token_counts: dict[str, dict[int, int]] = {}
    hash_sum = count = 0
    current_id = None
    head: tuple | None = None
    wallet = category = ""
    legs_of: list[LegIn] = []
    stablecoins: set[int] | None = None  # read once, only if a leg without a value names a token

    def flush(head: tuple) -> None:
        tx_id, occurred_at, kind, income_type, position_id = head
        txs.append(TxIn(ref=str(tx_id), occurred_at=occurred_at, kind=kind, legs=tuple(legs_of),
                        income_type=income_type or None,
                        position=None if position_id is None else str(position_id),
                        wallet=wallet or None, category=category))

    for row in rows.iterator(chunk_size=chunk_size):
        tx_id = row[0]
        if tx_id != current_id:
            if head is not None:
                flush(head)
            current_id = tx_id
            head = row[:5]
            wallet, category = row[12:14] if postgres else row[11:13]
            legs_of = []
        asset, quantity, fiat_value, is_fee, token_id, code = row[5:11]
        if fiat_value is None and token_id is not None:
            # A stablecoin leg stored without a value (before the peg rule): its peg in USD,
            # counted for the report's note.
            if stablecoins is None:
                stablecoins = set(Token.objects.filter(is_stablecoin=True).values_list("pk", flat=True))
            if token_id in stablecoins:
                fiat_value, code = abs(quantity) * STABLECOIN_PEG, "USD"
                ledger.pegged[asset] = ledger.pegged.get(asset, 0) + 1
        if convert is not None:
            if fiat_value is None:
                if asset in ECB_CURRENCIES and asset != currency:  # a fiat amount is worth its face value
                    fiat_value = convert(abs(quantity), asset, row[1])
            elif code != currency:
                fiat_value = convert(fiat_value, code, row[1])
        legs_of.append(LegIn(asset, quantity, fiat_value, is_fee))
        if token_id is not None:
            per_asset = token_counts.setdefault(asset, {})
            per_asset[token_id] = per_asset.get(token_id, 0) + 1
        hash_sum += row[11] if postgres else _python_row_hash(row[13:])
        count += 1
        if on_progress is not None and count % chunk_size == 0:
            on_progress(count)
    if head is not None:
        flush(head)
    ledger.fingerprint = LedgerFingerprint(count, hash_sum)
    ledger.fx = convert.usage if convert is not None else FxUsage(currency, timezone)
    ledger.asset_tokens = {asset: max(ids, key=lambda t: (ids[t], -t)) for asset, ids in token_counts.items()}
    return ledger

