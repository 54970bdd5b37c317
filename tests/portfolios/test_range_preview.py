"""The range preview: pure, checked against Uniswap v3's closed forms by hand."""

import math
from decimal import Decimal as D

import pytest

from config.formatting import quantity
from portfolios.range_preview import PairToken, describe, pair_order, range_preview


def test_a_stablecoin_is_always_the_quote():
    assert pair_order([PairToken("USDC", True), PairToken("WETH", False)]) == ("WETH", "USDC")
    assert pair_order([PairToken("WETH", False), PairToken("WBTC", False)]) == ("WETH", "WBTC")
    assert pair_order([PairToken("USDC", True), PairToken("DAI", True)]) == ("USDC", "DAI")
    assert pair_order([PairToken("WETH", False)]) is None


def test_in_range_one_token_goes_in_whole_and_the_other_in_part():
    p = range_preview(order=("WETH", "USDC"), amounts={"WETH": D(1), "USDC": D(2000)},
                      prices_usd={"WETH": D(2600), "USDC": D(1)}, lower=D(1800), upper=D(3000))
    s, a, b = math.sqrt(2600), math.sqrt(1800), math.sqrt(3000)
    liquidity = 2000 / (s - a)  # USDC limits: 1 WETH alone would allow more
    assert 1 * s * b / (b - s) > liquidity
    assert float(p.taken["WETH"]) == pytest.approx(liquidity * (b - s) / (s * b), rel=1e-12)
    assert p.taken["USDC"] == D(2000)
    assert set(p.left_out) == {"WETH"}
    assert p.status == "in_range" and p.price == D(2600)


def test_above_the_range_only_the_quote_token_is_taken():
    p = range_preview(order=("WETH", "USDC"), amounts={"WETH": D(1), "USDC": D(2000)},
                      prices_usd={"WETH": D(2600), "USDC": D(1)}, lower=D(1800), upper=D(2300))
    assert p.status == "above"
    assert p.taken == {"WETH": D(0), "USDC": D(2000)}
    assert p.left_out == {"WETH": D(1)}
    text = " ".join(describe(p, lower=D(1800), upper=D(2300), fmt=quantity))
    assert "The price is above your range: the range takes only USDC" in text
    assert "1 WETH will not fit" in text


def test_a_missing_price_gives_no_preview():
    assert range_preview(order=("WETH", "USDC"), amounts={"WETH": D(1)}, prices_usd={"WETH": D(2600), "USDC": None},
                         lower=D(1800), upper=D(3000)) is None
