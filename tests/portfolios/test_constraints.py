"""The database itself refuses rows that break the invariants (raw SQL, no Django validation)."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from tests.portfolios.factories import LegFactory, PortfolioFactory, PositionFactory, TransactionFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def rejected(sql: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError:
        return True
    return False


def insert_txn(portfolio_id, position_id=None, kind="buy", income_type="", dedupe_key=""):
    return rejected(
        "INSERT INTO portfolios_transaction (portfolio_id, position_id, kind, income_type, occurred_at, description,"
        " source, dedupe_key, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', 'manual', %s, %s, %s)",
        [portfolio_id, position_id, kind, income_type, NOW, dedupe_key, NOW, NOW])


def insert_leg(txn_id, asset="ETH", quantity="1", fiat_value="10", value_source="entered", is_fee=False,
               fiat_currency=None):
    if fiat_currency is None:  # the column's database default (USD)
        return rejected(
            "INSERT INTO portfolios_leg (transaction_id, asset, token_id, quantity, fiat_value, value_source, is_fee)"
            " VALUES (%s, %s, NULL, %s, %s, %s, %s)", [txn_id, asset, quantity, fiat_value, value_source, is_fee])
    return rejected(
        "INSERT INTO portfolios_leg (transaction_id, asset, token_id, quantity, fiat_value, value_source, is_fee,"
        " fiat_currency) VALUES (%s, %s, NULL, %s, %s, %s, %s, %s)",
        [txn_id, asset, quantity, fiat_value, value_source, is_fee, fiat_currency])


def insert_position(portfolio_id, kind="lp", label="x", lower=None, upper=None, opened=NOW, closed=None):
    return rejected(
        "INSERT INTO portfolios_position (portfolio_id, pool_id, label, kind, opened_at, closed_at, range_lower,"
        " range_upper, notes, created_at, updated_at) VALUES (%s, NULL, %s, %s, %s, %s, %s, %s, '', %s, %s)",
        [portfolio_id, label, kind, opened, closed, lower, upper, NOW, NOW])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the composite foreign key is PostgreSQL only")
def test_a_transaction_cannot_point_at_a_position_of_another_portfolio():
    mine = PortfolioFactory()
    other_position = PositionFactory()  # in another portfolio
    assert insert_txn(mine.pk, other_position.pk) is True
    own_position = PositionFactory(portfolio=mine)
    assert insert_txn(mine.pk, own_position.pk) is False


def test_a_reward_needs_an_income_type_and_nothing_else_has_one():
    portfolio = PortfolioFactory()
    assert insert_txn(portfolio.pk, kind="reward", income_type="") is True
    assert insert_txn(portfolio.pk, kind="buy", income_type="staking") is True
    assert insert_txn(portfolio.pk, kind="reward", income_type="bogus") is True
    assert insert_txn(portfolio.pk, kind="teleport") is True
    assert insert_txn(portfolio.pk, kind="reward", income_type="staking") is False


def test_a_dedupe_key_is_unique_per_portfolio_when_set():
    portfolio = PortfolioFactory()
    assert insert_txn(portfolio.pk, dedupe_key="abc") is False
    assert insert_txn(portfolio.pk, dedupe_key="abc") is True
    assert insert_txn(PortfolioFactory().pk, dedupe_key="abc") is False  # another portfolio
    assert insert_txn(portfolio.pk) is False and insert_txn(portfolio.pk) is False  # blank keys repeat


@pytest.mark.parametrize(("fields", "refused"), [
    ({"quantity": "0"}, True),
    ({"fiat_value": "-1"}, True),
    ({"fiat_value": None, "value_source": "entered"}, True),
    ({"fiat_value": "5", "value_source": "missing"}, True),
    ({"value_source": "guessed"}, True),
    ({"asset": "eth"}, True),
    ({"asset": ""}, True),
    ({"is_fee": True, "quantity": "1"}, True),
    ({"fiat_value": None, "value_source": "missing"}, False),
    ({"is_fee": True, "quantity": "-0.01"}, False),
    ({"asset": "LP#12", "quantity": "-3.5"}, False),
    ({"fiat_currency": "GBP"}, False),
    ({"fiat_currency": "gbp"}, True),
    ({"fiat_currency": "GB"}, True),
    ({"fiat_currency": ""}, True),
])
def test_leg_rows_are_checked(fields, refused):
    txn = TransactionFactory()
    assert insert_leg(txn.pk, **fields) is refused


@pytest.mark.parametrize(("fields", "refused"), [
    ({"label": ""}, True),  # no pool and no label
    ({"kind": "concentrated_lp"}, True),  # no range
    ({"kind": "concentrated_lp", "lower": "0", "upper": "10"}, True),
    ({"kind": "concentrated_lp", "lower": "10", "upper": "10"}, True),
    ({"kind": "concentrated_lp", "lower": "10", "upper": None}, True),
    ({"kind": "lp", "lower": "1", "upper": "2"}, True),  # a range only for concentrated positions
    ({"kind": "vault"}, True),
    ({"closed": datetime(2025, 5, 1, tzinfo=UTC)}, True),
    ({"kind": "concentrated_lp", "lower": "1500", "upper": "3000"}, False),
    ({"closed": NOW}, False),
])
def test_position_rows_are_checked(fields, refused):
    assert insert_position(PortfolioFactory().pk, **fields) is refused


def test_portfolio_names_are_unique_per_owner_in_the_database():
    first = PortfolioFactory(name="Main")
    assert rejected("INSERT INTO portfolios_portfolio (owner_id, name, created_at, updated_at) VALUES (%s, %s, %s, %s)",
                    [first.owner_id, "MAIN", NOW, NOW]) is True


def test_an_override_quantity_cannot_be_negative():
    from tests.portfolios.factories import TokenFactory

    position = PositionFactory()
    token = TokenFactory()
    assert rejected("INSERT INTO portfolios_positionamountoverride (position_id, token_id, quantity, as_of)"
                    " VALUES (%s, %s, %s, %s)", [position.pk, token.pk, "-1", NOW]) is True


def test_a_leg_factory_row_is_valid():
    assert LegFactory().pk
