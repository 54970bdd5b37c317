"""Pool kind mapping and symbol-based derivation (table-driven)."""

from __future__ import annotations

import pytest

from pools.sources.classify import derive_exposure, derive_il_risk, derive_stablecoin, infer_kind, split_symbol
from pools.sources.types import PoolKind

K = PoolKind


@pytest.mark.parametrize(
    ("project", "category", "kind"),
    [
        ("uniswap-v3", None, K.CONCENTRATED),
        ("pancakeswap-amm-v3", None, K.CONCENTRATED),
        ("aerodrome-slipstream", None, K.CONCENTRATED),
        ("curve-dex", None, K.STABLESWAP),
        ("uniswap-v2", None, K.AMM),
        ("aerodrome-v1", None, K.AMM),
        ("pancakeswap-amm", None, K.AMM),
        ("balancer-v2", None, K.WEIGHTED),
        ("aave-v3", None, K.LENDING),
        ("lido", None, K.LIQUID_STAKING),
        ("convex-finance", None, K.YIELD),
        ("Uniswap-V3", None, K.CONCENTRATED),  # slugs are case-insensitive
        ("curve-dex", "Lending", K.STABLESWAP),  # known project beats category
        ("some-money-market", "Lending", K.LENDING),
        ("some-lst", "Liquid Staking", K.LIQUID_STAKING),
        ("some-validator", "Staking Pool", K.STAKING),
        ("some-vault", "Yield Aggregator", K.YIELD),
        ("some-dex", "Dexs", K.AMM),
        ("velodrome-cl", None, K.CONCENTRATED),
        ("blueswap-v3", None, K.CONCENTRATED),
        ("blueswap", None, K.AMM),
        ("blueswap-v2", None, K.AMM),
        ("aave-v4", None, K.LENDING),
        ("mystery-protocol", None, K.UNKNOWN),
        ("mystery-protocol", "Options", K.UNKNOWN),
        (None, None, K.UNKNOWN),
    ],
)
def test_infer_kind(project, category, kind):
    assert infer_kind(project, category) is kind


@pytest.mark.parametrize(
    ("symbol", "tokens"),
    [("WETH-USDC", ["WETH", "USDC"]), ("usdc.e-usdt", ["USDC", "USDT"]), ("", []), (None, []), ("-X-", ["X"])],
)
def test_split_symbol(symbol, tokens):
    assert split_symbol(symbol) == tokens


@pytest.mark.parametrize(
    ("symbol", "exposure", "stablecoin", "il_risk"),
    [
        ("USDC", "single", True, "no"),
        ("WETH", "single", False, "no"),
        ("PEPE2", "single", None, "no"),  # unknown token: stablecoin unknown, single asset has no IL
        ("USDC-USDT", "multi", True, "no"),
        ("DAI-USDC.E-USDT", "multi", True, "no"),
        ("EURC-EURE", "multi", True, "no"),
        ("EURC-USDC", "multi", True, "yes"),  # both fiat-stable, different pegs
        ("WETH-USDC", "multi", False, "yes"),
        ("ETH-STETH", "multi", False, "no"),
        ("WBTC-CBBTC", "multi", False, "no"),
        ("WBTC-WETH", "multi", False, "yes"),
        ("ETHFI-WETH", "multi", False, "yes"),  # ETHFI is not ETH: no substring matching
        ("BET-USDT", "multi", None, "yes"),  # unknown token with a stable: IL assumed
        ("FOO-BAR", "multi", None, "yes"),
        ("CRVUSD-USDC", "multi", None, "yes"),  # as cautious as DeFiLlama's own labels
        ("", None, None, None),
    ],
)
def test_derivations(symbol, exposure, stablecoin, il_risk):
    assert derive_exposure(symbol) == exposure
    assert derive_stablecoin(symbol) is stablecoin
    assert derive_il_risk(symbol) == il_risk
