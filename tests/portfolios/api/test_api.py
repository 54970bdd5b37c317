"""The portfolios API as the mobile app uses it."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portfolios.models import Transaction
from tests.portfolios.factories import PortfolioSnapshotFactory, TokenFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def pid(owner_api):
    return owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]


@pytest.fixture
def lp_id(owner_api, pid, amm_pool, eth, usdc, prices):
    response = owner_api.post(
        "/api/v1/positions/",
        {
            "portfolio": pid,
            "pool": amm_pool.pk,
            "kind": "lp",
            "opened_at": "2025-06-01T12:00:00Z",
            "deposits": [{"token": eth.pk, "quantity": "1"}, {"token": usdc.pk, "quantity": "2000"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_portfolio_crud(owner_api):
    created = owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json")
    assert created.status_code == 201
    pid = created.json()["id"]
    assert owner_api.post("/api/v1/portfolios/", {"name": "main"}, format="json").json()["errors"] == {
        "non_field_errors": ["You already have a portfolio with this name."]
    }
    assert owner_api.patch(f"/api/v1/portfolios/{pid}/", {"name": "Renamed"}, format="json").json()["name"] == "Renamed"
    assert [p["name"] for p in owner_api.get("/api/v1/portfolios/").json()["results"]] == ["Renamed"]
    assert owner_api.delete(f"/api/v1/portfolios/{pid}/").status_code == 204
    assert owner_api.get(f"/api/v1/portfolios/{pid}/").status_code == 404


def test_opening_a_position_and_reading_its_analytics(owner_api, lp_id, pid):
    position = owner_api.get(f"/api/v1/positions/{lp_id}/").json()
    assert position["portfolio"] == pid and position["pool_symbol"] == "WETH-USDC" and position["kind"] == "lp"
    analytics = owner_api.get(f"/api/v1/positions/{lp_id}/analytics/").json()
    assert analytics["model"] == "constant_product"
    assert analytics["deposited"] == "4000"
    assert D(analytics["il"]) < 0  # ETH went from 2000 to 3000
    assert isinstance(analytics["value_now"], str)  # decimals are strings
    txns = owner_api.get(f"/api/v1/transactions/?position={lp_id}").json()["results"]
    assert [t["kind"] for t in txns] == ["lp_deposit"]
    assert {leg["asset"] for leg in txns[0]["legs"]} == {"WETH", "USDC", f"LP#{lp_id}"}


def test_deposit_withdraw_claim_and_close_actions(owner_api, lp_id, eth, usdc, crv):
    base = f"/api/v1/positions/{lp_id}"
    assert (
        owner_api.post(
            f"{base}/deposit/",
            {
                "occurred_at": "2025-06-02T00:00:00Z",
                "amounts": [
                    {"token": eth.pk, "quantity": "1", "fiat_value": "2000"},
                    {"token": usdc.pk, "quantity": "2000"},
                ],
            },
            format="json",
        ).status_code
        == 201
    )
    claim = owner_api.post(
        f"{base}/claim/",
        {"occurred_at": "2025-07-01T00:00:00Z", "token": crv.pk, "quantity": "100", "income_type": "liquidity_mining"},
        format="json",
    )
    assert claim.status_code == 201 and claim.json()["legs"][0]["fiat_value"] == "60"
    too_much = owner_api.post(
        f"{base}/withdraw/",
        {"occurred_at": "2025-09-01T12:00:00Z", "amounts": [{"token": eth.pk, "quantity": "5"}]},
        format="json",
    )
    assert too_much.status_code == 400
    assert too_much.json()["errors"]["withdrawals"][0].startswith(
        "You are withdrawing 5 WETH but the position holds 1.6")
    out = owner_api.post(
        f"{base}/withdraw/",
        {
            "occurred_at": "2025-09-01T12:00:00Z",
            "close": True,
            "amounts": [{"token": eth.pk, "quantity": "1.6"}, {"token": usdc.pk, "quantity": "4900"}],
        },
        format="json",
    )
    assert out.status_code == 201
    assert owner_api.get(f"{base}/").json()["closed_at"] == "2025-09-01T12:00:00Z"
    analytics = owner_api.get(f"{base}/analytics/").json()
    assert analytics["is_open"] is False and analytics["fees_estimated"] is False


def test_overriding_amounts_through_the_api(owner_api, lp_id, eth, usdc):
    response = owner_api.put(
        f"/api/v1/positions/{lp_id}/amounts/",
        {"amounts": [{"token": eth.pk, "quantity": "0.9"}, {"token": usdc.pk, "quantity": "2600"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["overridden"] is True and response.json()["value_now"] == "5300"


def test_validation_errors_name_the_field(owner_api, pid, amm_pool, eth, prices):
    future = owner_api.post(
        "/api/v1/positions/",
        {
            "portfolio": pid,
            "pool": amm_pool.pk,
            "kind": "lp",
            "opened_at": "2999-01-01T00:00:00Z",
            "deposits": [{"token": eth.pk, "quantity": "1"}],
        },
        format="json",
    )
    assert future.status_code == 400 and "is in the future" in future.json()["errors"]["opened_at"][0]
    negative = owner_api.post(
        "/api/v1/positions/",
        {
            "portfolio": pid,
            "pool": amm_pool.pk,
            "kind": "lp",
            "opened_at": "2025-06-01T00:00:00Z",
            "deposits": [{"token": eth.pk, "quantity": "-1"}],
        },
        format="json",
    )
    assert negative.status_code == 400 and negative.json()["errors"]["deposits"] == [
        "The WETH amount must be greater than zero (got −1)."
    ]


def test_a_missing_price_answers_400_asking_for_the_value(owner_api, pid, chain):
    obscure = TokenFactory(chain=chain, symbol="OBSC")
    body = {
        "portfolio": pid,
        "kind": "transfer_in",
        "occurred_at": "2025-06-01T00:00:00Z",
        "legs": [{"token": obscure.pk, "quantity": "3"}],
    }
    response = owner_api.post("/api/v1/transactions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["fiat_value"][0].startswith(
        "No OBSC price is known for 2025-06-01. Enter the value")
    body["legs"][0]["fiat_value"] = "4.5"
    assert owner_api.post("/api/v1/transactions/", body, format="json").status_code == 201


def test_transactions_filter_by_portfolio_position_and_kind(owner_api, lp_id, pid, eth, prices):
    owner_api.post(
        "/api/v1/transactions/",
        {
            "portfolio": pid,
            "kind": "buy",
            "occurred_at": "2025-06-01T12:00:00Z",
            "legs": [{"asset": "USD", "quantity": "-2000"}, {"token": eth.pk, "quantity": "1"}],
        },
        format="json",
    )
    kinds = lambda q: [t["kind"] for t in owner_api.get(f"/api/v1/transactions/?{q}").json()["results"]]  # noqa: E731
    assert sorted(kinds(f"portfolio={pid}")) == ["buy", "lp_deposit"]
    assert kinds("kind=buy") == ["buy"]
    assert kinds(f"position={lp_id}") == ["lp_deposit"]
    assert owner_api.get("/api/v1/transactions/?kind=teleport").status_code == 400


def test_updating_and_deleting_a_transaction(owner_api, pid, eth, prices):
    txn = owner_api.post(
        "/api/v1/transactions/",
        {
            "portfolio": pid,
            "kind": "buy",
            "occurred_at": "2025-06-01T12:00:00Z",
            "legs": [{"asset": "USD", "quantity": "-2000"}, {"token": eth.pk, "quantity": "1"}],
        },
        format="json",
    ).json()
    changed = owner_api.patch(f"/api/v1/transactions/{txn['id']}/", {"description": "first ETH"}, format="json")
    assert changed.status_code == 200 and changed.json()["description"] == "first ETH"
    assert len(changed.json()["legs"]) == 2
    assert owner_api.delete(f"/api/v1/transactions/{txn['id']}/").status_code == 204


def test_summary_and_history(owner_api, pid, lp_id):
    summary = owner_api.get(f"/api/v1/portfolios/{pid}/summary/").json()
    assert summary["open_positions"] == 1 and summary["deposited"] == "4000"
    assert [s["key"] for s in summary["by_kind"]] == ["lp"]
    assert {s["key"] for s in summary["by_asset"]} == {"WETH", "USDC"}
    assert summary["positions"][0]["position_id"] == lp_id
    from portfolios.models import Portfolio

    PortfolioSnapshotFactory(portfolio=Portfolio.objects.get(pk=pid))
    history = owner_api.get(f"/api/v1/portfolios/{pid}/history/").json()
    assert list(history[0]) == ["day", "value", "deposited", "pnl", "income_ytd"]


def test_import_preview_then_commit_then_export(owner_api, pid, eth, usdc, crv, prices):
    csv_text = (
        "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
        "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,\n"
        "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,\n"
    )
    url = f"/api/v1/portfolios/{pid}/import/"

    def upload(commit):
        return owner_api.post(
            url,
            {"file": SimpleUploadedFile("t.csv", csv_text.encode(), "text/csv"), "format": "native", "commit": commit},
            format="multipart",
        )

    preview = upload("false")
    assert preview.status_code == 200 and len(preview.json()["rows"]) == 1 and preview.json()["errors"] == []
    assert not Transaction.objects.exists()
    committed = upload("true")
    assert committed.status_code == 201 and committed.json()["created"] == 1
    again = upload("true")
    assert again.status_code == 200 and again.json() == {
        "created": 0,
        "duplicates": 1,
        "errors": [],
        "transactions": [],
    }
    export = owner_api.get(f"/api/v1/portfolios/{pid}/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert b",buy,,ETH,1,2000,false,," in export.content


def test_an_import_with_a_bad_row_answers_400_with_row_errors(owner_api, pid, eth, prices):
    csv_text = (
        "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
        "t1,2025-06-01T12:00:00Z,transfer_in,,NOPE,1,5,false,,\n"
    )
    response = owner_api.post(
        f"/api/v1/portfolios/{pid}/import/",
        {"file": SimpleUploadedFile("t.csv", csv_text.encode()), "commit": "true"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["row"] == 2 and response.json()["created"] == 0


def test_a_quantity_with_every_digit_used_comes_back_whole(owner_api, pid, eth, prices):
    """48 significant digits (the quantity column): none is lost to Decimal's default 28."""
    big = "123456789012345678901234567890.123456789012345678"
    body = {
        "portfolio": pid,
        "kind": "transfer_in",
        "occurred_at": "2025-06-01T12:00:00Z",
        "legs": [{"token": eth.pk, "quantity": big, "fiat_value": "1"}],
    }
    created = owner_api.post("/api/v1/transactions/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["legs"][0]["quantity"] == big
    assert Transaction.objects.get().legs.get().quantity == Decimal(big)
