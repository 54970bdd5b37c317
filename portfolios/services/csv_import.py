"""CSV import and export of a portfolio's transactions (services on top of
``portfolios.csvformats``, which parses and writes the files).

* ``csv_import_preview`` parses, resolves and checks a file and writes nothing:
  the rows that would be created, row-level errors, and the duplicates.
* ``csv_import_commit`` does the same and then writes every new transaction in
  one database transaction - or nothing at all if any row has an error.
  Re-importing a file creates nothing new: each transaction carries the content
  hash ``csvformats.transaction_key`` as its ``dedupe_key`` (unique per
  portfolio), and transactions already in the portfolio (entered by hand, or
  exported and imported back) are recognised by the same hash of their content.
* ``csv_export`` writes the portfolio in the native format.

Formats: ``"native"`` (Yieldledger, one row per leg) and ``"koinly"`` (Koinly
universal, one row per transaction); see ``portfolios.csvformats``.

Assets: fiat (USD ...) needs no token; ``LP#<id>`` naming a position of this
portfolio links the transaction to it (any other ``LP#...`` is kept as a plain
synthetic asset); any other symbol must be a token we list (found by symbol,
then by price symbol, e.g. ``ETH`` for WETH) - an unknown one is a row error.
A leg without a value is valued from the price history; no price is a row error
that says which value to add to the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.formatting import normalize_decimal
from pools.fx import ECB_CURRENCIES
from pools.models import Token
from portfolios import csvformats
from portfolios.analytics import STABLECOIN_PEG
from portfolios.csvformats import LegIn, TxIn
from portfolios.ledger import FIAT_CODES, is_fiat, is_synthetic_asset, lp_asset, parse_lp_asset
from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.selectors import token_for_symbol
from portfolios.services.changes import portfolio_ledger_changed
from portfolios.services.legs import (
    FUTURE_TOLERANCE,
    PRICE_MAX_AGE,
    ResolvedLeg,
    check_shape,
    fiat_asset_currency,
    q18,
    token_usd_price_at,
    tokens_track,
)
from portfolios.validation import FIAT_INTEGER_DIGITS, decode_csv

FORMATS = ("native", "koinly")
#: Largest file accepted (bytes): ~100k native rows.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: What a CSV import accepts as a file: bytes, text, or a file object (an upload).
CsvFile = bytes | str | IO[bytes] | IO[str]


@dataclass(frozen=True)
class ImportError_:  # noqa: N801 - "ImportError" is a builtin
    """A problem with one row (``row`` = spreadsheet row, header = 1; None if unknown)."""

    row: int | None
    field: str
    message: str
    ref: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message, "ref": self.ref}


@dataclass
class ImportRow:
    ref: str
    row: int | None
    occurred_at: datetime
    kind: str
    income_type: str
    legs: list[ResolvedLeg]
    position_id: int | None
    dedupe_key: str
    description: str = ""

    def as_dict(self) -> dict:
        return {
            "ref": self.ref,
            "row": self.row,
            "occurred_at": self.occurred_at.isoformat(),
            "kind": self.kind,
            "income_type": self.income_type or None,
            "position": self.position_id,
            "description": self.description,
            "legs": [
                {
                    "asset": leg.asset,
                    "token": leg.token.pk if leg.token else None,
                    "quantity": str(leg.quantity),
                    "fiat_value": None if leg.fiat_value is None else str(leg.fiat_value),
                    "value_source": leg.value_source,
                    "is_fee": leg.is_fee,
                }
                for leg in self.legs
            ],
        }


@dataclass
class ImportPreview:
    rows: list[ImportRow] = field(default_factory=list)  # would be created
    errors: list[ImportError_] = field(default_factory=list)
    duplicates: list[ImportRow] = field(default_factory=list)  # already in the portfolio (or twice in the file)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def skippable(self) -> bool:
        """Every error is a row's (not the header's or the file's) and some rows are good:
        the user may import the good ones and leave the bad ones out. A transaction with a
        bad row is left out whole (``csvformats``: never a partial transaction)."""
        return bool(self.rows) and bool(self.errors) and all(e.row is not None and e.row > 1 for e in self.errors)


@dataclass
class ImportResult:
    created: int
    duplicates: int
    errors: list[ImportError_]
    transaction_ids: list[int] = field(default_factory=list)
    skipped: list[ImportError_] = field(default_factory=list)  # rows left out at the user's request

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- reading


def _read(file: CsvFile) -> bytes:
    data: bytes | str  # a file object may hand back text; encoded below
    if isinstance(file, bytes):
        data = file
    elif isinstance(file, str):
        data = file.encode("utf-8", "surrogateescape")  # text from validation.decode_csv: the bytes as they came
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it."})
    return data


def _first_rows(text: str, column: str) -> dict[str, int]:
    """Transaction reference (the ``column`` of the format) -> its first spreadsheet row,
    to point errors found after parsing at a row."""
    first: dict[str, int] = {}
    try:
        for number, row in enumerate(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")), start=2):
            ref = (row.get(column) or "").strip()
            if ref and ref not in first:
                first[ref] = number
    except csv.Error:
        pass
    return first


def _leg_currencies(data: bytes, fmt: str) -> dict[tuple[str, int], str]:
    """The native format's optional per-leg ``fiat_currency`` (Koinly files are in the user's currency)."""
    if fmt != "native":
        return {}
    try:
        return csvformats.native_currencies(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return {}


def _parse(data: bytes, fmt: str, fiat: str) -> tuple[list[TxIn], list[ImportError_], dict[str, int]]:
    if fmt not in FORMATS:
        raise ValidationError({"format": f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}."})
    text = decode_csv(data)  # bytes that are not UTF-8 are reported on their own row by the parser
    if fmt == "native":
        txs, errors = csvformats.parse_native(text)
        rows = _first_rows(text, "tx_id")
    else:
        txs, errors = csvformats.parse_koinly(text, fiat_currency=fiat, fiat_codes=FIAT_CODES)
        rows = _first_rows(text, "TxHash")
    return txs, [ImportError_(e.row_number, e.field, e.message) for e in errors], rows


# --------------------------------------------------------------------------- resolving


class _Tokens:
    """Symbol -> token, one lookup per distinct symbol of the file."""

    def __init__(self) -> None:
        self._cache: dict[str, Token | None] = {}

    def get(self, symbol: str) -> Token | None:
        key = symbol.upper()
        if key not in self._cache:
            self._cache[key] = token_for_symbol(symbol=key)  # "ETH" also finds WETH
        return self._cache[key]


def _existing_keys(portfolio: Portfolio) -> set[str]:
    """Dedupe keys stored on the portfolio's transactions plus the content hash of
    every one of them (so exported-then-imported or hand-entered ones match)."""
    keys: set[str] = set()
    txs = (
        Transaction.objects.filter(portfolio=portfolio)
        .prefetch_related("legs")
        .only("id", "occurred_at", "kind", "income_type", "position_id", "dedupe_key")
    )
    for txn in txs:
        if txn.dedupe_key:
            keys.add(txn.dedupe_key)
        try:
            keys.add(csvformats.transaction_key(_tx_in(txn)))
        except (ValueError, TypeError):  # pragma: no cover - stored rows are valid
            continue
    return keys


def _resolve_tx(
    tx: TxIn, *, portfolio: Portfolio, positions: set[int], tokens: _Tokens, row: int | None, now: datetime,
    currency: str = "USD", leg_currencies: dict[tuple[str, int], str] | None = None,
) -> tuple[ImportRow | None, list[ImportError_]]:
    """``currency``: what the file's values are in (the owner's currency, as the formats say),
    unless ``leg_currencies`` (``(tx ref, leg index) -> code``) names a leg's own."""
    errors: list[ImportError_] = []

    def err(fieldname: str, message: str) -> None:
        errors.append(ImportError_(row, fieldname, message, tx.ref))

    if tx.occurred_at > now + FUTURE_TOLERANCE:
        err("occurred_at", f"{tx.occurred_at:%Y-%m-%d %H:%M} is in the future.")
    position_id = None
    description = ""
    if tx.position:
        key = parse_lp_asset(tx.position)
        if key is not None and key in positions:
            position_id = key
        else:
            description = f"position: {tx.position}"
    legs: list[ResolvedLeg] = []
    for index, leg in enumerate(tx.legs):
        asset = leg.asset.strip().upper()
        leg_currency = (leg_currencies or {}).get((tx.ref, index), currency)
        if leg_currency not in ECB_CURRENCIES:
            err("fiat_currency", f"{leg_currency!r} is not a currency we have exchange rates for (e.g. USD, EUR, GBP).")
            continue
        qty = leg.quantity
        if qty != q18(qty):
            err("quantity", f"The {asset} quantity has more than 18 decimal places.")
            continue
        token = None
        if not is_fiat(asset) and not is_synthetic_asset(asset):
            token = tokens.get(asset)
            if token is None:
                err("asset", f"Unknown token {asset!r}: we list no token with this symbol.")
                continue
        if leg.fiat_value is not None:
            legs.append(ResolvedLeg(asset, token, qty, q18(leg.fiat_value), "entered", leg.is_fee, leg_currency))
        elif token is None and is_fiat(asset):
            legs.append(ResolvedLeg(asset, None, qty, abs(qty), "entered", leg.is_fee, fiat_asset_currency(asset)))
        elif token is None:
            legs.append(ResolvedLeg(asset, None, qty, None, "missing", leg.is_fee))
        else:
            price = token_usd_price_at(token=token, when=tx.occurred_at)
            if price is None and token.is_stablecoin:  # its peg, labelled (as in services.legs.resolve_legs)
                legs.append(ResolvedLeg(asset, token, qty, q18(abs(qty) * STABLECOIN_PEG), "peg", leg.is_fee))
                continue
            if price is None:
                err(
                    "fiat_value",
                    f"No {asset} price is known for {tx.occurred_at:%Y-%m-%d}: add the value of "
                    f"this {asset} amount to the file.",
                )
                continue
            value = q18(abs(qty) * price)
            if value.adjusted() >= FIAT_INTEGER_DIGITS:
                err("quantity", f"The {asset} amount is worth more than the ledger can hold; check the quantity.")
                continue
            legs.append(ResolvedLeg(asset, token, qty, value, "looked_up", leg.is_fee))
    if not errors:
        try:
            check_shape(tx.kind, legs, tx.income_type or "")
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    err(name, message)
    if errors:
        return None, errors
    return ImportRow(
        ref=tx.ref,
        row=row,
        occurred_at=tx.occurred_at.astimezone(UTC),
        kind=tx.kind,
        income_type=tx.income_type or "",
        legs=legs,
        position_id=position_id,
        dedupe_key=csvformats.transaction_key(tx),
        description=description,
    ), []


