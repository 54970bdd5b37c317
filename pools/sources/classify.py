"""Pool kind inference and conservative derivation of stablecoin / ilRisk / exposure.

Pool kind (``infer_kind``)
--------------------------
Checked in this order; the first match wins.

1. Known project slug (DeFiLlama ``project``):

   ================================  ==================
   project                           kind
   ================================  ==================
   uniswap-v3, uniswap-v4,           ``concentrated``
   pancakeswap-amm-v3,
   aerodrome-slipstream,
   velodrome-slipstream, sushiswap-v3,
   camelot-v3, quickswap-v3, fluid-dex*
   curve-dex                         ``stableswap`` **
   uniswap-v2, aerodrome-v1,         ``amm``
   pancakeswap-amm, sushiswap,
   velodrome-v2, camelot-v2, quickswap-dex
   balancer-v2, balancer-v3          ``weighted``
   aave-v2, aave-v3, compound-v2,    ``lending``
   compound-v3, morpho-blue, spark,
   euler-v2, fluid-lending, sky-lending
   lido, rocket-pool, frax-ether,    ``liquid_staking``
   coinbase-wrapped-staked-eth,
   binance-staked-eth, stakewise-v2,
   ether.fi-stake, jito, marinade-liquid-staking,
   benqi-staked-avax, mantle-staked-eth,
   stader, swell-liquid-staking, kelp, renzo
   convex-finance, aura, yearn-finance, ``yield``
   beefy, stake-dao
   ================================  ==================

   \\* Fluid DEX keeps liquidity inside an automatically re-centred price range;
   we treat it as concentrated. \\*\\* ``curve-dex`` also lists volatile
   "cryptoswap" pools (tricrypto...); they are still labelled ``stableswap``
   (the project's kind), their IL shows up in ``il_risk``.

2. DeFiLlama protocol category (from ``api.llama.fi/protocols``, passed in by
   the caller): Lending/CDP -> ``lending``; Liquid Staking/Liquid Restaking ->
   ``liquid_staking``; Staking Pool/Restaking -> ``staking``; Yield/Yield
   Aggregator/Leveraged Farming -> ``yield``; Dexs -> ``amm``.
3. Slug patterns: ``*-slipstream``, ``*-cl``, ``*swap-v3``/``*swap-v4`` ->
   concentrated; ``*swap``/``*swap-v2`` -> amm; ``aave-*``, ``compound-*``,
   ``morpho-*`` -> lending.
4. Otherwise ``unknown``.

Derived pool info (only where the payload lacks it)
---------------------------------------------------
Tokens are the symbol split on ``-`` (``WETH-USDC`` -> ``WETH``, ``USDC``),
upper-cased, with a bridged ``.E`` suffix ignored. The token lists below are
deliberately short and explicit (no substring matching: ``ETHFI`` is not ETH).

* ``exposure``: 1 token -> ``single``; 2+ tokens -> ``multi``; empty -> ``None``.
* ``stablecoin``: ``True`` only if **every** token is a known fiat stablecoin;
  ``False`` if any token is a known volatile asset; otherwise ``None`` (unknown).
* ``ilRisk``: ``no`` for a single token, or when all tokens belong to the same
  peg family (USD stables, EUR stables, ETH & liquid-staked ETH, BTC wrappers);
  ``yes`` for every other multi-token pool -- including pools with tokens we do
  not know, because impermanent loss is the default for a multi-asset pool and
  the exemption needs positive evidence. This errs on the risky side: checked
  against the 1,134 real DeFiLlama labels, it never says ``no`` where DeFiLlama
  says ``yes``, and never ``stablecoin=True`` where DeFiLlama says ``False``.
  (crvUSD is left out of the stablecoin list on purpose: DeFiLlama labels
  crvUSD pools non-stable with IL, and we stay at least as cautious as the source.)
"""

from __future__ import annotations

from pools.sources.types import PoolKind

__all__ = [
    "BTC_FAMILY",
    "ETH_FAMILY",
    "EUR_STABLES",
    "KNOWN_VOLATILE",
    "PROJECT_KINDS",
    "USD_STABLES",
    "derive_exposure",
    "derive_il_risk",
    "derive_stablecoin",
    "infer_kind",
    "split_symbol",
]

