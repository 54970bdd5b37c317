"""How the pools app names things: chain slugs and names, protocol names, pool display
names, token symbols and addresses, and the price ids of DeFiLlama's coins API and of the
bundled price file. Pure: no Django."""

from __future__ import annotations

import re

# Chain slug -> prefix of DeFiLlama coins ids.
COINS_PREFIX = {
    "ethereum": "ethereum", "arbitrum": "arbitrum", "optimism": "optimism", "base": "base",
    "polygon": "polygon", "bsc": "bsc", "avalanche": "avax", "celo": "celo", "sonic": "sonic",
    "fraxtal": "fraxtal", "bob": "bob", "fantom": "fantom", "kava": "kava", "gnosis": "xdai",
    "opbnb": "op_bnb", "zksync": "era", "linea": "linea", "moonbeam": "moonbeam",
    "scroll": "scroll", "mantle": "mantle", "blast": "blast", "mode": "mode", "solana": "solana",
}  # fmt: skip
# The native coin (0x0…0 / 0xEeee…) of chains whose gas token is ETH or BNB/AVAX.
NATIVE_PRICE_IDS = {
    "ethereum": "coingecko:ethereum", "arbitrum": "coingecko:ethereum", "optimism": "coingecko:ethereum",
    "base": "coingecko:ethereum", "linea": "coingecko:ethereum", "zksync": "coingecko:ethereum",
    "scroll": "coingecko:ethereum", "bsc": "coingecko:binancecoin", "opbnb": "coingecko:binancecoin",
    "avalanche": "coingecko:avalanche-2",
}  # fmt: skip
# Spellings of one chain that squash to different keys ("BNB Chain" and "BSC").
CHAIN_ALIASES = {"binance": "bsc", "bnb": "bsc", "bnbchain": "bsc", "bnbsmartchain": "bsc", "avax": "avalanche",
                 "zksyncera": "zksync", "era": "zksync", "xdai": "gnosis", "matic": "polygon", "polygonpos": "polygon",
                 "eth": "ethereum", "mainnet": "ethereum", "arbitrumone": "arbitrum", "op": "optimism",
                 "opmainnet": "optimism"}  # fmt: skip
# How we print a chain, by slug (others keep the source's spelling, first one seen).
CHAIN_NAMES = {"bsc": "BSC", "opbnb": "opBNB", "zksync": "zkSync Era", "polygonzkevm": "Polygon zkEVM",
               "bob": "BOB"}  # fmt: skip
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
    """One slug per chain however the source spells it: lower case, letters and digits
    only, then known aliases ("Op_bnb", "Opbnb", "op-BNB" -> "opbnb"; "BNB Chain" -> "bsc")."""
    key = re.sub(r"[^a-z0-9]", "", name.strip().lower())
    return CHAIN_ALIASES.get(key, key)


def chain_display_name(name: str) -> str:
    """The name we show for a chain the source calls ``name``."""
    return CHAIN_NAMES.get(chain_slug(name), name.strip())


# A native coin and its wrapped ERC-20 are one asset to someone searching by symbol.
# (Polygon's wrapped native kept its address when MATIC became POL.)
NATIVE_WRAPPED: tuple[frozenset[str], ...] = tuple(frozenset(group) for group in (
    {"ETH", "WETH"}, {"BNB", "WBNB"}, {"AVAX", "WAVAX"}, {"MATIC", "WMATIC", "POL", "WPOL"}, {"FTM", "WFTM"},
    {"S", "WS"}, {"XDAI", "WXDAI"}, {"GLMR", "WGLMR"}, {"KAVA", "WKAVA"}, {"MNT", "WMNT"},
))  # fmt: skip
_EQUIVALENT = {symbol: group for group in NATIVE_WRAPPED for symbol in group}


def token_symbol_equivalents(symbol: str) -> tuple[str, ...]:
    """The upper-case symbols a token search for ``symbol`` matches: itself, plus the
    wrapped token of a native coin and the native coin of a wrapped token
    (``eth`` -> ``ETH, WETH``). Empty for a blank symbol."""
    key = symbol.strip().upper()
    if not key:
        return ()
    return tuple(sorted(_EQUIVALENT.get(key, {key})))


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def pool_meta_label(meta: str) -> str:
    """The source's pool meta, tidied for display: "CL200 - 0.3%" -> "CL200 0.3 %",
    "0.05%" -> "0.05 %"."""
    text = " ".join((meta or "").replace(" - ", " ").split())
    return _PERCENT.sub(lambda m: f"{m.group(1)}\u00a0%", text)


def short_address(address: str) -> str:
    address = (address or "").strip()
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def pool_label(symbol: str, meta: str = "", address: str = "") -> str:
    """A pool's own name: its symbol and fee tier or meta ("USDC-WETH 0.05 %"); without
    meta, the short contract address tells same-symbol pools apart."""
    extra = pool_meta_label(meta)
    if not extra and address:
        extra = f"pool {short_address(address)}"
    return f"{symbol} {extra}" if extra else symbol


def pool_display_name(symbol: str, meta: str = "", protocol: str = "", chain: str = "", address: str = "") -> str:
    """"USDC-WETH 0.05 % · Uniswap V3 · Ethereum": how a pool is named wherever it appears."""
    return " · ".join(part for part in (pool_label(symbol, meta, address), protocol, chain) if part)


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
