"""CSV import/export formats of transactions (pure: standard library only, no Django).

* ``native``: the Yieldledger format, one row per leg (parse and write);
* ``koinly``: Koinly's universal format, one row per transaction (parse);
* ``common``: row errors, cell readers, the content hash.

Parsing contract
================
``parse_native`` / ``parse_koinly`` return ``(transactions, errors)``; they
never raise on bad data.  ``RowError.row_number`` is the spreadsheet row (the
header is row 1).  A transaction with any bad row is dropped entirely (never
a partial transaction); its other rows get an error pointing at the bad one.

``transaction_key(tx)`` is a stable SHA-256 of the transaction's economic
content (UTC instant, kind, income type, position and its legs in a
canonical order; not the ref, so re-importing the same row - even under a
different id - gives the same key).
"""

from portfolios.csvformats.common import LegIn, RowError, TxIn, transaction_key
from portfolios.csvformats.koinly import KOINLY_COLUMNS, parse_koinly
from portfolios.csvformats.native import (
    NATIVE_COLUMNS,
    NATIVE_REQUIRED,
    native_currencies,
    native_notes,
    parse_native,
    write_native,
)

__all__ = [
    "KOINLY_COLUMNS",
    "NATIVE_COLUMNS",
    "NATIVE_REQUIRED",
    "LegIn",
    "RowError",
    "TxIn",
    "native_currencies",
    "native_notes",
    "parse_koinly",
    "parse_native",
    "transaction_key",
    "write_native",
]
