"""The uniform IL entry points (pools.amm.il): every model, results and invalid input."""

from __future__ import annotations

from decimal import localcontext

import pytest
from hypothesis import given

from pools import amm
from pools.amm import (
    ILResult,
    InvalidParameter,
)
from tests.pools.amm._support import (
    PROPERTY,
    D,
    close,
    ratios,
)


def test_loss_is_zero_when_the_price_does_not_move():
    for model, params in [
        ("constant_product", {}),
        ("weighted", {"weights": [D("0.8"), D("0.2")]}),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}),
        ("stableswap", {"amplification": D(100)}),
    ]:
        result = amm.impermanent_loss_for(model, D(1), **params)
        assert abs(result.impermanent_loss) <= D("1e-50"), model
        assert close(result.value_lp, D(1)) and close(result.value_hodl, D(1))


@given(r=ratios)
@PROPERTY
def test_fifty_fifty_pools_lose_the_same_for_a_move_and_its_inverse(r):
    inverse = D(1) / r
    for model, params, rel in [
        ("constant_product", {}, "1e-45"),
        ("weighted", {"weights": [D("0.5"), D("0.5")]}, "1e-45"),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}, "1e-45"),
        ("stableswap", {"amplification": D(100)}, "1e-25"),
    ]:
        a = amm.impermanent_loss_for(model, r, **params).impermanent_loss
        b = amm.impermanent_loss_for(model, inverse, **params).impermanent_loss
        assert close(a, b, rel=rel, abs_="1e-28"), model


def test_il_result_is_a_frozen_dataclass():
    result = amm.impermanent_loss_for("constant_product", D(2))
    assert isinstance(result, ILResult)
    with pytest.raises(AttributeError):
        result.impermanent_loss = D(0)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("model", "kwargs", "field"),
    [
        ("constant_product", {"price_ratio": D(0)}, "price_ratio"),
        ("constant_product", {"price_ratio": D(-1)}, "price_ratio"),
        ("constant_product", {"price_ratio": "abc"}, "price_ratio"),
        ("constant_product", {"price_ratio": D("NaN")}, "price_ratio"),
        ("constant_product", {"price_ratio": 1.5}, "price_ratio"),
        ("nope", {"price_ratio": D(2)}, "model"),
        ("weighted", {"price_ratio": D(2)}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D("0.5"), D("0.6")]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D(1)]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D("1.5"), D("-0.5")]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D(1), D(0)]}, "weights"),
        ("concentrated", {"price_ratio": D(2), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D("0.5")}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(2), "upper": D(2)}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(3), "upper": D(2)}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(0), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D(-1), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D("0.5"), "upper": D(-2)}, "upper"),
        ("stableswap", {"price_ratio": D(2)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(0)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(-5)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(10), "n_coins": 1}, "n_coins"),
    ],
)
def test_invalid_input_names_the_offending_field(model, kwargs, field):
    price_ratio = kwargs.pop("price_ratio")
    with pytest.raises(InvalidParameter) as info:
        amm.impermanent_loss_for(model, price_ratio, **kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_il_curve_returns_two_hundred_points_for_every_model():
    ratios_ = [D(k) / D(40) for k in range(1, 201)]
    for model, params in [
        ("constant_product", {}),
        ("weighted", {"weights": [D("0.8"), D("0.2")]}),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}),
        ("stableswap", {"amplification": D(100)}),
    ]:
        curve = amm.il_curve(model, ratios_, **params)
        assert len(curve) == 200
        assert all(isinstance(point, ILResult) for point in curve)
        assert curve[39].impermanent_loss == amm.impermanent_loss_for(model, D(1), **params).impermanent_loss


def test_il_curve_rejects_unknown_parameters_and_validates_each_ratio():
    with pytest.raises(TypeError):
        amm.il_curve("constant_product", [D(1)], width=D(2))
    with pytest.raises(InvalidParameter) as info:
        amm.il_curve("stableswap", [D(1), D(0)], amplification=D(10))
    assert info.value.field == "price_ratio"


def test_results_do_not_depend_on_the_callers_decimal_context():
    expected = amm.impermanent_loss_for("weighted", D(3), weights=[D("0.7"), D("0.3")])
    with localcontext() as ctx:
        ctx.prec = 5
        assert amm.impermanent_loss_for("weighted", D(3), weights=[D("0.7"), D("0.3")]) == expected
    assert len(expected.impermanent_loss.as_tuple().digits) >= 40
