"""Weighted pools (pools.amm.weighted)."""

from __future__ import annotations

from decimal import localcontext

from hypothesis import given

from pools import amm
from tests.pools.amm._support import (
    PROPERTY,
    TINY,
    D,
    close,
    ratios,
    weights_strategy,
)


def test_weighted_80_20_pool_matches_a_hand_computed_value():
    # r = 32 = 2**5 so r**0.8 = 16 exactly; hodl = 0.8 * 32 + 0.2 = 25.8.
    lp, hodl = amm.weighted_value_after_price_move(D(32), [D("0.8"), D("0.2")])
    assert close(lp, D(16)) and hodl == D("25.8")
    assert close(amm.weighted_impermanent_loss(D(32), [D("0.8"), D("0.2")]), D(16) / D("25.8") - 1)
    # And the other way: r = 1/32 gives 1/16 against 0.8/32 + 0.2 = 0.225.
    assert close(amm.weighted_impermanent_loss(D(1) / D(32), ["0.8", "0.2"]), D("0.0625") / D("0.225") - 1)


def test_weighted_three_token_pool_uses_every_price_ratio():
    # 4**0.5 * 16**0.25 * 1**0.25 = 4; hodl = 0.5*4 + 0.25*16 + 0.25*1 = 6.25.
    lp, hodl = amm.weighted_value_after_price_move([D(4), D(16), D(1)], [D("0.5"), D("0.25"), D("0.25")])
    assert close(lp, D(4)) and hodl == D("6.25")
    il = amm.impermanent_loss_for("weighted", D(4), weights=[D("0.5"), D("0.25"), D("0.25")])
    # A single ratio moves token 0 only: 4**0.5 / (0.5*4 + 0.5) = 2 / 2.5.
    assert close(il.impermanent_loss, D("-0.2"))


def test_weighted_reserves_after_a_move_keep_the_invariant_and_the_weights():
    weights = [D("0.6"), D("0.3"), D("0.1")]
    prices = [D(2000), D(1), D(50)]
    value = D(100000)
    reserves = [w * value / p for w, p in zip(weights, prices, strict=True)]
    moves = [D("1.5"), D("1"), D("0.25")]
    after = amm.weighted_reserves_after_price_move(reserves, weights, moves)
    with localcontext() as ctx:
        ctx.prec = 60
        invariant_before = sum((w * b.ln() for w, b in zip(weights, reserves, strict=True)), D(0))
        invariant_after = sum((w * b.ln() for w, b in zip(weights, after, strict=True)), D(0))
        assert close(invariant_before, invariant_after, rel="1e-45")
        values = [b * p * m for b, p, m in zip(after, prices, moves, strict=True)]
        total = sum(values, D(0))
        for v, w in zip(values, weights, strict=True):
            assert close(v / total, w, rel="1e-45")


@given(r=ratios, weights=weights_strategy)
@PROPERTY
def test_weighted_loss_is_never_positive(r, weights):
    assert amm.impermanent_loss_for("weighted", r, weights=weights).impermanent_loss <= TINY


@given(r=ratios)
@PROPERTY
def test_weighted_fifty_fifty_equals_constant_product(r):
    weighted = amm.impermanent_loss_for("weighted", r, weights=["0.5", "0.5"])
    product = amm.impermanent_loss_for("constant_product", r)
    assert close(weighted.impermanent_loss, product.impermanent_loss, rel="1e-45", abs_="1e-50")
    assert close(weighted.value_lp, product.value_lp, rel="1e-50")