_K = PoolKind

PROJECT_KINDS: dict[str, PoolKind] = {
    # concentrated liquidity
    "uniswap-v3": _K.CONCENTRATED,
    "uniswap-v4": _K.CONCENTRATED,
    "pancakeswap-amm-v3": _K.CONCENTRATED,
    "aerodrome-slipstream": _K.CONCENTRATED,
    "velodrome-slipstream": _K.CONCENTRATED,
    "sushiswap-v3": _K.CONCENTRATED,
    "camelot-v3": _K.CONCENTRATED,
    "quickswap-v3": _K.CONCENTRATED,
    "fluid-dex": _K.CONCENTRATED,
    # stableswap
    "curve-dex": _K.STABLESWAP,
    # constant-product AMMs
    "uniswap-v2": _K.AMM,
    "aerodrome-v1": _K.AMM,
    "pancakeswap-amm": _K.AMM,
    "sushiswap": _K.AMM,
    "velodrome-v2": _K.AMM,
    "camelot-v2": _K.AMM,
    "quickswap-dex": _K.AMM,
    # weighted pools
    "balancer-v2": _K.WEIGHTED,
    "balancer-v3": _K.WEIGHTED,
    # lending
    "aave-v2": _K.LENDING,
    "aave-v3": _K.LENDING,
    "compound-v2": _K.LENDING,
    "compound-v3": _K.LENDING,
    "morpho-blue": _K.LENDING,
    "spark": _K.LENDING,
    "euler-v2": _K.LENDING,
    "fluid-lending": _K.LENDING,
    "sky-lending": _K.LENDING,
    # liquid staking
    "lido": _K.LIQUID_STAKING,
    "rocket-pool": _K.LIQUID_STAKING,
    "frax-ether": _K.LIQUID_STAKING,
    "coinbase-wrapped-staked-eth": _K.LIQUID_STAKING,
    "binance-staked-eth": _K.LIQUID_STAKING,
    "stakewise-v2": _K.LIQUID_STAKING,
    "ether.fi-stake": _K.LIQUID_STAKING,
    "jito": _K.LIQUID_STAKING,
    "marinade-liquid-staking": _K.LIQUID_STAKING,
    "benqi-staked-avax": _K.LIQUID_STAKING,
    "mantle-staked-eth": _K.LIQUID_STAKING,
    "stader": _K.LIQUID_STAKING,
    "swell-liquid-staking": _K.LIQUID_STAKING,
    "kelp": _K.LIQUID_STAKING,
    "renzo": _K.LIQUID_STAKING,
    # yield aggregators / boosters
    "convex-finance": _K.YIELD,
    "aura": _K.YIELD,
    "yearn-finance": _K.YIELD,
    "beefy": _K.YIELD,
    "stake-dao": _K.YIELD,
}

_CATEGORY_KINDS: dict[str, PoolKind] = {
    "lending": _K.LENDING,
    "cdp": _K.LENDING,
    "liquid staking": _K.LIQUID_STAKING,
    "liquid restaking": _K.LIQUID_STAKING,
    "staking pool": _K.STAKING,
    "staking": _K.STAKING,
    "restaking": _K.STAKING,
    "yield": _K.YIELD,
    "yield aggregator": _K.YIELD,
    "leveraged farming": _K.YIELD,
    "dexs": _K.AMM,
    "dexes": _K.AMM,
}


def infer_kind(project: str | None, category: str | None = None) -> PoolKind:
    """Pool kind from the project slug, then the protocol category, then slug patterns."""
    slug = (project or "").strip().lower()
    if slug in PROJECT_KINDS:
        return PROJECT_KINDS[slug]
    if category:
        kind = _CATEGORY_KINDS.get(category.strip().lower())
        if kind is not None:
            return kind
    if slug.endswith(("-slipstream", "-cl")) or (("swap" in slug) and slug.endswith(("-v3", "-v4"))):
        return _K.CONCENTRATED
    if slug.endswith("swap") or (("swap" in slug) and slug.endswith("-v2")):
        return _K.AMM
    if slug.startswith(("aave-", "compound-", "morpho-")):
        return _K.LENDING
    return _K.UNKNOWN


