"""Chains: loaded from a chains JSON file, edited in the admin, turned into the pure
layer's :class:`ChainConfig` with the environment applied.

Environment (read when a sync starts, never stored):

* ``WALLETS_RPC_URLS_<SLUG>`` - comma-separated RPC URLs replacing the chain's
  (``<SLUG>``: the slug upper-cased, ``-`` as ``_``; e.g. ``WALLETS_RPC_URLS_ETHEREUM``);
* ``WALLETS_EXPLORER_KEY_<SLUG>``, else ``WALLETS_EXPLORER_KEY`` - the block explorer
  API key (one Etherscan v2 key serves every chain it covers).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from django.db import transaction

from portfolios.wallets.chain.config import DEFAULT_PATH, ChainConfig, load_chains, parse_chains
from portfolios.wallets.models import Chain


def _env_name(prefix: str, slug: str) -> str:
    return f"{prefix}_{slug.upper().replace('-', '_')}"


def chain_rpc_urls(chain: Chain) -> list[str]:
    override = os.environ.get(_env_name("WALLETS_RPC_URLS", chain.slug), "").strip()
    if override:
        return [u.strip() for u in override.split(",") if u.strip()]
    return list(chain.rpc_urls)


def chain_explorer_key(chain: Chain) -> str:
    return (
        os.environ.get(_env_name("WALLETS_EXPLORER_KEY", chain.slug), "").strip()
        or os.environ.get("WALLETS_EXPLORER_KEY", "").strip()
    )


def chain_config(chain: Chain) -> ChainConfig:
    """The chain as the reader takes it (validated like a file entry; env RPC URLs applied)."""
    config = parse_chains({"format": 1, "chains": [chain.as_document()]}, f"chain {chain.slug}")[0]
    return replace(config, rpc_urls=tuple(chain_rpc_urls(chain)))


def _fields(config: ChainConfig) -> dict:
    return {
        "slug": config.slug,
        "name": config.name,
        "native_symbol": config.native_symbol,
        "native_price_id": config.native_price_id,
        "rpc_urls": list(config.rpc_urls),
        "explorer_api": config.explorer_api or "",
        "explorer_url": config.explorer_url or "",
        "max_log_range": config.max_log_range,
        "confirmations": config.confirmations,
        "batch_size": config.batch_size,
        "wrapped_native": config.wrapped_native or "",
        "uniswap_v2": [{"name": p.name, "factory": p.factory} for p in config.uniswap_v2],
        "uniswap_v3": [
            {"name": p.name, "factory": p.factory, "position_manager": p.position_manager} for p in config.uniswap_v3
        ],
        "tokens": {a: {"symbol": t.symbol, "price_id": t.price_id} for a, t in sorted(config.tokens.items())},
        "rebasing_tokens": sorted(config.rebasing_tokens),
    }


def chains_upsert(configs: list[ChainConfig]) -> tuple[int, int]:
    """Create or update chains by chain id (one transaction). Returns (created, updated)."""
    created = updated = 0
    with transaction.atomic():
        for config in configs:
            _, was_created = Chain.objects.update_or_create(chain_id=config.chain_id, defaults=_fields(config))
            created += was_created
            updated += not was_created
    return created, updated


def chains_load(path: str | Path = DEFAULT_PATH) -> tuple[int, int]:
    """Validate a chains file (every problem reported at once, nothing written on error) and upsert it."""
    return chains_upsert(load_chains(path))
