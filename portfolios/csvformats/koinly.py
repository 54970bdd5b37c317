"""The Koinly universal CSV format: parse (pure: standard library only).

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
* Amounts are positive (the column says which way they go): a negative one is
  a row error, not silently made positive.  Numbers, dates and undecodable
  bytes follow ``portfolios.validation`` (the same rules as the API).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
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
    parse_decimal,
    transaction_key,
)
from portfolios.ledger import FIAT_CODES, TxKind
from portfolios.validation import check_moment

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
_LIQUIDITY = {"liquidity in": TxKind.LP_DEPOSIT, "liquidity out": TxKind.LP_WITHDRAW}
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
        raise RowProblem("Date", "is required")
    candidate = cleaned
    if candidate.upper().endswith(" UTC"):
        candidate = candidate[:-4].strip()
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise RowProblem("Date", f"{cleaned!r} is not a date like '2024-05-01 13:45 UTC'") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Koinly dates are UTC
    return check_moment(value, "Date", now=datetime.now(UTC))


def parse_koinly(
    source: str | bytes | Iterable[str],
    fiat_currency: str = "USD",
    fiat_codes: Iterable[str] = FIAT_CODES,
) -> tuple[list[TxIn], list[RowError]]:
    """Parse a Koinly universal-format CSV (see module docstring)."""
    home = fiat_currency.upper()
    fiat = {c.upper() for c in fiat_codes} | {home}
    errors: list[RowError] = []
    try:
        reader = csv_reader(source)
        raw_header = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [RowError(1, "header", f"unreadable CSV: {exc}")]
    undecodable = header_problem(raw_header)
    if undecodable:
        return [], [undecodable]
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
                    raise RowProblem("row", "more fields than header columns")
                check_cells(values)
                parsed = _koinly_row(values, label, home, fiat)
            except RowProblem as problem:
                errors.append(RowError(row_number, problem.field, problem.message))
                parsed = None
            parsed_rows.append((row_number, parsed, txhash, label))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "row", f"unreadable CSV: {exc}"))

    # group consecutive liquidity rows sharing a TxHash
    # Parsed rows (dict), or None for a row that failed: its whole group is then rejected.
    groups: list[list[tuple[int, Any, str, str]]] = []
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
        except (LedgerDataError, ValueError, TypeError) as exc:
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
        raise RowProblem(amount_col, f"missing while {currency_col} is {currency!r}")
    if not currency:
        raise RowProblem(currency_col, f"missing while {amount_col} is {amount_text!r}")
    # Koinly's amounts are positive (the column says which way they go): a sign is a mistake, not a direction.
    amount = parse_decimal(amount_text, amount_col, allow_negative=False)
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
        worth = parse_decimal(worth_text, "Net Worth Amount", allow_negative=False, fiat=True)
        worth_currency = values.get("Net Worth Currency", "").strip().upper() or home
        if worth_currency != home:
            raise RowProblem("Net Worth Currency", f"{worth_currency} differs from the portfolio currency {home}")
    if label in _UNSUPPORTED:
        raise RowProblem("Label", f"{label!r}: {_UNSUPPORTED[label]}")

    sent_fiat = sent is not None and sent[1] in fiat
    received_fiat = received is not None and received[1] in fiat
    income_type = None
    if sent and received:
        if label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_IN:
            kind = TxKind.STAKE
        elif label in _POOL_OUT:
            kind = TxKind.UNSTAKE
        elif label and label not in _TRANSFER_LABELS and label != "trade":
            raise RowProblem("Label", f"{label!r} does not apply to a trade")
        elif sent_fiat and received_fiat:
            raise RowProblem("Sent Currency", "fiat-to-fiat conversions are not tracked")
        elif sent_fiat:
            kind = TxKind.BUY
        elif received_fiat:
            kind = TxKind.SELL
        else:
            kind = TxKind.SWAP
            if worth is None:
                raise RowProblem("Net Worth Amount", "a crypto-to-crypto trade needs its value")
    elif received:
        if label in _INCOME_LABELS:
            kind = TxKind.REWARD
            income_type = _INCOME_LABELS[label]
            if worth is None and not received_fiat:
                raise RowProblem("Net Worth Amount", "income needs its value at receipt")
        elif label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_OUT:
            kind = TxKind.UNSTAKE
        elif label in _TRANSFER_LABELS:
            if received_fiat and not fee:
                return {"skip": True}
            kind = TxKind.TRANSFER_IN
        else:
            raise RowProblem("Label", f"{label!r} does not apply to a deposit")
    elif sent:
        if label in _EXPENSE_LABELS:
            kind = TxKind.FEE
            if worth is None and not sent_fiat:
                raise RowProblem("Net Worth Amount", "a fee paid in a token needs its value")
        elif label in _LIQUIDITY:
            kind = _LIQUIDITY[label]
        elif label in _POOL_IN:
            kind = TxKind.STAKE
        elif label in _TRANSFER_LABELS:
            if sent_fiat and not fee:
                return {"skip": True}
            kind = TxKind.TRANSFER_OUT
        else:
            raise RowProblem("Label", f"{label!r} does not apply to a withdrawal")
    elif fee:
        kind = TxKind.FEE
    else:
        raise RowProblem("Sent Amount", "the row sends, receives and pays nothing")

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
        elif kind == TxKind.FEE and worth is not None:
            value = worth
        else:
            raise RowProblem(
                "Fee Currency", f"cannot value the {currency} fee: it is neither {home} nor a currency of this row"
            )
        legs.append(LegIn(currency, -amount, value, is_fee=True))
    return {"occurred_at": occurred_at, "kind": kind, "income_type": income_type, "legs": legs}
