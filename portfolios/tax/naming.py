"""Names people read for the synthetic assets of a tax report (pure: no Django).

A position's receipt asset is stored as ``LP#<position id>``; in reports it reads
"LP ETH/USDC v3 range #12": what kind of receipt, the pool's pair, the protocol's
version when its name has one, "range" for concentrated liquidity, and the
position's number (two positions in one pool stay apart).
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"(?:^|[\s_-])v(\d+)(?:$|[\s_-])", re.IGNORECASE)
_PREFIX = {"staking": "Staked", "liquid_staking": "Staked", "lending": "Lent"}  # others: "LP"
_WRAPPED = {"WETH": "ETH", "WBTC": "BTC"}


def pair_label(symbol: str) -> str:
    """A pool symbol as a pair: ``WETH-USDC`` -> ``ETH/USDC``."""
    parts = [p.strip() for p in re.split(r"[-/ ]+", symbol or "") if p.strip()]
    return "/".join(_WRAPPED.get(p.upper(), p) for p in parts)


def receipt_name(*, position_id: int | str, kind: str = "lp", pool_symbol: str = "", protocol: str = "",
                 label: str = "") -> str:
    """``LP ETH/USDC v3 range #12``; a position without a pool uses its label."""
    words = [_PREFIX.get(kind, "LP")]
    what = pair_label(pool_symbol) if pool_symbol else (label or "").strip()
    if what:
        words.append(what)
    version = _VERSION.search(f" {protocol} ")
    if version:
        words.append(f"v{version.group(1)}")
    if kind == "concentrated_lp":
        words.append("range")
    words.append(f"#{position_id}")
    return " ".join(words)
