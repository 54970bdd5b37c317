"""Bad input, clear answer, nothing written (issue 11 item 8): every bad value
through every way in - the CSV import (web page and API), the API's JSON
endpoints and ``manage.py tax_report`` - one table, one shared validator.

Each CSV case is a valid file (rows 2-3: a buy) with one bad row 4; the error
must name row 4 and the right column, and nothing may be written."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portfolios.models import Leg, Transaction

pytestmark = pytest.mark.django_db

HEADER = "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
GOOD = ("t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,\n"
        "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,\n")
TOMORROW_PLUS = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def native(bad_row: str) -> bytes:
    return (HEADER + GOOD).encode() + bad_row.encode("utf-8", "surrogateescape")


KOINLY_HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
                 "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n")
KOINLY_GOOD = "2025-06-01 12:00 UTC,2000,USD,1,ETH,,,2000,USD,,,0xa\n2025-06-02 12:00 UTC,,,1,ETH,,,2000,USD,,,0xb\n"

# (case id, format, file, row, column, words the message must contain)
CSV_CASES = [
    ("negative value", "native", native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,1,-5,false,,\n"),
     4, "fiat_value", "-5 cannot be negative"),
    ("negative Koinly amount", "koinly",
     (KOINLY_HEADER + KOINLY_GOOD + "2025-06-03 12:00 UTC,,,-1.5,ETH,,,3000,USD,,,0xc\n").encode(),
     4, "Received Amount", "-1.5 cannot be negative"),
    ("quantity 1e30", "native", native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,1e30,5,false,,\n"),
     4, "quantity", "1E+30 is too large: at most 30 digits before the decimal point"),
    ("value 1e30", "native", native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,1,1e30,false,,\n"),
     4, "fiat_value", "1E+30 is too large: at most 20 digits before the decimal point"),
    ("quantity 1e400", "native", native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,1e400,5,false,,\n"),
     4, "quantity", "is too large"),
    ("60-digit quantity", "native", native(f"t2,2025-06-02T00:00:00Z,transfer_in,,ETH,{'9' * 60},5,false,,\n"),
     4, "quantity", "is too large"),
    ("19 decimal places", "native",
     native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,0.0000000000000000001,5,false,,\n"),
     4, "quantity", "has more than 18 decimal places"),
    ("year 1", "native", native("t2,0001-01-01T00:00:00+05:00,transfer_in,,ETH,1,5,false,,\n"),
     4, "occurred_at", "0001-01-01 is before 2009-01-03, the first block of Bitcoin"),
    ("before the first block", "native", native("t2,2009-01-02T23:00:00Z,transfer_in,,ETH,1,5,false,,\n"),
     4, "occurred_at", "2009-01-02 is before 2009-01-03"),
    ("two days ahead", "native", native(f"t2,{TOMORROW_PLUS},transfer_in,,ETH,1,5,false,,\n"),
     4, "occurred_at", "is in the future"),
    ("Koinly year 1", "koinly",
     (KOINLY_HEADER + KOINLY_GOOD + "0001-01-01 00:00 UTC,,,1,ETH,,,3000,USD,,,0xc\n").encode(),
     4, "Date", "0001-01-01 is before 2009-01-03"),
    ("undecodable bytes", "native", native("t2,2025-06-02T00:00:00Z,transfer_in,,ETH,1,5,false,,caf\udce9\n"),
     4, "note", "is not UTF-8 text (byte 0xE9)"),
    ("undecodable Koinly bytes", "koinly",
     (KOINLY_HEADER + KOINLY_GOOD).encode() + b"2025-06-03 12:00 UTC,,,1,ETH,,,3000,USD,,caf\xe9,0xc\n",
     4, "Description", "is not UTF-8 text (byte 0xE9)"),
]
CSV_IDS = [c[0] for c in CSV_CASES]


def _nothing_written():
    assert not Transaction.objects.exists() and not Leg.objects.exists()


@pytest.mark.parametrize("case, fmt, data, row, column, words", CSV_CASES, ids=CSV_IDS)
def test_csv_import_on_the_web_names_the_row_and_writes_nothing(owner_client, portfolio, eth, prices, case, fmt,
                                                                 data, row, column, words):
    response = owner_client.post(reverse("portfolios:portfolio_import", args=[portfolio.pk]), {
        "action": "preview", "format": fmt, "file": SimpleUploadedFile("t.csv", data, content_type="text/csv")})
    assert response.status_code == 200
    errors = [(e.row, e.field, e.message) for e in response.context["preview"].errors]
    assert any(r == row and f == column and words in m for r, f, m in errors), errors
    assert response.content.decode().count(words) >= 1  # shown to the user
    _nothing_written()


@pytest.mark.parametrize("case, fmt, data, row, column, words", CSV_CASES, ids=CSV_IDS)
def test_csv_import_through_the_api_answers_400_naming_the_row_and_writes_nothing(owner_api, owner, eth, prices,
                                                                                   case, fmt, data, row, column,
                                                                                   words):
    pid = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]
    response = owner_api.post(f"/api/v1/portfolios/{pid}/import/",
                              {"file": SimpleUploadedFile("t.csv", data), "format": fmt, "commit": "true"},
                              format="multipart")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e["row"] == row and e["field"] == column and words in e["message"] for e in errors), errors
    _nothing_written()


@pytest.mark.parametrize("case, fmt, data, row, column, words", CSV_CASES, ids=CSV_IDS)
def test_the_cli_lists_the_row_and_exits_non_zero(tmp_path, case, fmt, data, row, column, words):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was computed"):
        call_command("tax_report", str(path), "--format", fmt, "--year", "2025", "--json", stderr=err,
                     stdout=StringIO())
    lines = err.getvalue().splitlines()
    assert any(line.startswith(f"row {row}, {column}: ") and words in line for line in lines), lines


# --------------------------------------------------------------------------- the JSON API

def _leg(eth, **overrides):
    leg = {"token": eth.pk, "quantity": "1", "fiat_value": "5"}
    leg.update(overrides)
    return leg


API_CASES = [
    ("negative value", {"legs": [{"quantity": "1", "fiat_value": "-5"}]}, "fiat_value", "greater than or equal to 0"),
    ("quantity 1e30", {"legs": [{"quantity": "1e30"}]}, "quantity", "digits before the decimal point"),
    ("quantity 1e400", {"legs": [{"quantity": "1e400"}]}, "quantity", "digits"),
    ("60-digit quantity", {"legs": [{"quantity": "9" * 60}]}, "quantity", "digits"),
    ("value 1e30", {"legs": [{"quantity": "1", "fiat_value": "1e30"}]}, "fiat_value", "digits"),
    ("19 decimal places", {"legs": [{"quantity": "0.0000000000000000001"}]}, "quantity", "decimal places"),
    ("year 1 east of UTC", {"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at", "0001-01-01 is before"),
    ("year 1 west of UTC", {"occurred_at": "0001-01-01T00:00:00-05:00"}, "occurred_at", "0001-01-01 is before"),
    ("before the first block", {"occurred_at": "2009-01-02T12:00:00Z"}, "occurred_at", "2009-01-02 is before"),
    ("two days ahead", {"occurred_at": TOMORROW_PLUS}, "occurred_at", "is in the future"),
]


def _flatten(errors) -> list[tuple[str, str]]:
    """(field, message) pairs from a DRF error body, nested legs included."""
    out: list[tuple[str, str]] = []

    def walk(value, key):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        else:
            out.append((key, str(value)))

    walk(errors, "")
    return out


@pytest.mark.parametrize("case, change, field, words", API_CASES, ids=[c[0] for c in API_CASES])
def test_the_transactions_api_answers_400_naming_the_field_and_writes_nothing(owner_api, eth, prices, case, change,
                                                                               field, words):
    pid = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]
    body = {"portfolio": pid, "kind": "transfer_in", "occurred_at": "2025-06-01T00:00:00Z", "legs": [_leg(eth)]}
    for key, value in change.items():
        body[key] = [_leg(eth, **v) for v in value] if key == "legs" else value
    response = owner_api.post("/api/v1/transactions/", body, format="json")
    assert response.status_code == 400, response.content
    pairs = _flatten(response.json()["errors"])  # problem details: errors by dotted field path
    assert any(f.rsplit(".", 1)[-1] == field and words in m for f, m in pairs), pairs
    _nothing_written()


def test_positions_refuse_a_date_before_the_first_block_too(owner_api, eth, usdc, prices, amm_pool):
    pid = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]
    response = owner_api.post("/api/v1/positions/", {
        "portfolio": pid, "pool": amm_pool.pk, "kind": "lp", "opened_at": "0001-01-01T00:00:00Z",
        "deposits": [{"token": eth.pk, "quantity": "1", "fiat_value": "1"}]}, format="json")
    assert response.status_code == 400
    assert "0001-01-01 is before 2009-01-03" in json.dumps(response.json())
    _nothing_written()
