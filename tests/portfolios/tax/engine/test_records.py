"""The engine's records: outputs are frozen and built by keyword; the hand-written
``__init__`` of Disposal and IncomeEvent (see their docstrings) stores every field they declare."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from portfolios.tax.engine import Disposal, IncomeEvent, Lot

D = Decimal


def every_field_distinct() -> dict[str, Any]:
    return {
        "asset": "ETH",
        "quantity": D("1.5"),
        "acquired": date(2023, 3, 1),
        "disposed": date(2024, 4, 1),
        "proceeds": D("5250"),
        "cost_basis": D("2257.5"),
        "gain": D("2992.5"),
        "term": "long",
        "tx_ref": "42",
        "tax_year": "2024",
        "rule": "fifo",
        "fee": D("7"),
        "acquired_at": datetime(2023, 3, 1, 10, tzinfo=UTC),
        "disposed_at": datetime(2024, 4, 1, 10, tzinfo=UTC),
    }


def test_a_disposal_keeps_every_field_it_is_given():
    values = every_field_distinct()
    assert set(values) == {f.name for f in dataclasses.fields(Disposal)}  # the test covers every field
    assert dataclasses.asdict(Disposal(**values)) == values


def test_an_income_event_keeps_every_field_it_is_given():
    values = {
        "income_type": "staking",
        "asset": "ETH",
        "quantity": D("0.05"),
        "fair_market_value": D("150"),
        "tx_ref": "7",
        "occurred_at": datetime(2024, 3, 15, 10, tzinfo=UTC),
        "received": date(2024, 3, 15),
        "tax_year": "2024",
        "position": "12",
    }
    assert set(values) == {f.name for f in dataclasses.fields(IncomeEvent)}
    assert dataclasses.asdict(IncomeEvent(**values)) == values
    del values["position"]
    assert IncomeEvent(**values).position is None
    with pytest.raises(TypeError):
        IncomeEvent(*values.values())  # type: ignore[misc]


def test_a_disposal_defaults_its_fee_and_timestamps():
    values = every_field_distinct()
    for name in ("fee", "acquired_at", "disposed_at"):
        del values[name]
    disposal = Disposal(**values)
    assert (disposal.fee, disposal.acquired_at, disposal.disposed_at) == (D(0), None, None)


def test_a_disposal_is_built_by_keyword_only():
    with pytest.raises(TypeError):
        Disposal(*every_field_distinct().values())  # type: ignore[misc]


@pytest.mark.parametrize(
    "record",
    [
        Disposal(**every_field_distinct()),
        IncomeEvent(
            income_type="staking",
            asset="ETH",
            quantity=D("0.05"),
            fair_market_value=D("150"),
            tx_ref="7",
            occurred_at=datetime(2024, 3, 15, tzinfo=UTC),
            received=date(2024, 3, 15),
            tax_year="2024",
        ),
        Lot(asset="ETH", quantity=D("0.55"), cost_basis=D("1400"), acquired="various"),
    ],
)
def test_output_records_are_frozen_comparable_and_hashable(record):
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.asset = "BTC"
    twin = dataclasses.replace(record)
    assert twin == record and hash(twin) == hash(record)
    assert dataclasses.replace(record, asset="BTC") != record
