"""The ledger's vocabulary (portfolios.ledger) is the models', the database's and the
formats' one; fiat codes are ISO 4217 currencies; LP asset names round-trip."""

import pycountry
import pytest
from django.db.models import CheckConstraint
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Currency
from portfolios.csvformats import native
from portfolios.ledger import (
    DEPOSIT_KINDS,
    FIAT_CODES,
    INCOME_TYPE_CHOICES,
    TX_KIND_CHOICES,
    WITHDRAW_KINDS,
    IncomeType,
    TxKind,
    is_fiat,
    is_lp_asset,
    is_synthetic_asset,
    lp_asset,
    parse_lp_asset,
    token_asset,
)
from portfolios.models import INCOME_TYPES, TRANSACTION_KINDS, Position, Transaction


def _constraint(name: str) -> CheckConstraint:
    return next(c for c in Transaction._meta.constraints if isinstance(c, CheckConstraint) and c.name == name)


def test_the_models_choices_are_the_ledgers():
    assert Transaction._meta.get_field("kind").choices == TX_KIND_CHOICES
    assert Transaction._meta.get_field("income_type").choices == INCOME_TYPE_CHOICES
    assert [value for value, _ in TX_KIND_CHOICES] == [k.value for k in TxKind] == TRANSACTION_KINDS
    assert [value for value, _ in INCOME_TYPE_CHOICES] == [t.value for t in IncomeType] == INCOME_TYPES


def test_the_database_checks_list_the_ledgers_values():
    kinds = dict(_constraint("portfolios_txn_kind_valid").condition.children)["kind__in"]
    assert kinds == [k.value for k in TxKind] and all(type(k) is str for k in kinds)
    income = _constraint("portfolios_txn_income_type_iff_reward").condition
    assert {"kind": "reward", "income_type__in": [t.value for t in IncomeType]}.items() <= dict(
        income.children[0].children
    ).items()


def test_labels_are_the_ones_people_read():
    assert dict(TX_KIND_CHOICES)["lp_withdraw"] == "LP withdrawal" == TxKind.LP_WITHDRAW.label
    assert dict(INCOME_TYPE_CHOICES)["other"] == "Other income" == IncomeType.OTHER.label
    assert len({label for _, label in TX_KIND_CHOICES}) == len(TxKind)  # no two kinds read the same


def test_the_native_csv_accepts_exactly_the_ledgers_kinds_and_income_types():
    row = {"tx_id": "t", "occurred_at": "2025-01-01T00:00:00Z", "asset": "ETH", "quantity": "1"}
    for kind in TxKind:
        income = "staking" if kind == TxKind.REWARD else ""
        assert native._native_row({**row, "kind": kind.value, "income_type": income})["kind"] == kind
    for income_type in IncomeType:
        assert (
            native._native_row({**row, "kind": "reward", "income_type": income_type.value})["income_type"]
            == income_type
        )
    with pytest.raises(native.RowProblem, match="is not one of buy, fee, lp_deposit"):
        native._native_row({**row, "kind": "mint", "income_type": ""})


def test_deposit_and_withdrawal_kinds():
    assert DEPOSIT_KINDS == {"lp_deposit", "stake"} and WITHDRAW_KINDS == {"lp_withdraw", "unstake"}
    assert "lp_deposit" in DEPOSIT_KINDS  # plain strings from the database match the members


def test_fiat_codes_are_iso_4217_currencies_and_cover_every_user_currency():
    iso = {c.alpha_3 for c in pycountry.currencies}
    assert FIAT_CODES <= iso
    assert {code for code, _ in Currency.choices} <= FIAT_CODES
    # The ECB's reference-rate currencies (the next user currencies) and the euro.
    ecb = {
        "USD",
        "JPY",
        "CZK",
        "DKK",
        "GBP",
        "HUF",
        "PLN",
        "RON",
        "SEK",
        "CHF",
        "ISK",
        "NOK",
        "TRY",
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "HKD",
        "IDR",
        "ILS",
        "INR",
        "KRW",
        "MXN",
        "MYR",
        "NZD",
        "PHP",
        "SGD",
        "THB",
        "ZAR",
        "EUR",
    }
    assert FIAT_CODES == ecb
    assert is_fiat("SEK") and is_fiat("USD")
    assert not is_fiat("MNT") and not is_fiat("USDC") and not is_fiat("usd")  # Mantle is a token here


@pytest.mark.parametrize(
    ("asset", "position_id"),
    [("LP#12", 12), ("LP#0", 0), ("LP#", None), ("LP#1a", None), ("LP#12 ", None), ("lp#12", None), ("ETH", None)],
)
def test_lp_assets_parse_back_to_their_position(asset, position_id):
    assert parse_lp_asset(asset) == position_id


@given(st.integers(min_value=0, max_value=10**18))
def test_an_lp_asset_round_trips(position_id):
    asset = lp_asset(position_id)
    assert is_lp_asset(asset) and is_synthetic_asset(asset)
    assert parse_lp_asset(asset) == position_id


def test_the_model_names_its_receipt_with_the_ledger():
    assert Position(pk=7).lp_asset == "LP#7" == lp_asset(7)


def test_synthetic_assets_are_receipts_and_position_bound_assets():
    assert is_synthetic_asset("CAKE@lp") and is_synthetic_asset("LP#3")
    assert not is_synthetic_asset("CAKE") and not is_lp_asset("CAKE@lp")


def test_a_tokens_asset_is_its_upper_case_symbol_or_its_address_start():
    assert token_asset("weth ", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2") == "WETH"
    assert token_asset("", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2") == "0XC02AAA39"
