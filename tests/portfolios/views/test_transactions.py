"""Portfolio create/rename/delete and generic transactions with a formset of legs."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portfolios.models import Portfolio, Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record
from tests.portfolios.conftest import DEPOSIT_AT

pytestmark = pytest.mark.django_db
D = Decimal


def leg_rows(*rows, initial=0, delete=()):
    """Management form + rows of (asset, quantity, fiat_value, is_fee)."""
    data = {
        "legs-TOTAL_FORMS": str(len(rows)),
        "legs-INITIAL_FORMS": str(initial),
        "legs-MIN_NUM_FORMS": "0",
        "legs-MAX_NUM_FORMS": "1000",
    }
    for i, (asset, quantity, fiat, is_fee) in enumerate(rows):
        data.update({f"legs-{i}-asset": asset, f"legs-{i}-quantity": quantity, f"legs-{i}-fiat_value": fiat})
        if is_fee:
            data[f"legs-{i}-is_fee"] = "on"
        if i in delete:
            data[f"legs-{i}-DELETE"] = "on"
    return data


# ----------------------------------------------------------------------------- portfolios


def test_creating_a_portfolio(owner_client, owner):
    response = owner_client.post(reverse("portfolios:portfolio_create"), {"name": "  Ledger  "})
    portfolio = Portfolio.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolios:portfolio_detail", args=[portfolio.pk])
    assert portfolio.name == "Ledger"


def test_a_duplicate_name_is_explained(owner_client, portfolio):
    response = owner_client.post(reverse("portfolios:portfolio_create"), {"name": "main"})
    assert response.status_code == 200
    assert "You already have a portfolio with this name." in response.content.decode()


def test_renaming_a_portfolio(owner_client, portfolio):
    url = reverse("portfolios:portfolio_edit", args=[portfolio.pk])
    assert 'value="Main"' in owner_client.get(url).content.decode()
    assert owner_client.post(url, {"name": "Hot wallet"}).status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.name == "Hot wallet"


def test_deleting_a_portfolio_needs_the_confirmation(owner_client, portfolio):
    url = reverse("portfolios:portfolio_delete", args=[portfolio.pk])
    page = owner_client.get(url).content.decode()
    assert "It cannot be undone." in page
    response = owner_client.post(url, {})
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.content.decode()
    assert Portfolio.objects.filter(pk=portfolio.pk).exists()
    response = owner_client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolios:dashboard")
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()


# ----------------------------------------------------------------------------- transactions


def test_a_swap_with_a_fee_leg(owner_client, portfolio, eth, usdc, prices):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    page = owner_client.get(url)
    assert page.status_code == 200
    assert len(page.context["formset"].forms) == 3  # blank rows, no JavaScript needed
    data = {
        "kind": "swap",
        "income_type": "",
        "occurred_at": "2025-06-01T12:00",
        "position": "",
        "description": "",
        **leg_rows(
            ("WETH", "-1", "", False), ("USDC", "1990", "", False), ("WETH", "-0.001", "2", True), ("", "", "", False)
        ),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolios:transaction_list", args=[portfolio.pk])
    txn = Transaction.objects.get(portfolio=portfolio)
    assert sorted((leg.asset, leg.quantity, leg.is_fee) for leg in txn.legs.all()) == [
        ("USDC", D("1990"), False),
        ("WETH", D("-1"), False),
        ("WETH", D("-0.001"), True),
    ]
    listing = owner_client.get(response["Location"]).content.decode()
    assert "Swap" in listing and "−0.001 WETH" in listing


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("NOPE", "1", "5", False), "Unknown token “NOPE”"),
        (("USDC", "", "", False), "Enter the quantity (+ received, − sent)."),
        (("USDC", "0", "", False), "The quantity cannot be zero."),
        (("USDC", "5", "-1", False), "it cannot be negative"),
        (("USDC", "5", "", True), "A fee is an amount paid: enter it as a negative quantity."),
    ],
)
def test_bad_legs_are_explained_and_kept(owner_client, portfolio, usdc, prices, row, message):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    data = {
        "kind": "transfer_in",
        "occurred_at": "2025-06-01T12:00",
        "description": "keep me",
        **leg_rows(row, ("", "", "", False)),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="keep me"' in html
    assert not Transaction.objects.exists()


def test_a_reward_needs_an_income_type(owner_client, portfolio, usdc):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    data = {
        "kind": "reward",
        "income_type": "",
        "occurred_at": "2025-06-01T12:00",
        **leg_rows(("USDC", "5", "", False)),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 200
    assert "A reward needs an income type" in response.content.decode()


def test_a_service_rule_comes_back_on_the_form(owner_client, portfolio, usdc, prices):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    data = {"kind": "swap", "occurred_at": "2025-06-01T12:00", **leg_rows(("USDC", "5", "", False))}
    response = owner_client.post(url, data)
    assert response.status_code == 200
    assert "A swap sends one asset and receives another." in response.content.decode()


def test_a_transaction_with_no_leg_is_refused(owner_client, portfolio):
    url = reverse("portfolios:transaction_create", args=[portfolio.pk])
    response = owner_client.post(
        url, {"kind": "buy", "occurred_at": "2025-06-01T12:00", **leg_rows(("", "", "", False))}
    )
    assert response.status_code == 200
    assert "A transaction needs at least one leg" in response.content.decode()


def test_editing_a_transaction_replaces_its_legs(owner_client, portfolio, eth, usdc, prices):
    txn = transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity=D("-2000")), LegInput(token=eth, quantity=D("1"))],
    )
    url = reverse("portfolios:transaction_edit", args=[txn.pk])
    page = owner_client.get(url)
    initial = [f.initial for f in page.context["formset"].forms[:2]]
    assert [(i["asset"], str(i["quantity"])) for i in initial] == [("USD", "-2000"), ("WETH", "1")]
    data = {
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00",
        "description": "corrected",
        **leg_rows(("USD", "-3000", "", False), ("WETH", "1.5", "", False), ("", "", "", False), initial=2),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    txn.refresh_from_db()
    assert txn.description == "corrected"
    assert sorted((leg.asset, leg.quantity) for leg in txn.legs.all()) == [("USD", D("-3000")), ("WETH", D("1.5"))]


def test_a_leg_can_be_removed_when_editing(owner_client, portfolio, eth, usdc, prices):
    txn = transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[
            LegInput(asset="USD", quantity=D("-2000")),
            LegInput(token=eth, quantity=D("1")),
            LegInput(token=eth, quantity=D("-0.01"), is_fee=True),
        ],
    )
    data = {
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00",
        **leg_rows(
            ("USD", "-2000", "", False), ("WETH", "1", "", False), ("WETH", "-0.01", "", True), initial=3, delete=(2,)
        ),
    }
    assert owner_client.post(reverse("portfolios:transaction_edit", args=[txn.pk]), data).status_code == 302
    assert not txn.legs.filter(is_fee=True).exists()


def test_editing_a_position_deposit_keeps_its_receipt(owner_client, portfolio, amm_pool, eth, usdc, prices):
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    txn = Transaction.objects.get(position=position)
    url = reverse("portfolios:transaction_edit", args=[txn.pk])
    page = owner_client.get(url)
    formset = page.context["formset"]
    rows = [(f.initial["asset"], f.initial["quantity"], f.initial["fiat_value"]) for f in formset.forms[:3]]
    assert (f"LP#{position.pk}", D("4000"), D("4000")) in rows
    data = {
        "kind": "lp_deposit",
        "occurred_at": "2025-06-01T12:00",
        "position": position.pk,
        **leg_rows(
            ("WETH", "-1", "", False),
            ("USDC", "-2000", "", False),
            (f"LP#{position.pk}", "4000", "4000", False),
            initial=3,
        ),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolios:position_detail", args=[position.pk])
    assert txn.legs.get(asset=f"LP#{position.pk}").fiat_value == D("4000")


def test_deleting_a_transaction_asks_first(owner_client, portfolio, eth, prices):
    txn = transaction_record(
        portfolio=portfolio, kind="transfer_in", occurred_at=DEPOSIT_AT, legs=[LegInput(token=eth, quantity=D("1"))]
    )
    url = reverse("portfolios:transaction_delete", args=[txn.pk])
    assert "Delete this transaction?" in owner_client.get(url).content.decode()
    assert Transaction.objects.filter(pk=txn.pk).exists()
    assert owner_client.post(url).status_code == 302
    assert not Transaction.objects.filter(pk=txn.pk).exists()
