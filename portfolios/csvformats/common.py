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
from decimal import Decimal, InvalidOperation

from config.formatting import plain_number
from portfolios.records import LedgerDataError, LegIn, TxIn

__all__ = ["LedgerDataError", "LegIn", "RowError", "RowProblem", "TxIn", "transaction_key"]

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True, slots=True)
class RowError:
    row_number: int  # spreadsheet row: header = 1
    field: str
    message: str


class RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


def csv_reader(source: str | bytes | Iterable[str]) -> csv.DictReader[str]:
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    if isinstance(source, str):
        source = io.StringIO(source.removeprefix("\ufeff"), newline="")
    return csv.DictReader(source)


def parse_decimal(text: str, field: str, *, allow_negative: bool = True) -> Decimal:
    cleaned = text.strip()
    if not cleaned:
        raise RowProblem(field, "is required")
    if "," in cleaned:
        raise RowProblem(field, f"{cleaned!r}: use '.' as the decimal point and no thousands separators")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RowProblem(field, f"{cleaned!r} is not a number") from None
    if not value.is_finite():
        raise RowProblem(field, f"{cleaned!r} is not a finite number")
    if value < 0 and not allow_negative:
        raise RowProblem(field, f"{cleaned!r} cannot be negative")
    return value


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
    return value


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
