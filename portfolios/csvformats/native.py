"""The Yieldledger native CSV format: parse and write (pure: standard library only).

UTF-8 CSV with a header row; **one row per leg**; the rows of a transaction
share its ``tx_id`` (they need not be adjacent, but transaction-level columns
must agree on every row).  Columns (order free, extra columns ignored):

=============  ========  ===========================================================
column         required  meaning
=============  ========  ===========================================================
tx_id          yes       your identifier of the transaction (becomes ``TxIn.ref``)
occurred_at    yes       ISO 8601 with an offset or ``Z``: ``2024-05-01T13:45:00Z``,
                         ``2024-05-01T15:45:00+02:00``.  Naive times are rejected.
kind           yes       buy, sell, swap, lp_deposit, lp_withdraw, stake, unstake,
                         reward, fee, transfer_in, transfer_out
income_type    rewards   staking, liquidity_mining, lp_fees, interest, airdrop,
                         mining, other (blank on every other kind)
asset          yes       ticker / token symbol, e.g. ``ETH``, ``USD``, ``UNI-V2``
quantity       yes       signed decimal: ``+`` received, ``-`` sent; not zero;
                         plain or scientific notation, ``.`` as decimal point,
                         no thousands separators
fiat_value     no        absolute value of this leg in your fiat at that moment;
                         blank when unknown (the engine says when it needs one)
fiat_currency  no        ISO 4217 code of ``fiat_value`` (``GBP``); blank = your
                         currency.  ``native_currencies()`` reads it; exports write it
is_fee         no        ``true``/``false`` (also 1/0, yes/no; blank = false)
position       no        LP / farm / validator key (same on all rows of the tx)
note           no        free text, not used by the tax engine; ``native_notes()``
                         returns the first non-blank note of each tx_id
category       no        exports only: a transfer's category (``gift``,
                         ``gift_spouse``) or blank; not read back by imports
hidden         no        exports only: ``true`` for a hidden transaction (kept,
                         counted nowhere); not read back by imports
=============  ========  ===========================================================

Every cell follows ``portfolios.validation``: quantities at most 30 digits
before the point and 18 after, values at most 20 before and never negative,
dates from 2009-01-03 to a day ahead, text in UTF-8 (bytes that are not are
reported on their row and column).

Example (a swap paying gas in ETH)::

    tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note
    t1,2024-05-01T13:45:00Z,swap,,ETH,-1.5,4500.00,false,,uniswap
    t1,2024-05-01T13:45:00Z,swap,,USDC,4490.12,4490.12,false,,
    t1,2024-05-01T13:45:00Z,swap,,ETH,-0.002,6.00,true,,
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from portfolios.csvformats.common import (
    LedgerDataError,
    LegIn,
    RowError,
    RowProblem,
    TxIn,
    check_cells,
    csv_reader,
    header_problem,
    parse_bool,
    parse_decimal,
    parse_iso_datetime,
)
from portfolios.ledger import IncomeType, TxKind
from portfolios.validation import csv_safe_row

_KIND_NAMES = ", ".join(sorted(TxKind))
_INCOME_NAMES = ", ".join(sorted(IncomeType))

NATIVE_COLUMNS = (
    "tx_id",
    "occurred_at",
    "kind",
    "income_type",
    "asset",
    "quantity",
    "fiat_value",
    "is_fee",
    "position",
    "note",
)
NATIVE_REQUIRED = ("tx_id", "occurred_at", "kind", "asset", "quantity")


def parse_native(source: str | bytes | Iterable[str]) -> tuple[list[TxIn], list[RowError]]:
    """Parse the Yieldledger native CSV (see module docstring)."""
    errors: list[RowError] = []
    try:
        reader = csv_reader(source)
        header = [h.strip() for h in (reader.fieldnames or [])]
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [RowError(1, "header", f"unreadable CSV: {exc}")]
    reader.fieldnames = header
    undecodable = header_problem(header)
    if undecodable:
        return [], [undecodable]
    missing = [c for c in NATIVE_REQUIRED if c not in header]
    if missing:
        return [], [RowError(1, c, "missing column") for c in missing]

    # Parsed rows (dict), or None for a row that failed: its whole group is then rejected.
    groups: dict[str, list[tuple[int, Any]]] = {}
    order: list[str] = []
    bad: dict[str, int] = {}  # tx_id -> first bad row
    try:
        for row_number, row in enumerate(reader, start=2):
            values = {k: (v or "") for k, v in row.items() if k is not None}
            if None in row:
                errors.append(RowError(row_number, "row", "more fields than header columns"))
            if not any(v.strip() for v in values.values()):
                continue
            tx_id = values.get("tx_id", "").strip()
            if not tx_id:
                errors.append(RowError(row_number, "tx_id", "is required"))
                continue
            try:
                check_cells(values)
                parsed = _native_row(values)
            except RowProblem as problem:
                errors.append(RowError(row_number, problem.field, problem.message))
                bad.setdefault(tx_id, row_number)
                parsed = None
            if None in row:
                bad.setdefault(tx_id, row_number)
            if tx_id not in groups:
                groups[tx_id] = []
                order.append(tx_id)
            groups[tx_id].append((row_number, parsed))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "row", f"unreadable CSV: {exc}"))

    transactions: list[TxIn] = []
    for tx_id in order:
        rows = groups[tx_id]
        if tx_id in bad:
            _reject_siblings(errors, rows, bad[tx_id], tx_id)
            continue
        first_row, first = rows[0]
        problem_row = None
        for row_number, parsed in rows[1:]:
            for key in ("occurred_at", "kind", "income_type", "position"):
                if parsed[key] != first[key]:
                    errors.append(RowError(row_number, key, f"differs from row {first_row} of transaction {tx_id!r}"))
                    problem_row = problem_row or row_number
        if problem_row:
            _reject_siblings(errors, rows, problem_row, tx_id)
            continue
        try:
            tx = TxIn(
                ref=tx_id,
                occurred_at=first["occurred_at"],
                kind=first["kind"],
                legs=tuple(parsed["leg"] for _, parsed in rows),
                income_type=first["income_type"],
                position=first["position"],
            )
        except (LedgerDataError, ValueError, TypeError) as exc:
            errors.append(RowError(first_row, "kind", str(exc)))
            _reject_siblings(errors, rows, first_row, tx_id)
            continue
        transactions.append(tx)
    errors.sort(key=lambda e: e.row_number)
    return transactions, errors


def _reject_siblings(errors: list[RowError], rows: list, bad_row: int, tx_id: str) -> None:
    for row_number, _ in rows:
        if row_number != bad_row and not any(e.row_number == row_number for e in errors):
            errors.append(
                RowError(row_number, "tx_id", f"transaction {tx_id!r} rejected because row {bad_row} is invalid")
            )


def _native_row(values: Mapping[str, str]) -> dict:
    occurred_at = parse_iso_datetime(values.get("occurred_at", ""), "occurred_at")
    kind = values.get("kind", "").strip().lower()
    if kind not in TxKind:
        raise RowProblem("kind", f"{kind!r} is not one of {_KIND_NAMES}")
    income_type = values.get("income_type", "").strip().lower() or None
    if income_type is not None and income_type not in IncomeType:
        raise RowProblem("income_type", f"{income_type!r} is not one of {_INCOME_NAMES}")
    if income_type is not None and kind != "reward":
        raise RowProblem("income_type", f"only rewards have an income type, this row is a {kind}")
    asset = values.get("asset", "").strip()
    if not asset:
        raise RowProblem("asset", "is required")
    quantity = parse_decimal(values.get("quantity", ""), "quantity")
    if quantity == 0:
        raise RowProblem("quantity", "must not be zero")
    fiat_text = values.get("fiat_value", "").strip()
    fiat_value = parse_decimal(fiat_text, "fiat_value", allow_negative=False, fiat=True) if fiat_text else None
    is_fee = parse_bool(values.get("is_fee", ""), "is_fee")
    if is_fee and quantity > 0:
        raise RowProblem("quantity", "a fee leg must be negative (an amount paid)")
    position = values.get("position", "").strip() or None
    return {
        "occurred_at": occurred_at,
        "kind": kind,
        "income_type": income_type,
        "position": position,
        "note": values.get("note", "").strip(),
        "leg": LegIn(asset, quantity, fiat_value, is_fee),
    }


def native_notes(source: str | bytes | Iterable[str]) -> dict[str, str]:
    """The first non-blank ``note`` of each ``tx_id`` (TxIn has no note field)."""
    notes: dict[str, str] = {}
    try:
        for row in csv_reader(source):
            tx_id = (row.get("tx_id") or "").strip()
            note = (row.get("note") or "").strip()
            if tx_id and note and tx_id not in notes:
                notes[tx_id] = note
    except (csv.Error, UnicodeDecodeError):
        pass
    return notes


def native_currencies(source: str | bytes | Iterable[str]) -> dict[tuple[str, int], str]:
    """``(tx_id, leg index) -> code`` from the optional ``fiat_currency`` column (upper-cased,
    blank cells left out); a leg's index counts the non-blank rows of its ``tx_id`` in
    file order, as :func:`parse_native` builds the legs. Not validated here."""
    out: dict[tuple[str, int], str] = {}
    seen: dict[str, int] = {}
    try:
        for row in csv_reader(source):
            values = {k: (v or "") for k, v in row.items() if k is not None}
            if not any(v.strip() for v in values.values()):
                continue
            tx_id = values.get("tx_id", "").strip()
            if not tx_id:
                continue
            index = seen.get(tx_id, 0)
            seen[tx_id] = index + 1
            code = values.get("fiat_currency", "").strip().upper()
            if code:
                out[(tx_id, index)] = code
    except (csv.Error, UnicodeDecodeError):
        pass
    return out


def write_native(transactions: Iterable[TxIn], notes: Mapping[str, str] | None = None,
                 currencies: Mapping[tuple[str, int], str] | None = None,
                 hidden: Collection[str] | None = None) -> str:
    """Export transactions in the native format (the note goes on the first row).
    With ``currencies`` (``(tx ref, leg index) -> code``) a ``fiat_currency`` column
    names each value's currency. With ``hidden`` (the refs of hidden transactions) two last
    columns say each transaction's ``category`` (a gift, ...) and whether it is ``hidden``."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NATIVE_COLUMNS + (("fiat_currency",) if currencies is not None else ())
                    + (("category", "hidden") if hidden is not None else ()))
    notes = notes or {}
    for tx in transactions:
        moment = tx.occurred_at.isoformat()
        if moment.endswith("+00:00"):
            moment = moment[:-6] + "Z"
        for i, leg in enumerate(tx.legs):
            writer.writerow(  # no cell a spreadsheet would run as a formula (numbers stay numbers)
                csv_safe_row([
                    tx.ref,
                    moment,
                    tx.kind,
                    tx.income_type or "",
                    leg.asset,
                    format(leg.quantity, "f"),
                    "" if leg.fiat_value is None else format(leg.fiat_value, "f"),
                    "true" if leg.is_fee else "false",
                    tx.position or "",
                    notes.get(tx.ref, "") if i == 0 else "",
                    *(() if currencies is None else (currencies.get((tx.ref, i), "") if leg.fiat_value is not None
                                                     else "",)),
                    *(() if hidden is None else (tx.category, "true" if tx.ref in hidden else "false")),
                ])
            )
    return out.getvalue()
