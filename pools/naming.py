"""How the pools app names things: chain slugs, protocol names, token addresses and the
price ids of DeFiLlama's coins API and of the bundled price file. Pure: no Django."""

from __future__ import annotations

# DeFiLlama chain name (lower-case) -> prefix of DeFiLlama coins ids.
COINS_PREFIX = {
    "ethereum": "ethereum", "arbitrum": "arbitrum", "optimism": "optimism", "base": "base",
    "polygon": "polygon", "bsc": "bsc", "avalanche": "avax", "celo": "celo", "sonic": "sonic",
    "fraxtal": "fraxtal", "bob": "bob", "fantom": "fantom", "kava": "kava", "gnosis": "xdai",
    "op_bnb": "op_bnb", "opbnb": "op_bnb", "zksync": "era", "linea": "linea", "moonbeam": "moonbeam",
    "scroll": "scroll", "mantle": "mantle", "blast": "blast", "mode": "mode", "solana": "solana",
}  # fmt: skip
# The native coin (0x0…0 / 0xEeee…) of chains whose gas token is ETH or BNB/AVAX.
NATIVE_PRICE_IDS = {
    "ethereum": "coingecko:ethereum", "arbitrum": "coingecko:ethereum", "optimism": "coingecko:ethereum",
    "base": "coingecko:ethereum", "linea": "coingecko:ethereum", "zksync": "coingecko:ethereum",
    "scroll": "coingecko:ethereum", "bsc": "coingecko:binancecoin", "op_bnb": "coingecko:binancecoin",
    "opbnb": "coingecko:binancecoin", "avalanche": "coingecko:avalanche-2",
}  # fmt: skip
NATIVE_ADDRESSES = {"0x0000000000000000000000000000000000000000", "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}
# Series in the bundled price file (pools/data/prices) and token symbols read as them.
BUNDLED_PRICE_SYMBOLS = {
    "AAVE",
    "BAL",
    "BTC",
    "COMP",
    "CRV",
    "ETH",
    "LINK",
    "MKR",
    "SNX",
    "SUSHI",
    "TUSD",
    "UNI",
    "USDC",
    "USDT",
    "YFI",
}
PRICE_SYMBOL_ALIASES = {"WETH": "ETH", "WBTC": "BTC"}

PROTOCOL_NAMES = {
    "uniswap-v2": "Uniswap V2", "uniswap-v3": "Uniswap V3", "curve-dex": "Curve DEX",
    "aerodrome-slipstream": "Aerodrome Slipstream", "aerodrome-v1": "Aerodrome V1",
    "pancakeswap-amm": "PancakeSwap AMM", "pancakeswap-amm-v3": "PancakeSwap AMM V3", "fluid-dex": "Fluid DEX",
}  # fmt: skip


def chain_slug(name: str) -> str:
    return name.strip().lower().replace(" ", "-")


def protocol_name(slug: str) -> str:
    if slug in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[slug]
    return " ".join(p.upper() if p[:1] == "v" and p[1:].isdigit() else p.capitalize() for p in slug.split("-"))


def normalize_address(address: str) -> str:
    address = address.strip()
    return address.lower() if address[:2].lower() == "0x" else address


def price_symbol_for(symbol: str) -> str:
    key = symbol.strip().upper()
    key = PRICE_SYMBOL_ALIASES.get(key, key)
    return key if key in BUNDLED_PRICE_SYMBOLS else ""


def token_price_id(chain: str, address: str) -> str:
    """DeFiLlama coins id for a token (blank when the chain is unknown to us)."""
    key = chain_slug(chain)
    if address in NATIVE_ADDRESSES:
        return NATIVE_PRICE_IDS.get(key, "")
    prefix = COINS_PREFIX.get(key)
    return f"{prefix}:{address}" if prefix and address else ""
