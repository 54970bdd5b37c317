"""Constant-product pools (pools.amm.constant_product)."""

from __future__ import annotations

from decimal import localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pools import amm
from tests.pools.amm._support import (
    PROPERTY,
    TINY,
    D,
    close,
    ratios,
)

CONSTANT_PRODUCT_TABLE = [
    # price ratio, impermanent loss (the widely published -0.62 %, -2.02 %, ... table)
    ("1.25", "-0.0062"),
    ("1.5", "-0.0202"),
    ("2", "-0.0572"),
    ("3", "-0.1340"),
    ("4", "-0.2000"),
    ("5", "-0.2546"),
]


@pytest.mark.parametrize(("ratio", "expected"), CONSTANT_PRODUCT_TABLE)
def test_constant_product_impermanent_loss_matches_the_published_table(ratio, expected):
    il = amm.constant_product_impermanent_loss(D(ratio))
    assert il.quantize(D("0.0001")) == D(expected)
    result = amm.impermanent_loss_for("constant_product", D(ratio))
    assert result.impermanent_loss.quantize(D("0.0001")) == D(expected)
    assert result.in_range is None


def test_constant_product_loss_at_four_times_the_price_is_exactly_twenty_percent():
    assert amm.constant_product_impermanent_loss(4) == D("-0.2")
    assert amm.constant_product_value_after_price_move(4) == (D(2), D("2.5"))


def test_constant_product_reserves_keep_k_and_reach_the_new_price():
    x, y = amm.constant_product_reserves_after_price_move(D(10), D(20000), D("1.44"))
    assert close(x, D(10) / D("1.2"))
    assert y == D(24000)
    assert close(x * y, D(200000))
    assert close(y / x, D(2000) * D("1.44"))
    x2, y2 = amm.constant_product_reserves_at_price(D(10), D(20000), D(2880))
    assert close(x2, x) and close(y2, y)


@given(
    x=st.integers(min_value=1, max_value=10**9).map(D),
    y=st.integers(min_value=1, max_value=10**9).map(D),
)
@PROPERTY
def test_small_constant_product_swap_at_the_marginal_price_conserves_value(x, y):
    price = y / x
    dx = x * D("1e-15")
    with localcontext() as ctx:
        ctx.prec = 60
        dy = y - x * y / (x + dx)
        assert abs(dy / (price * dx) - 1) <= D("1e-12")


@given(r=ratios)
@PROPERTY
def test_constant_product_loss_is_never_positive(r):
    assert amm.impermanent_loss_for("constant_product", r).impermanent_loss <= TINY
