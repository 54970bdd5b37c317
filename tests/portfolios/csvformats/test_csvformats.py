"""CSV import/export: the native one-row-per-leg format and Koinly's universal format."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.csvformats import (
    RowError,
    native_notes,
    parse_koinly,
    parse_native,
    transaction_key,
    write_native,
)
from portfolios.tax.engine import LegIn, TaxSettings, TxIn, compute

FIXTURES = Path(__file__).parent.parent / "tax" / "fixtures"  # shared with the tax engine tests
D = Decimal


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def legs(tx):
    return [(leg.asset, leg.quantity, leg.fiat_value, leg.is_fee) for leg in tx.legs]


# --------------------------------------------------------------------------- native


def test_a_valid_native_file_gives_one_transaction_per_tx_id_with_its_legs_in_order():
    txs, errors = parse_native(read("native_valid.csv"))
    assert errors == []
    assert [(t.ref, t.kind, t.income_type, t.position) for t in txs] == [
        ("b1", "buy", None, None),
        ("r1", "reward", "staking", "lido"),
        ("sw1", "swap", None, None),
        ("lp1", "lp_deposit", None, "uni-eth-usdc"),
        ("s1", "sell", None, None),
    ]
    assert legs(txs[0]) == [
        ("USD", D("-3000"), None, False),
        ("ETH", D("1.5"), D("3000"), False),
        ("USD", D("-4.5"), None, True),
    ]
    assert legs(txs[2])[2] == ("ETH", D("-0.002"), D("4.60"), True)
    assert txs[1].occurred_at == datetime(2024, 1, 15, 7, 30, tzinfo=UTC)  # +01:00 kept as an instant


def test_a_parsed_native_file_runs_through_the_engine():
    txs, _ = parse_native(read("native_valid.csv"))
    report = compute(txs, TaxSettings(method="fifo"))
    totals = report.year(2024)
    assert totals.income_total == D("25.10")
    assert totals.disposal_count == 3  # the swap, its gas, the sale (the LP deposit is not taxable by default)


MALFORMED_ERRORS = [
    (4, "occurred_at"),
    (5, "kind"),
    (6, "tx_id"),  # sibling of the bad row 7: the whole transaction is dropped
    (7, "quantity"),
    (8, "quantity"),
    (9, "fiat_value"),
    (10, "is_fee"),
    (11, "income_type"),
    (12, "tx_id"),
    (13, "occurred_at"),
    (14, "quantity"),
    (16, "quantity"),
    (17, "income_type"),
    (18, "tx_id"),
]


def test_malformed_native_rows_are_reported_and_never_give_partial_transactions():
    txs, errors = parse_native(read("native_malformed.csv"))
    assert [t.ref for t in txs] == ["ok1", "ok2"]
    assert [(e.row_number, e.field) for e in errors] == MALFORMED_ERRORS
    assert RowError(13, "occurred_at", "differs from row 12 of transaction 'mixed'") in errors
    assert RowError(4, "occurred_at", "'2024-01-03 10:00:00' has no UTC offset: add 'Z' or '+hh:mm'") in errors
    assert RowError(14, "quantity", "'1,000': use '.' as the decimal point and no thousands separators") in errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "tx_id,kind,asset\nx,buy,ETH\n",
            [RowError(1, "occurred_at", "missing column"), RowError(1, "quantity", "missing column")],
        ),
        ("", [RowError(1, c, "missing column") for c in ("tx_id", "occurred_at", "kind", "asset", "quantity")]),
    ],
)
def test_a_native_file_missing_required_columns_is_rejected_as_a_whole(text, expected):
    assert parse_native(text) == ([], expected)


def test_native_parsing_never_raises_on_garbage():
    for junk in ["\x00\x01,,,\n\n", 'tx_id,occurred_at\n"unterminated', b"\xff\xfe\x00", "a,b\n1,2,3,4\n"]:
        txs, errors = parse_native(junk)
        assert txs == []
        assert all(isinstance(e, RowError) for e in errors)


def test_the_native_writer_round_trips_transactions_and_notes():
    txs, _ = parse_native(read("native_valid.csv"))
    notes = native_notes(read("native_valid.csv"))
    assert notes == {"b1": "first buy", "sw1": "gas"}
    text = write_native(txs, notes=notes)
    assert native_notes(text) == notes
    assert text.splitlines()[0] == "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note"
    assert text.splitlines()[1] == "b1,2024-01-02T10:00:00Z,buy,,USD,-3000,,false,,first buy"
    again, errors = parse_native(text)
    assert errors == []
    assert again == txs


@st.composite
def transactions(draw):
    kind = draw(st.sampled_from(["buy", "sell", "swap", "reward", "fee", "transfer_in", "stake"]))
    count = draw(st.integers(1, 4))
    moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(0, 10**8)), microseconds=draw(st.integers(0, 999999))
    )
    offset = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330, 540]))))
    out = []
    for _ in range(count):
        qty = D(draw(st.integers(-(10**12), 10**12)).__str__()) / D(10) ** draw(st.integers(0, 18))
        if qty == 0:
            qty = D("1E-18")
        value = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=2)))
        out.append(
            LegIn(
                draw(st.sampled_from(["ETH", "USD", "stETH", "UNI-V2", "ÆTH"])),
                qty,
                value,
                draw(st.booleans()) and qty < 0,
            )
        )
    return TxIn(
        f"id-{draw(st.integers(0, 10**6))}",
        moment.astimezone(offset),
        kind,
        tuple(out),
        income_type="staking" if kind == "reward" else None,
        position=draw(st.one_of(st.none(), st.sampled_from(["pool-1", "farm,with,commas", 'q"uote']))),
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(transactions(), max_size=6, unique_by=lambda t: t.ref))
def test_any_transactions_survive_a_native_write_and_parse_with_the_same_keys(txs):
    again, errors = parse_native(write_native(txs))
    assert errors == []
    assert again == txs
    assert [transaction_key(t) for t in again] == [transaction_key(t) for t in txs]


# --------------------------------------------------------------------------- content keys


def test_the_same_row_imported_twice_gets_the_same_key():
    first, _ = parse_native(read("native_valid.csv"))
    second, _ = parse_native(read("native_valid.csv"))
    assert [transaction_key(t) for t in first] == [transaction_key(t) for t in second]
    assert len({transaction_key(t) for t in first}) == len(first)


def test_the_key_depends_on_content_not_on_the_id_leg_order_or_offset_notation():
    base = TxIn(
        "a",
        datetime(2024, 1, 1, 12, tzinfo=UTC),
        "swap",
        (LegIn("ETH", D("-1"), D("3000")), LegIn("USDC", D("3000.0"), D("3000"))),
    )
    same = TxIn(
        "b",
        datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))),
        "swap",
        (LegIn("USDC", D("3000"), D("3000.00")), LegIn("ETH", D("-1.000"), D("3000"))),
    )
    different = TxIn(
        "a", base.occurred_at, "swap", (LegIn("ETH", D("-1"), D("3000")), LegIn("USDC", D("3001"), D("3000")))
    )
    assert transaction_key(base) == transaction_key(same)
    assert transaction_key(base) != transaction_key(different)
    assert len(transaction_key(base)) == 64


# --------------------------------------------------------------------------- Koinly


def test_a_koinly_universal_file_maps_to_our_kinds():
    txs, errors = parse_koinly(read("koinly_universal.csv"))
    assert errors == []
    assert [(t.kind, t.income_type) for t in txs] == [
        ("buy", None),
        ("reward", "staking"),
        ("reward", "interest"),
        ("swap", None),
        ("lp_deposit", None),  # three rows with one TxHash, one transaction
        ("transfer_out", None),
        ("transfer_in", None),
        ("reward", "airdrop"),
        ("fee", None),
        ("sell", None),
        ("reward", "mining"),  # the bank deposit of USD is skipped: fiat is not lot-tracked
    ]
    refs = [t.ref for t in txs]
    assert refs[1:3] == ["0xaaa", "0xbbb"] and refs[0].startswith("koinly-")
    assert legs(txs[3]) == [
        ("ETH", D("-0.5"), D("1150"), False),
        ("USDC", D("1148.20"), D("1150"), False),
        ("ETH", D("-0.002"), D("4.60"), True),  # valued at the row's ETH price
    ]
    assert legs(txs[4]) == [
        ("ETH", D("-0.5"), D("1700"), False),
        ("USDC", D("-1148.20"), D("1148.20"), False),
        ("UNI-V2", D("0.0001"), D("2848.20"), False),
    ]
    assert txs[0].occurred_at == datetime(2024, 1, 2, 10, tzinfo=UTC)


def test_a_parsed_koinly_file_runs_through_the_engine_and_matches_its_own_transfer():
    txs, _ = parse_koinly(read("koinly_universal.csv"))
    report = compute(txs)
    assert report.in_transit == {}
    totals = report.year(2024)
    assert totals.income_total == D("25.10") + D("12.5") + D("9.10") + D("175")
    assert totals.fees_unallocated == D("3.50") + D("1.75")


def test_koinly_import_is_idempotent():
    first, _ = parse_koinly(read("koinly_universal.csv"))
    second, _ = parse_koinly(read("koinly_universal.csv").encode("utf-8"))
    assert [t.ref for t in first] == [t.ref for t in second]
    assert [transaction_key(t) for t in first] == [transaction_key(t) for t in second]


def test_malformed_koinly_rows_are_reported_and_a_bad_row_sinks_its_whole_lp_group():
    txs, errors = parse_koinly(read("koinly_malformed.csv"))
    assert [(t.kind, t.income_type) for t in txs] == [("buy", None), ("reward", "interest")]
    assert [(e.row_number, e.field) for e in errors] == [
        (3, "Date"),
        (4, "Net Worth Currency"),
        (5, "Label"),
        (6, "Sent Amount"),
        (7, "Net Worth Amount"),
        (8, "Fee Currency"),
        (9, "Net Worth Amount"),
        (10, "TxHash"),
        (11, "Sent Amount"),
    ]
    assert errors[1].message == "EUR differs from the portfolio currency USD"
    assert errors[2].message == "'gift': gifts are not modelled"


def test_koinly_in_another_fiat_currency():
    text = (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Net Worth Amount,Net Worth Currency,Label\n"
        "2024-05-01 10:00 UTC,500,GBP,0.2,ETH,500,GBP,\n"
        "2024-05-02 10:00 UTC,,,0.001,ETH,2.5,GBP,reward\n"
    )
    txs, errors = parse_koinly(text, fiat_currency="GBP")
    assert errors == []
    report = compute(txs, TaxSettings.uk())
    assert report.year("2024/25").income_total == D("2.5")
    _, errors = parse_koinly(text, fiat_currency="USD")
    assert [e.field for e in errors] == ["Net Worth Currency", "Net Worth Currency"]


def test_koinly_file_without_the_amount_columns_is_rejected():
    txs, errors = parse_koinly("Date,Amount,Currency\n2024-01-01 00:00 UTC,1,BTC\n")
    assert txs == []
    assert {e.field for e in errors} == {"Sent Amount", "Sent Currency", "Received Amount", "Received Currency"}
