"""Token reads of the portfolios app: which listed token a symbol means, a token's
stored USD price at a moment, and the held tokens whose price is stale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from pools.models import Token
from pools.selectors import token_price_row_at, token_search
from portfolios.models import Leg, Portfolio


def price_is_stale(*, priced_at: datetime | None, now: datetime | None = None) -> bool:
    """A price older than ``settings.PRICE_STALE_AFTER_HOURS`` (None: no dated price, not stale)."""
    if priced_at is None:
        return False
    return priced_at < (now or timezone.now()) - timedelta(hours=settings.PRICE_STALE_AFTER_HOURS)


def token_usd_price_stored_at(*, token: Token, when: datetime, max_age: timedelta | None = None) -> Decimal | None:
    """USD price of ``token`` at ``when`` from what we store: the daily price of that UTC
    day or the nearest earlier one (at most ``max_age`` old; ``pools.selectors.token_price_row_at``
    gives the row), else the token's latest quote when ``when`` is today (UTC). None when
    we store nothing that fits (``services.legs.token_usd_price_at`` then asks the source)."""
    row = token_price_row_at(token=token, when=when, max_age=max_age)
    if row is not None:
        return row.price_usd
    if token.last_price_usd is not None and when.astimezone(UTC).date() == timezone.now().astimezone(UTC).date():
        return token.last_price_usd
    return None


def token_for_symbol(*, symbol: str, chain: str | None = None) -> Token | None:
    """The token a symbol most likely means, or None when we list none.

    With ``chain`` (a slug or name), that chain's token first; then the symbol on
    any chain (``pools.selectors.token_search``: most-used first); then the
    token whose *price symbol* it is, so "ETH" finds WETH (tracked and most
    recently priced first). The one lookup of the services, the CSV import and
    the forms."""
    symbol = symbol.strip()
    if not symbol:
        return None
    token = token_search(symbol=symbol, chain=chain).first() if chain else None
    if token is None:
        token = token_search(symbol=symbol).first()
    if token is None:
        token = (
            Token.objects.filter(price_symbol__iexact=symbol)
            .select_related("chain")
            .order_by("-is_tracked", F("last_price_at").desc(nulls_last=True), "id")
            .first()
        )
    return token


def stale_tokens(*, portfolios: Sequence[Portfolio], older_than: timedelta, limit: int = 20) -> list[Token]:
    """Tokens of open positions and loose transactions of these portfolios whose latest
    price is older than ``older_than`` (or missing), by symbol: one query, whatever
    the number of positions."""
    held = Leg.objects.counted().filter(
        Q(transaction__position__isnull=True) | Q(transaction__position__closed_at__isnull=True),
        transaction__portfolio__in=[p.pk for p in portfolios],
        token__isnull=False,
    )
    cutoff = timezone.now() - older_than
    return list(
        Token.objects.filter(pk__in=held.values("token_id"))
        .filter(Q(last_price_at__lt=cutoff) | Q(last_price_at__isnull=True))
        .only("symbol", "address", "last_price_at", "is_stablecoin")
        .order_by("symbol", "id")[:limit]
    )
