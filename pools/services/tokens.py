"""Tokens: created on first mention, and flagged as in use so their prices are refreshed."""

from __future__ import annotations

from collections.abc import Iterable

from pools.models import Chain, Token
from pools.naming import (
    COINS_PREFIX,
    chain_display_name,
    chain_slug,
    normalize_address,
    price_symbol_for,
    token_price_id,
)
from pools.sources.classify import FIAT_STABLES


def token_get_or_create(*, chain: str, address: str, symbol: str = "", price_id: str = "") -> Token:
    """The token at ``address`` on ``chain`` (name or slug), created if unknown."""
    slug = chain_slug(chain)
    chain_obj, _ = Chain.objects.get_or_create(
        slug=slug, defaults={"name": chain_display_name(chain), "coins_prefix": COINS_PREFIX.get(slug, "")}
    )
    address = normalize_address(address)
    token, created = Token.objects.get_or_create(
        chain=chain_obj,
        address=address,
        defaults={
            "symbol": symbol,
            "is_stablecoin": symbol.upper() in FIAT_STABLES,
            "price_id": price_id or token_price_id(chain_obj.name, address),
            "price_symbol": price_symbol_for(symbol) if symbol else "",
        },
    )
    return token


def token_set_tracked(*, token_ids: Iterable[int], tracked: bool = True) -> int:
    """Mark tokens as in use (their prices are refreshed). The portfolios app calls
    this for every token it holds; pools never imports portfolios."""
    return Token.objects.filter(pk__in=list(token_ids)).exclude(is_tracked=tracked).update(is_tracked=tracked)