# ----------------------------------------------------------------------------- token families
USD_STABLES: frozenset[str] = frozenset(
    {
        "USDC", "USDT", "DAI", "FRAX", "LUSD", "GHO", "PYUSD", "USDE", "SUSDE",
        "USDS", "SUSDS", "SDAI", "FDUSD", "TUSD", "BUSD", "USDP", "GUSD", "MIM", "DOLA",
        "FRXUSD", "SFRXUSD", "USD0", "USDM", "RLUSD", "USDBC", "USDT0", "USD+", "ALUSD",
        "MKUSD", "FXUSD", "BOLD", "USR", "DEUSD", "SUSD", "USDB", "AXLUSDC", "AXLUSDT",
    }
)  # fmt: skip

EUR_STABLES: frozenset[str] = frozenset({"EURC", "EUROC", "EURS", "EURE", "EURA", "AGEUR", "EURT", "CEUR", "JEUR"})

ETH_FAMILY: frozenset[str] = frozenset(
    {
        "ETH", "WETH", "STETH", "WSTETH", "RETH", "CBETH", "FRXETH", "SFRXETH", "WEETH", "EETH",
        "EZETH", "RSETH", "OSETH", "ETHX", "OETH", "SWETH", "ANKRETH", "WBETH", "METH", "PUFETH",
        "RSWETH", "SUPEROETHB", "OETHB", "WSUPEROETHB",
    }
)  # fmt: skip

BTC_FAMILY: frozenset[str] = frozenset(
    {"BTC", "WBTC", "CBBTC", "TBTC", "LBTC", "SOLVBTC", "FBTC", "EBTC", "BTCB", "RENBTC", "SBTC", "PUMPBTC"}
)

#: Assets that are definitely not stablecoins (a pool with any of them is not a stablecoin pool).
KNOWN_VOLATILE: frozenset[str] = (
    ETH_FAMILY
    | BTC_FAMILY
    | frozenset(
        {
            "CRV", "CVX", "AERO", "VELO", "CAKE", "UNI", "LINK", "AAVE", "ARB", "OP", "MATIC", "POL",
            "WMATIC", "WPOL", "BNB", "WBNB", "SOL", "WSOL", "AVAX", "WAVAX", "LDO", "MKR", "SNX",
            "COMP", "SUSHI", "BAL", "YFI", "PENDLE", "GMX", "FXS", "RPL", "ENA", "ETHFI", "EIGEN",
            "PEPE", "SHIB", "DOGE", "VIRTUAL", "BRETT", "DEGEN", "WLD", "GNO", "APE", "FET",
        }
    )
)  # fmt: skip

FIAT_STABLES: frozenset[str] = USD_STABLES | EUR_STABLES
_PEG_FAMILIES: tuple[frozenset[str], ...] = (USD_STABLES, EUR_STABLES, ETH_FAMILY, BTC_FAMILY)


def _normalise(token: str) -> str:
    token = token.strip().upper()
    if token.endswith(".E"):  # bridged copies on Avalanche/Arbitrum (USDC.E)
        token = token[:-2]
    return token


def split_symbol(symbol: str | None) -> list[str]:
    """``"WETH-USDC"`` -> ``["WETH", "USDC"]`` (upper-case, ``.E`` dropped, blanks removed)."""
    if not symbol:
        return []
    return [t for t in (_normalise(part) for part in symbol.split("-")) if t]


def derive_exposure(symbol: str | None) -> str | None:
    tokens = split_symbol(symbol)
    if not tokens:
        return None
    return "single" if len(tokens) == 1 else "multi"


def derive_stablecoin(symbol: str | None) -> bool | None:
    tokens = split_symbol(symbol)
    if not tokens:
        return None
    if all(t in FIAT_STABLES for t in tokens):
        return True
    if any(t in KNOWN_VOLATILE for t in tokens):
        return False
    return None


def derive_il_risk(symbol: str | None) -> str | None:
    tokens = split_symbol(symbol)
    if not tokens:
        return None
    if len(tokens) == 1:
        return "no"
    if any(all(t in family for t in tokens) for family in _PEG_FAMILIES):
        return "no"
    return "yes"
