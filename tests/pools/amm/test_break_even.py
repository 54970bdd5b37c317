"""Break-even fee APR (pools.amm.break_even)."""

from __future__ import annotations

from decimal import localcontext

import pytest

from pools import amm
from pools.amm import (
    InvalidParameter,
)
from tests.pools.amm._support import (
    D,
    close,
)


def test_simple_break_even_apr_offsets_the_loss_exactly():
    il, days = D("-0.0572"), D(30)
    apr = amm.break_even_fee_apr(il, days)
    assert close(apr, (1 / (1 + il) - 1) * 365 / days)
    assert close((1 + il) * (1 + apr * days / 365), D(1))


def test_compounded_and_continuous_break_even_aprs_offset_the_loss():
    il = D("-0.2")
    daily = amm.break_even_fee_apr(il, 365, compounding=365)
    assert close((1 + il) * (1 + daily / 365) ** 365, D(1), rel="1e-45")
    continuous = amm.break_even_fee_apr(il, 365, compounding="continuous")
    with localcontext() as ctx:
        ctx.prec = 60
        assert close((1 + il) * continuous.exp(), D(1), rel="1e-45")
    simple = amm.break_even_fee_apr(il, 365)
    assert simple == D("0.25")
    assert continuous < daily < simple


def test_break_even_needs_nothing_without_loss_and_rejects_bad_input():
    assert amm.break_even_fee_apr(0, 30) == 0
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D(-1), 30)
    assert info.value.field == "impermanent_loss"
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D("-0.1"), 0)
    assert info.value.field == "days"
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D("-0.1"), 30, compounding=0)
    assert info.value.field == "compounding"
