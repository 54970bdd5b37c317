"""What the CSV formats share: the parsing contract's row errors, cell readers,
and the content hash of a transaction (pure: standard library only).

The parsed records are the ledger's ``TxIn`` / ``LegIn`` (``portfolios.records``,
validated on construction; the tax engine computes on the same records).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from config.formatting import plain_number
from portfolios.records import LedgerDataError, LegIn, TxIn
from portfolios.validation import (
    FIAT,
    QUANTITY,
    InputProblem,
    check_moment,
    decode_csv,
    parse_number,
    undecodable_cell,
    undecodable_message,
)

__all__ = ["LedgerDataError", "LegIn", "RowError", "RowProblem", "TxIn", "transaction_key"]

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True, slots=True)
class RowError:
    row_number: int  # spreadsheet row: header = 1
    field: str
    message: str


#: A bad cell: the shared validator's refusal (``portfolios.validation``), with the column as its field.
RowProblem = InputProblem


def csv_reader(source: str | bytes | Iterable[str]) -> csv.DictReader[str]:
    if isinstance(source, bytes):
        source = decode_csv(source)  # bytes that are not UTF-8 are reported on their row (check_cells)
    if isinstance(source, str):
        source = io.StringIO(source.removeprefix("\ufeff"), newline="")
    return csv.DictReader(source)


def parse_decimal(text: str, field: str, *, allow_negative: bool = True, fiat: bool = False) -> Decimal:
    """A quantity (or, with ``fiat``, a value) as the ledger can store it (``validation.parse_number``)."""
    return parse_number(text, field, what=FIAT if fiat else QUANTITY, negative=allow_negative)


def check_cells(values: dict[str, str]) -> None:
    """Refuse a row holding bytes that were not UTF-8, naming the column."""
    column = undecodable_cell(values)
    if column is not None:
        raise RowProblem(column, undecodable_message(values[column]))


def header_problem(header: Iterable[str]) -> RowError | None:
    """A header with bytes that were not UTF-8: an error on row 1."""
    for name in header:
        if undecodable_cell({"header": name}):
            return RowError(1, "header", f"column {name.encode('utf-8', 'surrogateescape')!r} "
                                         + undecodable_message(name))
    return None


def parse_iso_datetime(text: str, field: str) -> datetime:
    cleaned = text.strip()
    if not cleaned:
        raise RowProblem(field, "is required")
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise RowProblem(field, f"{cleaned!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise RowProblem(field, f"{cleaned!r} has no UTC offset: add 'Z' or '+hh:mm'")
    return check_moment(value, field, now=datetime.now(UTC))


def parse_bool(text: str, field: str) -> bool:
    cleaned = text.strip().lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise RowProblem(field, f"{text.strip()!r} is not true/false")


def transaction_key(tx: TxIn) -> str:
    """Stable content hash (hex SHA-256) of a transaction's economic content."""
    moment = tx.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    legs = sorted([leg.asset, plain_number(leg.quantity), plain_number(leg.fiat_value), leg.is_fee] for leg in tx.legs)
    payload = json.dumps(
        [1, moment, tx.kind, tx.income_type or "", tx.position or "", legs], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