def csv_import_preview(*, portfolio: Portfolio, file: CsvFile, fmt: str) -> ImportPreview:
    """Parse and check a file against the portfolio; write nothing."""
    data = _read(file)
    fiat = getattr(portfolio.owner, "fiat_currency", "USD") or "USD"
    txs, errors, row_of = _parse(data, fmt, fiat)
    leg_currencies = _leg_currencies(data, fmt)
    preview = ImportPreview(errors=list(errors))
    if not txs:
        if not errors:
            preview.errors.append(ImportError_(None, "file", "The file has no transactions."))
        return preview
    existing = _existing_keys(portfolio)
    positions = set(Position.objects.filter(portfolio=portfolio).values_list("pk", flat=True))
    tokens = _Tokens()
    now = timezone.now()
    seen: set[str] = set()
    for tx in txs:
        row = row_of.get(tx.ref)
        resolved, row_errors = _resolve_tx(
            tx, portfolio=portfolio, positions=positions, tokens=tokens, row=row, now=now, currency=fiat,
            leg_currencies=leg_currencies,
        )
        if row_errors:
            preview.errors.extend(row_errors)
            continue
        assert resolved is not None
        if resolved.dedupe_key in existing or resolved.dedupe_key in seen:
            preview.duplicates.append(resolved)
            continue
        seen.add(resolved.dedupe_key)
        preview.rows.append(resolved)
    preview.errors.sort(key=lambda e: (e.row is None, e.row or 0))
    return preview


