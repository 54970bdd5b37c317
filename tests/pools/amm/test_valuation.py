"""Position valuation from real amounts and USD prices (pools.amm.valuation)."""

from __future__ import annotations

import pytest

from pools import amm
from pools.amm import (
    InvalidParameter,
)
from tests.pools.amm._support import (
    D,
    close,
)


def test_constant_product_position_value_matches_the_normalised_model():
    valuation = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)])
    assert valuation.value_at_deposit == D(4000)
    assert valuation.value_hodl == D(5000)
    assert close(valuation.value_lp, D(4000) * D("1.5").sqrt())
    assert close(valuation.il_relative, amm.constant_product_impermanent_loss(D("1.5")))
    assert valuation.il_absolute == valuation.value_lp - valuation.value_hodl
    a0, a1 = valuation.amounts_now
    assert close(a0 * a1, D(2000)) and close(a1 / a0, D(3000))


def test_weighted_position_value_matches_the_normalised_model():
    weights = [D("0.8"), D("0.2")]
    valuation = amm.value_position("weighted", [D(4), D(2000)], [D(2000), D(1)], [D(3000), D(1)], weights=weights)
    assert valuation.value_at_deposit == D(10000)
    assert close(valuation.il_relative, amm.weighted_impermanent_loss(D("1.5"), weights), rel="1e-45")
    a0, a1 = valuation.amounts_now
    assert close(a0 * 3000 / (a0 * 3000 + a1), D("0.8"), rel="1e-45")


def test_concentrated_position_with_absolute_bounds_matches_the_normalised_model():
    valuation = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(2500), D(1)], lower=D(1500), upper=D(2666)
    )
    expected = amm.impermanent_loss_for("concentrated", D("1.25"), lower=D("0.75"), upper=D("1.333"))
    assert close(valuation.il_relative, expected.impermanent_loss, rel="1e-40")
    assert valuation.in_range is True
    # At the deposit price the token1 side binds; the unusable part of token0 is not counted.
    assert valuation.amounts_deposited[1] == D(2000)
    assert valuation.amounts_deposited[0] < D(1)


def test_concentrated_position_out_of_range_holds_one_token():
    valuation = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(4000), D(1)], lower=D(1500), upper=D(2500)
    )
    assert valuation.in_range is False
    assert valuation.amounts_now[0] == 0 and valuation.amounts_now[1] > D(2000)


def test_stableswap_position_matches_the_symmetric_solver():
    valuation = amm.value_position("stableswap", [D(100)] * 3, [D(1)] * 3, [D("1.02"), D(1), D(1)], amplification=200)
    expected = amm.stableswap_impermanent_loss(D("1.02"), D(200), 3)
    assert close(valuation.il_relative, expected, rel="1e-25")
    assert valuation.value_at_deposit == D(300)


@pytest.mark.parametrize(
    ("model", "args", "kwargs", "field"),
    [
        ("constant_product", ([D(1)], [D(1)], [D(1)]), {}, "amounts"),
        ("constant_product", ([D(0), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "amounts"),
        ("constant_product", ([D(1), D(1)], [D(0), D(1)], [D(1), D(1)]), {}, "prices_at_deposit"),
        ("constant_product", ([D(1), D(1)], [D(1), D(1)], [D(1), D(-1)]), {}, "prices_now"),
        ("weighted", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {"weights": [D(1)]}, "weights"),
        ("concentrated", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {"lower": D(2)}, "upper"),
        ("stableswap", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "amplification"),
        ("other", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "model"),
    ],
)
def test_position_valuation_rejects_invalid_input(model, args, kwargs, field):
    with pytest.raises(InvalidParameter) as info:
        amm.value_position(model, *args, **kwargs)
    assert info.value.field == field
