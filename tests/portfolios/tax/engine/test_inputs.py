"""Input validation: Decimal only, aware datetimes, known kinds, sensible legs."""

from datetime import datetime
from decimal import Decimal

import pytest

from portfolios.tax.engine import InvalidTransaction, LegIn, TaxSettings, TxIn, compute

from .builders import at, leg, tx


@pytest.mark.parametrize("bad", [1.5, float("nan"), True, "1.5"])
def test_quantities_must_be_decimals_never_floats(bad):
    with pytest.raises((TypeError, ValueError)):
        LegIn("ETH", bad)


def test_integers_are_accepted_and_become_decimals():
    assert LegIn("ETH", 2, 3).quantity == Decimal(2)
    assert isinstance(LegIn("ETH", 2, 3).fiat_value, Decimal)


def test_fiat_values_are_absolute():
    with pytest.raises(ValueError, match="cannot be negative"):
        LegIn("ETH", Decimal(1), Decimal(-5))


def test_timestamps_must_be_timezone_aware():
    with pytest.raises(InvalidTransaction, match="timezone-aware"):
        TxIn("x", datetime(2024, 1, 1), "buy", ())


@pytest.mark.parametrize(
    ("kind", "income_type", "message"),
    [
        ("purchase", None, "unknown kind 'purchase'"),
        ("reward", "bonus", "unknown income_type 'bonus'"),
        ("buy", "staking", "income_type is only for rewards"),
    ],
)
def test_kinds_and_income_types_are_checked(kind, income_type, message):
    with pytest.raises(InvalidTransaction, match=message):
        TxIn("x", at("2024-01-01"), kind, (), income_type=income_type)


def test_a_reward_without_an_income_type_is_other_income():
    assert TxIn("x", at("2024-01-01"), "reward", (leg("CAKE", "1", "2"),)).income_type == "other"


@pytest.mark.parametrize(
    ("transaction", "message"),
    [
        (tx("r", "2024-01-01", "reward", leg("ETH", "-1", "5")), "a reward cannot send anything"),
        (tx("f", "2024-01-01", "fee", leg("ETH", "1", "5")), "a fee transaction cannot receive anything"),
        (tx("b", "2024-01-01", "buy", leg("USD", "-5"), leg("EUR", "5", "5")), "needs at least one non-fiat leg"),
        (tx("p", "2024-01-01", "buy", leg("USD", "-5"), leg("ETH", "1", fee=True)), "must be negative"),
        (tx("t", "2024-01-01", "transfer_in", leg("ETH", "-1")), "cannot send tokens"),
    ],
)
def test_malformed_transactions_name_themselves(transaction, message):
    with pytest.raises(InvalidTransaction, match=message):
        compute([transaction])


def test_settings_are_validated():
    for bad in ({"method": "lofo"}, {"jurisdiction": "de"}, {"lp_treatment": "maybe"}):
        with pytest.raises(ValueError):
            TaxSettings(**bad)
    with pytest.raises(Exception, match="Mars"):
        TaxSettings(timezone="Mars/Olympus_Mons")
    assert "GBP" in TaxSettings(fiat_currency="GBP", fiat_codes=frozenset({"USD"})).fiat_codes


def test_the_engine_ignores_a_callers_low_decimal_precision():
    from decimal import localcontext

    ledger = [
        tx("b", "2024-01-01", "buy", leg("USD", "-1"), leg("X", "3")),
        tx("s", "2024-02-01", "sell", leg("X", "-1"), leg("USD", "1")),
    ]
    with localcontext() as ctx:
        ctx.prec = 5
        (row,) = compute(ledger).disposals
    assert str(row.cost_basis) == "0." + "3" * 50