def csv_import_commit(*, portfolio: Portfolio, file: CsvFile, fmt: str, skip_errors: bool = False) -> ImportResult:
    """Import a file: every new transaction, or none if any row has an error - unless
    ``skip_errors``: then the transactions without errors are imported and the rows
    with errors are reported as ``skipped`` (header or file errors still stop it)."""
    with transaction.atomic():
        # One import at a time per portfolio: a concurrent re-import of the same file
        # waits here and then sees the first one's transactions as duplicates.
        Portfolio.objects.select_for_update().filter(pk=portfolio.pk).exists()
        preview = csv_import_preview(portfolio=portfolio, file=file, fmt=fmt)
        skipped: list[ImportError_] = []
        if preview.errors and skip_errors and preview.skippable:
            skipped, preview.errors = preview.errors, []
        if preview.errors:
            return ImportResult(created=0, duplicates=len(preview.duplicates), errors=preview.errors)
        if not preview.rows:
            return ImportResult(created=0, duplicates=len(preview.duplicates), errors=[])
        txns = [
            Transaction(
                portfolio=portfolio,
                position_id=r.position_id,
                kind=r.kind,
                income_type=r.income_type,
                occurred_at=r.occurred_at,
                description=r.description,
                source=Transaction.Source.IMPORT,
                dedupe_key=r.dedupe_key,
            )
            for r in preview.rows
        ]
        for txn in txns:
            txn.full_clean(exclude=["portfolio", "position"], validate_constraints=False)
        created = Transaction.objects.bulk_create(txns)
        legs = [leg.leg(txn) for txn, r in zip(created, preview.rows, strict=True) for leg in r.legs]
        Leg.objects.bulk_create(legs, batch_size=2000)
        tokens_track(leg.token.pk for r in preview.rows for leg in r.legs if leg.token is not None)
        portfolio_ledger_changed(portfolio_id=portfolio.pk)
        return ImportResult(
            created=len(created),
            duplicates=len(preview.duplicates),
            errors=[],
            transaction_ids=[t.pk for t in created],
            skipped=skipped,
        )


