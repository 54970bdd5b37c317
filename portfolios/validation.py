"""Bad input, clear answer: the checks every way in shares (pure: standard library only).

CSV imports (``portfolios.csvformats``, hence the web import, the API import
and ``manage.py tax_report``), the services behind the forms and the API
(``portfolios.services.legs``) all call these, so a value is accepted or
refused the same way wherever it comes from, with the same words:

* **numbers**: finite, within what the ledger stores (``Leg.quantity`` has 48
  digits of which 18 decimals: at most 30 before the point; ``Leg.fiat_value``
  38 digits: at most 20), at most 18 decimal places, and never negative where
  the sign has no meaning (values, prices, the amounts of a Koinly row).
  Text longer than ``MAX_NUMBER_TEXT`` characters is refused before it is
  parsed (a 10,000-digit "number" costs time to read and means nothing);
* **moments**: time-zone aware, not before the first block of Bitcoin
  (2009-01-03) and not more than ``FUTURE_TOLERANCE`` ahead of now;
* **text**: a CSV file is decoded so that bytes which are not UTF-8 survive
  as lone surrogates (``decode_csv``); each row's cells are then checked
  (``undecodable_cell``), so the error names the row and column they are in;
* **exports**: ``csv_safe_cell`` neutralises a cell a spreadsheet would run as
  a formula (OWASP "CSV injection": a cell starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return gets a leading ``'``) but leaves numbers as
  they are (``-12.5`` stays a number).

Every refusal is an :class:`InputProblem` (a ``ValueError``) naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation

#: Nothing on a blockchain is older than Bitcoin's genesis block (2009-01-03 18:15:05 UTC); we accept the whole day.
EARLIEST_MOMENT = datetime(2009, 1, 3, tzinfo=UTC)
#: How far ahead of the server clock a moment may be (time zones, clock skew).
FUTURE_TOLERANCE = timedelta(days=1)
#: Decimal places stored for quantities and values.
DECIMAL_PLACES = 18
#: Digits before the decimal point: Leg.quantity (48 digits, 18 decimals) and fiat values (38, 18).
QUANTITY_INTEGER_DIGITS = 30
FIAT_INTEGER_DIGITS = 20
#: Longest text read as a number.
MAX_NUMBER_TEXT = 80

QUANTITY = "quantity"
FIAT = "fiat"
_INTEGER_DIGITS = {QUANTITY: QUANTITY_INTEGER_DIGITS, FIAT: FIAT_INTEGER_DIGITS}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(_FORMULA_START)
_WIDE = Context(prec=80)  # room for 30 + 18 digits when checking the decimal places


class InputProblem(ValueError):
    """A value refused, with a message for the user and the field it came from."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


def check_number(value: Decimal, field: str, *, what: str = QUANTITY, negative: bool = True) -> Decimal:
    """``value`` if the ledger can store it exactly; else :class:`InputProblem`.

    ``what`` is ``"quantity"`` or ``"fiat"`` (its size limit); ``negative=False``
    refuses a value below zero."""
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise InputProblem(field, f"{value!r} is not a decimal number")
    if not value.is_finite():
        raise InputProblem(field, f"{value} is not a finite number")
    if value < 0 and not negative:
        raise InputProblem(field, f"{_shown(value)} cannot be negative")
    if not value:
        return value
    digits = _INTEGER_DIGITS[what]
    if value.adjusted() >= digits:
        raise InputProblem(field, f"{_shown(value)} is too large: at most {digits} digits before the decimal point")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -DECIMAL_PLACES and value != value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES), context=_WIDE):
        raise InputProblem(field, f"{_shown(value)} has more than {DECIMAL_PLACES} decimal places")
    return value


def parse_number(text: str, field: str, *, what: str = QUANTITY, negative: bool = True) -> Decimal:
    """A number from text (``.`` as the decimal point, no thousands separators,
    scientific notation allowed), checked by :func:`check_number`."""
    cleaned = text.strip()
    if not cleaned:
        raise InputProblem(field, "is required")
    if len(cleaned) > MAX_NUMBER_TEXT:
        raise InputProblem(field, f"{cleaned[:20]}... is too long to be a number ({len(cleaned)} characters)")
    if "," in cleaned:
        raise InputProblem(field, f"{cleaned!r}: use '.' as the decimal point and no thousands separators")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputProblem(field, f"{cleaned!r} is not a number") from None
    return check_number(value, field, what=what, negative=negative)


def check_moment(value: datetime, field: str, *, now: datetime) -> datetime:
    """An aware moment between ``EARLIEST_MOMENT`` and ``now + FUTURE_TOLERANCE``."""
    if not isinstance(value, datetime):
        raise InputProblem(field, "give a date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputProblem(field, f"{value:%Y-%m-%d %H:%M} has no time zone: give it with its UTC offset")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 west of UTC is before the first datetime
        raise InputProblem(field, f"{_day(value)} is before {EARLIEST_MOMENT:%Y-%m-%d}, the first block of Bitcoin; "
                                  "check the date") from None
    if utc < EARLIEST_MOMENT:
        raise InputProblem(field, f"{_day(value)} is before {EARLIEST_MOMENT:%Y-%m-%d}, the first block of Bitcoin; "
                                  "check the date")
    if utc > now + FUTURE_TOLERANCE:
        raise InputProblem(field, f"{_day(value)} is in the future; record what already happened")
    return value


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (a byte-order mark is dropped); bytes that are not
    UTF-8 become lone surrogates, found per cell by :func:`undecodable_cell`."""
    return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")


def undecodable_cell(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> str | None:
    """The first column whose cell holds bytes that were not UTF-8 (see :func:`decode_csv`)."""
    items = values.items() if isinstance(values, Mapping) else values
    for column, cell in items:
        if cell and _has_surrogate(cell):
            return column
    return None


def undecodable_message(cell: str) -> str:
    bad = next((c for c in cell if "\udc80" <= c <= "\udcff"), "")
    byte = f" (byte 0x{ord(bad) - 0xDC00:02X})" if bad else ""
    return f"is not UTF-8 text{byte}: save the file as CSV (UTF-8)"


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def csv_safe_cell(value: object) -> object:
    """A cell for a CSV export: text a spreadsheet would read as a formula gets a
    leading ``'``; numbers (``-12.5``, ``+3``, ``1e-7``) and everything else pass unchanged."""
    if not isinstance(value, str) or not value or not value.startswith(_FORMULA_START):
        return value
    if value[0] in "+-" and _is_number(value):
        return value
    return "'" + value


def csv_safe_row(row: Iterable[object]) -> list[object]:
    """:func:`csv_safe_cell` over a row (the exports call it per row: kept cheap for 100k-row files)."""
    out = list(row)
    for i, value in enumerate(out):
        if type(value) is str and value and value[0] in _FORMULA_CHARS:
            out[i] = csv_safe_cell(value)
    return out


def _is_number(text: str) -> bool:
    if len(text) > MAX_NUMBER_TEXT or text != text.strip():
        return False
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _shown(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}...{text[-8:]}"


def _day(value: datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"

