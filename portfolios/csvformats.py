"""CSV import/export for the tax engine (pure: standard library only, no Django).

Yieldledger native format
=========================
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
is_fee         no        ``true``/``false`` (also 1/0, yes/no; blank = false)
position       no        LP / farm / validator key (same on all rows of the tx)
note           no        free text, not used by the tax engine; ``native_notes()``
                         returns the first non-blank note of each tx_id
=============  ========  ===========================================================

Example (a swap paying gas in ETH)::

    tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note
    t1,2024-05-01T13:45:00Z,swap,,ETH,-1.5,4500.00,false,,uniswap
    t1,2024-05-01T13:45:00Z,swap,,USDC,4490.12,4490.12,false,,
    t1,2024-05-01T13:45:00Z,swap,,ETH,-0.002,6.00,true,,

Koinly universal format
=======================
Columns ``Date`` (or ``Koinly Date``; UTC: ``2024-05-01 13:45 UTC`` or ISO),
``Sent Amount, Sent Currency, Received Amount, Received Currency, Fee Amount,
Fee Currency, Net Worth Amount, Net Worth Currency, Label`` (or ``Tag``),
``Description, TxHash``.  One row is one transaction; consecutive rows with
the same TxHash labelled ``liquidity in``/``liquidity out`` form one LP
transaction.  Mapping:

* sent and received: fiat -> crypto is a ``buy``, crypto -> fiat a ``sell``,
  crypto -> crypto a ``swap``; label liquidity in / out -> ``lp_deposit`` /
  ``lp_withdraw``; add to pool / remove from pool -> ``stake`` / ``unstake``.
* received only: reward, staking -> reward/staking; airdrop, fork -> airdrop;
  lending interest, loan interest, interest -> interest; mining -> mining;
  income, other income, salary -> other; liquidity mining, farming ->
  liquidity_mining; lp fees -> lp_fees; no label (deposit, cashback, gift
  received, ...) -> ``transfer_in`` (an acquisition at Net Worth unless it
  matches an earlier ``transfer_out``).
* sent only: no label (withdrawal) -> ``transfer_out``; cost, tax, margin fee,
  loan fee, interest payment, fee -> ``fee``.  Koinly's gift, donation, lost
  and its non-taxable ``swap`` label are not modelled and are rejected.
* Net Worth is the value of the row in your fiat (it must be in that
  currency); it values both sides of a trade.  A fee in a token is valued
  from the row's price of that token (or face value for your fiat).
* Rows that only move fiat (bank deposits/withdrawals) are skipped - fiat is
  not lot-tracked.

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

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from portfolios.tax.engine import (
    DEFAULT_FIAT_CODES,
    INCOME_TYPES,
    KINDS,
    LegIn,
    TaxEngineError,
    TxIn,
)

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
KOINLY_COLUMNS = (
    "Date",
    "Sent Amount",
    "Sent Currency",
    "Received Amount",
    "Received Currency",
    "Fee Amount",
    "Fee Currency",
    "Net Worth Amount",
    "Net Worth Currency",
    "Label",
    "Description",
    "TxHash",
)

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True, slots=True)
class RowError:
    row_number: int  # spreadsheet row: header = 1
    field: str
    message: str


class _RowProblem(Exception):
    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


# --------------------------------------------------------------------------- helpers


def _reader(source: str | bytes | Iterable[str]) -> csv.DictReader:
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    if isinstance(source, str):
        source = io.StringIO(source.removeprefix("\ufeff"), newline="")
    return csv.DictReader(source)


def _decimal(text: str, field: str, *, allow_negative: bool = True) -> Decimal:
    cleaned = text.strip()
    if not cleaned:
        raise _RowProblem(field, "is required")
    if "," in cleaned:
        raise _RowProblem(field, f"{cleaned!r}: use '.' as the decimal point and no thousands separators")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise _RowProblem(field, f"{cleaned!r} is not a number") from None
    if not value.is_finite():
        raise _RowProblem(field, f"{cleaned!r} is not a finite number")
    if value < 0 and not allow_negative:
        raise _RowProblem(field, f"{cleaned!r} cannot be negative")
    return value


def _iso_datetime(text: str, field: str) -> datetime:
    cleaned = text.strip()
    if not cleaned:
        raise _RowProblem(field, "is required")
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise _RowProblem(field, f"{cleaned!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise _RowProblem(field, f"{cleaned!r} has no UTC offset: add 'Z' or '+hh:mm'")
    return value


def _bool(text: str, field: str) -> bool:
    cleaned = text.strip().lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise _RowProblem(field, f"{text.strip()!r} is not true/false")


def _canonical_decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def transaction_key(tx: TxIn) -> str:
    """Stable content hash (hex SHA-256) of a transaction's economic content."""
    moment = tx.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    legs = sorted(
        [leg.asset, _canonical_decimal(leg.quantity), _canonical_decimal(leg.fiat_value), leg.is_fee] for leg in tx.legs
    )
    payload = json.dumps(
        [1, moment, tx.kind, tx.income_type or "", tx.position or "", legs], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- native


def parse_native(source: str | bytes | Iterable[str]) -> tuple[list[TxIn], list[RowError]]:
    """Parse the Yieldledger native CSV (see module docstring)."""
    errors: list[RowError] = []
    try:
        reader = _reader(source)
        header = [h.strip() for h in (reader.fieldnames or [])]
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [RowError(1, "header", f"unreadable CSV: {exc}")]
    reader.fieldnames = header
    missing = [c for c in NATIVE_REQUIRED if c not in header]
    if missing:
        return [], [RowError(1, c, "missing column") for c in missing]

    groups: dict[str, list[tuple[int, dict]]] = {}
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
                parsed = _native_row(values)
            except _RowProblem as problem:
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
        except (TaxEngineError, ValueError, TypeError) as exc:
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
    occurred_at = _iso_datetime(values.get("occurred_at", ""), "occurred_at")
    kind = values.get("kind", "").strip().lower()
    if kind not in KINDS:
        raise _RowProblem("kind", f"{kind!r} is not one of {', '.join(sorted(KINDS))}")
    income_type = values.get("income_type", "").strip().lower() or None
    if income_type is not None and income_type not in INCOME_TYPES:
        raise _RowProblem("income_type", f"{income_type!r} is not one of {', '.join(sorted(INCOME_TYPES))}")
    if income_type is not None and kind != "reward":
        raise _RowProblem("income_type", f"only rewards have an income type, this row is a {kind}")
    asset = values.get("asset", "").strip()
    if not asset:
        raise _RowProblem("asset", "is required")
    quantity = _decimal(values.get("quantity", ""), "quantity")
    if quantity == 0:
        raise _RowProblem("quantity", "must not be zero")
    fiat_text = values.get("fiat_value", "").strip()
    fiat_value = _decimal(fiat_text, "fiat_value", allow_negative=False) if fiat_text else None
    is_fee = _bool(values.get("is_fee", ""), "is_fee")
    if is_fee and quantity > 0:
        raise _RowProblem("quantity", "a fee leg must be negative (an amount paid)")
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
        for row in _reader(source):
            tx_id = (row.get("tx_id") or "").strip()
            note = (row.get("note") or "").strip()
            if tx_id and note and tx_id not in notes:
                notes[tx_id] = note
    except (csv.Error, UnicodeDecodeError):
        pass
    return notes


def write_native(transactions: Iterable[TxIn], notes: Mapping[str, str] | None = None) -> str:
    """Export transactions in the native format (the note goes on the first row)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NATIVE_COLUMNS)
    notes = notes or {}
    for tx in transactions:
        moment = tx.occurred_at.isoformat()
        if moment.endswith("+00:00"):
            moment = moment[:-6] + "Z"
        for i, leg in enumerate(tx.legs):
            writer.writerow(
                [
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
                ]
            )
    return out.getvalue()


# --------------------------------------------------------------------------- Koinly

_KOINLY_ALIASES = {
    "date": "Date",
    "koinly date": "Date",
    "sent amount": "Sent Amount",
    "sent currency": "Sent Currency",
    "received amount": "Received Amount",
    "received currency": "Received Currency",
    "fee amount": "Fee Amount",
    "fee currency": "Fee Currency",
    "net worth amount": "Net Worth Amount",
    "net worth currency": "Net Worth Currency",
    "label": "Label",
    "tag": "Label",
    "description": "Description",
    "txhash": "TxHash",
    "tx hash": "TxHash",
}

_INCOME_LABELS = {
    "reward": "staking",
    "rewards": "staking",
    "staking": "staking",
    "staking reward": "staking",
    "airdrop": "airdrop",
    "fork": "airdrop",
    "lending interest": "interest",
    "loan interest": "interest",
    "interest": "interest",
    "mining": "mining",
    "income": "other",
    "other income": "other",
    "salary": "other",
    "liquidity mining": "liquidity_mining",
    "farming": "liquidity_mining",
    "yield farming": "liquidity_mining",
    "lp fees": "lp_fees",
    "lp fee": "lp_fees",
}
_EXPENSE_LABELS = {"cost", "tax", "margin fee", "loan fee", "interest payment", "fee", "fees"}
_TRANSFER_LABELS = {
    "",
    "deposit",
    "withdrawal",
    "transfer",
    "cashback",
    "fee refund",
    "gift received",
    "loan",
    "margin loan",
}
_LIQUIDITY = {"liquidity in": "lp_deposit", "liquidity out": "lp_withdraw"}
_POOL_IN = {"add to pool", "sent to pool", "stake"}
_POOL_OUT = {"remove from pool", "received from pool", "unstake"}
_UNSUPPORTED = {
    "gift": "gifts are not modelled",
    "gift sent": "gifts are not modelled",
    "donation": "donations are not modelled",
    "lost": "lost/stolen coins are not modelled",
    "stolen": "lost/stolen coins are not modelled",
    "swap": "Koinly's non-taxable 'swap' label is not modelled; remove it to treat the row as a taxable swap",
    "realized gain": "realized P&L rows are not modelled",
    "realized pnl": "realized P&L rows are not modelled",
}


def _label(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())


def _koinly_datetime(text: str) -> datetime:
    cleaned = text.strip()
    if not cleaned:
        raise _RowProblem("Date", "is required")
    candidate = cleaned
    if candidate.upper().endswith(" UTC"):
        candidate = candidate[:-4].strip()
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise _RowProblem("Date", f"{cleaned!r} is not a date like '2024-05-01 13:45 UTC'") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Koinly dates are UTC
    return value


def parse_koinly(
    source: str | bytes | Iterable[str],
    fiat_currency: str = "USD",
    fiat_codes: Iterable[str] = DEFAULT_FIAT_CODES,
) -> tuple[list[TxIn], list[RowError]]:
    """Parse a Koinly universal-format CSV (see module docstring)."""
    home = fiat_currency.upper()
    fiat = {c.upper() for c in fiat_codes} | {home}
    errors: list[RowError] = []
    try:
        reader = _reader(source)
        raw_header = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [RowError(1, "header", f"unreadable CSV: {exc}")]
    header = [_KOINLY_ALIASES.get(_label(h), h.strip()) for h in raw_header]
    reader.fieldnames = header
    missing = [
        c for c in ("Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency") if c not in header
    ]
    if missing:
        return [], [RowError(1, c, "missing column") for c in missing]

    parsed_rows: list[tuple[int, dict | None, str, str]] = []  # (row, parsed, txhash, label)
    try:
        for row_number, row in enumerate(reader, start=2):
            values = {k: (v or "") for k, v in row.items() if k is not None}
            if not any(v.strip() for v in values.values()):
                continue
            txhash = values.get("TxHash", "").strip()
            label = _label(values.get("Label", ""))
            try:
                if None in row:
                    raise _RowProblem("row", "more fields than header columns")
                parsed = _koinly_row(values, label, home, fiat)
            except _RowProblem as problem:
                errors.append(RowError(row_number, problem.field, problem.message))
                parsed = None
            parsed_rows.append((row_number, parsed, txhash, label))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "row", f"unreadable CSV: {exc}"))

    # group consecutive liquidity rows sharing a TxHash
    groups: list[list[tuple[int, dict | None, str, str]]] = []
    for item in parsed_rows:
        _, _, txhash, label = item
        previous = groups[-1][-1] if groups else None
        if previous and txhash and label in _LIQUIDITY and previous[2] == txhash and previous[3] == label:
            groups[-1].append(item)
        else:
            groups.append([item])

    transactions: list[TxIn] = []
    used_refs: dict[str, int] = {}
    for group in groups:
        bad_rows = [row_number for row_number, parsed, _, _ in group if parsed is None]
        if bad_rows:
            for row_number, parsed, _, _ in group:
                if parsed is not None:
                    errors.append(
                        RowError(row_number, "TxHash", f"transaction rejected because row {bad_rows[0]} is invalid")
                    )
            continue
        first_row, first, txhash, label = group[0]
        if first.get("skip"):
            continue
        legs = tuple(leg for _, parsed, _, _ in group for leg in parsed["legs"])
        kind = first["kind"] if len(group) == 1 else _LIQUIDITY[label]
        try:
            tx = TxIn(
                ref="pending",
                occurred_at=first["occurred_at"],
                kind=kind,
                legs=legs,
                income_type=first["income_type"],
            )
            base = txhash or f"koinly-{transaction_key(tx)[:16]}"
            n = used_refs.get(base, 0) + 1
            used_refs[base] = n
            ref = base if n == 1 else f"{base}#{n}"
            tx = TxIn(ref, tx.occurred_at, tx.kind, tx.legs, tx.income_type, tx.position)
        except (TaxEngineError, ValueError, TypeError) as exc:
            errors.append(RowError(first_row, "Label", str(exc)))
            continue
        transactions.append(tx)
    errors.sort(key=lambda e: e.row_number)
    return transactions, errors


def _amount_pair(values: Mapping[str, str], amount_col: str, currency_col: str) -> tuple[Decimal, str] | None:
    amount_text = values.get(amount_col, "").strip()
    currency = values.get(currency_col, "").strip().upper()
    if not amount_text and not currency:
        return None
    if not amount_text:
        raise _RowProblem(amount_col, f"missing while {currency_col} is {currency!r}")
    if not currency:
        raise _RowProblem(currency_col, f"missing while {amount_col} is {amount_text!r}")
    amount = abs(_decimal(amount_text, amount_col))
    if amount == 0:
        return None
    return amount, currency


def _koinly_row(values: Mapping[str, str], label: str, home: str, fiat: set[str]) -> dict:
    occurred_at = _koinly_datetime(values.get("Date", ""))
    sent = _amount_pair(values, "Sent Amount", "Sent Currency")
    received = _amount_pair(values, "Received Amount", "Received Currency")
    fee = _amount_pair(values, "Fee Amount", "Fee Currency")
    worth = None
    worth_text = values.get("Net Worth Amount", "").strip()
    if worth_text:
        worth = _decimal(worth_text, "Net Worth Amount", allow_negative=False)
        worth_currency = values.get("Net Worth Currency", "").strip().upper() or home
        if worth_currency != home:
            raise _RowProblem("Net Worth Currency", f"{worth_currency} differs from the portfolio currency {home}")
    if label in _UNSUPPORTED:
        raise _RowProblem("Label", f"{label!r}: {_UNSUPPORTED[label]}")

    sent_fiat = sent is not None and sent[1] in fiat
    received_fiat = received is not None and received[1] in fiat
    income_type = None
    if sent and received:
        if label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_IN:
            kind = "stake"
        elif label in _POOL_OUT:
            kind = "unstake"
        elif label and label not in _TRANSFER_LABELS and label != "trade":
            raise _RowProblem("Label", f"{label!r} does not apply to a trade")
        elif sent_fiat and received_fiat:
            raise _RowProblem("Sent Currency", "fiat-to-fiat conversions are not tracked")
        elif sent_fiat:
            kind = "buy"
        elif received_fiat:
            kind = "sell"
        else:
            kind = "swap"
            if worth is None:
                raise _RowProblem("Net Worth Amount", "a crypto-to-crypto trade needs its value")
    elif received:
        if label in _INCOME_LABELS:
            kind = "reward"
            income_type = _INCOME_LABELS[label]
            if worth is None and not received_fiat:
                raise _RowProblem("Net Worth Amount", "income needs its value at receipt")
        elif label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_OUT:
            kind = "unstake"
        elif label in _TRANSFER_LABELS:
            if received_fiat and not fee:
                return {"skip": True}
            kind = "transfer_in"
        else:
            raise _RowProblem("Label", f"{label!r} does not apply to a deposit")
    elif sent:
        if label in _EXPENSE_LABELS:
            kind = "fee"
            if worth is None and not sent_fiat:
                raise _RowProblem("Net Worth Amount", "a fee paid in a token needs its value")
        elif label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_IN:
            kind = "stake"
        elif label in _TRANSFER_LABELS:
            if sent_fiat and not fee:
                return {"skip": True}
            kind = "transfer_out"
        else:
            raise _RowProblem("Label", f"{label!r} does not apply to a withdrawal")
    elif fee:
        kind = "fee"
    else:
        raise _RowProblem("Sent Amount", "the row sends, receives and pays nothing")

    legs: list[LegIn] = []
    prices: dict[str, Decimal] = {}
    if sent:
        amount, currency = sent
        value = amount if currency == home else worth
        legs.append(LegIn(currency, -amount, value))
        if value is not None:
            prices[currency] = value / amount
    if received:
        amount, currency = received
        value = amount if currency == home else worth
        legs.append(LegIn(currency, amount, value))
        if value is not None:
            prices.setdefault(currency, value / amount)
    if fee:
        amount, currency = fee
        if currency == home:
            value = amount
        elif currency in prices:
            value = amount * prices[currency]
        elif kind == "fee" and worth is not None:
            value = worth
        else:
            raise _RowProblem(
                "Fee Currency", f"cannot value the {currency} fee: it is neither {home} nor a currency of this row"
            )
        legs.append(LegIn(currency, -amount, value, is_fee=True))
    return {"occurred_at": occurred_at, "kind": kind, "income_type": income_type, "legs": legs}