# --------------------------------------------------------------------------- export


def _tx_in(txn: Transaction) -> TxIn:
    legs = tuple(
        LegIn(
            leg.asset,
            normalize_decimal(leg.quantity),
            None if leg.fiat_value is None else normalize_decimal(leg.fiat_value),
            leg.is_fee,
        )
        for leg in sorted(txn.legs.all(), key=lambda leg: leg.pk)
    )
    return TxIn(
        ref=str(txn.pk),
        occurred_at=txn.occurred_at,
        kind=txn.kind,
        legs=legs,
        income_type=txn.income_type or None,
        position=lp_asset(txn.position_id) if txn.position_id else None,
        category=txn.category,
    )


def csv_export(*, portfolio: Portfolio) -> str:
    """The portfolio's transactions in the native format, oldest first: all of them, hidden ones
    included (the ``hidden`` column says which; ``category`` says a transfer's)."""
    txs = list(Transaction.objects.filter(portfolio=portfolio).prefetch_related("legs").order_by("occurred_at", "id"))
    currencies = {(str(t.pk), i): leg.fiat_currency
                  for t in txs for i, leg in enumerate(sorted(t.legs.all(), key=lambda leg: leg.pk))}
    return csvformats.write_native([_tx_in(t) for t in txs], notes={str(t.pk): t.description for t in txs},
                                   currencies=currencies, hidden={str(t.pk) for t in txs if t.hidden})


__all__ = [
    "FORMATS",
    "ImportError_",
    "ImportPreview",
    "ImportResult",
    "ImportRow",
    "PRICE_MAX_AGE",
    "csv_export",
    "csv_import_commit",
    "csv_import_preview",
]
