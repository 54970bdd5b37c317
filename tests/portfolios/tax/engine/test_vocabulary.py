"""The engine speaks the ledger's vocabulary (portfolios.ledger) and computes on the
ledger's records (portfolios.records): one definition of each, nothing copied."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolios import records
from portfolios.csvformats import common
from portfolios.ledger import FIAT_CODES, IncomeType, TxKind, lp_asset
from portfolios.tax import engine
from portfolios.tax.engine import types

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_kinds_and_income_types_are_the_ledgers():
    assert engine.KINDS == {"buy", "sell", "swap", "lp_deposit", "lp_withdraw", "stake", "unstake", "reward", "fee",
                            "transfer_in", "transfer_out"} == {k.value for k in TxKind}
    assert engine.INCOME_TYPES == {"staking", "liquidity_mining", "lp_fees", "interest", "airdrop", "mining",
                                   "other"} == {t.value for t in IncomeType}
    # Plain strings, so error messages list "buy", not <TxKind.BUY: 'buy'>.
    assert all(type(k) is str for k in engine.KINDS | engine.INCOME_TYPES)


def test_the_engines_own_kind_groups_partition_what_moves_value():
    assert types.EXCHANGE_KINDS == {"buy", "sell", "swap"}
    assert types.POSITION_KINDS == {"lp_deposit", "lp_withdraw", "stake", "unstake"}
    assert types.EXCHANGE_KINDS <= engine.KINDS and types.POSITION_KINDS <= engine.KINDS


def test_fiat_codes_are_the_ledgers_so_sek_is_money_everywhere():
    assert engine.DEFAULT_FIAT_CODES is FIAT_CODES
    settings = engine.TaxSettings()
    assert {"SEK", "USD", "EUR", "GBP"} <= settings.fiat_codes
    assert "ETH" not in settings.fiat_codes


def test_lp_receipts_are_named_by_the_ledger():
    assert engine.LP_ASSET_PREFIX == "LP#"
    assert lp_asset(12) == "LP#12" and lp_asset(12).startswith(engine.LP_ASSET_PREFIX)


def test_the_records_are_one_class_wherever_they_are_imported_from():
    assert engine.TxIn is records.TxIn is common.TxIn
    assert engine.LegIn is records.LegIn is common.LegIn
    assert engine.InvalidTransaction is records.InvalidTransaction
    assert engine.TaxEngineError is records.LedgerDataError is common.LedgerDataError


def test_a_bad_record_is_a_tax_engine_error_and_a_value_error():
    with pytest.raises(engine.TaxEngineError, match="unknown kind 'gift'") as caught:
        records.TxIn("t1", T0, "gift", (records.LegIn("ETH", Decimal(1)),))
    assert isinstance(caught.value, ValueError) and caught.value.ref == "t1"
    with pytest.raises(engine.InvalidTransaction, match="unknown income_type 'salary'"):
        records.TxIn("t2", T0, "reward", (records.LegIn("ETH", Decimal(1)),), income_type="salary")
    with pytest.raises(TypeError, match="quantity must be a Decimal, not float"):
        records.LegIn("ETH", 1.5)  # type: ignore[arg-type]
