"""What a concentrated-liquidity range will take of a deposit, before it is saved.

Pure: plain values in, plain values out (no Django). The same rule the valuation
applies when the position is saved (``analytics.tranches.fit_range``: Uniswap v3's
mint takes the largest liquidity the amounts allow, so one token goes in whole and
the other in part), worked out here so the form can say it first.

Prices are "the price of the base token in the quote token": the pool's first token
in its second, except that a stablecoin is always the quote (``pair_order``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pools import amm
from portfolios.analytics.tranches import fit_range

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PairToken:
    symbol: str
    is_stablecoin: bool


def pair_order(tokens: Sequence[PairToken]) -> tuple[str, str] | None:
    """(base, quote) symbols of a two-token pool: prices are "base in quote"."""
    if len(tokens) != 2:
        return None
    first, second = tokens
    if first.is_stablecoin and not second.is_stablecoin:
        first, second = second, first
    return first.symbol, second.symbol


@dataclass(frozen=True, slots=True)
class RangePreview:
    base: str
    quote: str
    price: Decimal  # quote per base
    status: str  # "below", "in_range" or "above"
    taken: dict[str, Decimal]
    left_out: dict[str, Decimal]  # only the tokens with something left out

    @property
    def unit(self) -> str:
        return f"{self.quote} per {self.base}"


def range_preview(
    *,
    order: tuple[str, str],
    amounts: Mapping[str, Decimal],
    prices_usd: Mapping[str, Decimal | None],
    lower: Decimal,
    upper: Decimal,
) -> RangePreview | None:
    """None when it cannot be worked out (a price missing, nothing deposited)."""
    base, quote = order
    p_base, p_quote = prices_usd.get(base), prices_usd.get(quote)
    if not p_base or not p_quote or p_base <= 0 or p_quote <= 0 or not 0 < lower < upper:
        return None
    deposited = {base: amounts.get(base, ZERO), quote: amounts.get(quote, ZERO)}
    taken = fit_range([base, quote], deposited, {base: p_base, quote: p_quote}, lower, upper)
    if taken is None:
        return None
    price = p_base / p_quote
    left_out = {a: deposited[a] - taken[a] for a in (base, quote) if deposited[a] - taken[a] > 0}
    return RangePreview(
        base=base,
        quote=quote,
        price=price,
        status=amm.range_status(price, lower, upper),
        taken=taken,
        left_out=left_out,
    )


def describe(preview: RangePreview, *, lower: Decimal, upper: Decimal, fmt) -> list[str]:
    """Sentences for the form; ``fmt`` formats a quantity (``config.formatting.quantity``)."""
    unit = preview.unit
    out = [f"Price then: {fmt(preview.price)} {unit}. Your range: {fmt(lower)} to {fmt(upper)} {unit}."]
    if preview.status == "below":
        out.append(f"The price is below your range: the range takes only {preview.base} and earns no fees "
                   "until the price rises into it.")
    elif preview.status == "above":
        out.append(f"The price is above your range: the range takes only {preview.quote} and earns no fees "
                   "until the price falls into it.")
    taken = " and ".join(f"{fmt(preview.taken[a])} {a}" for a in (preview.base, preview.quote) if preview.taken[a] > 0)
    if taken:
        out.append(f"At that price the range takes {taken}.")
    if preview.left_out:
        left = " and ".join(f"{fmt(q)} {a}" for a, q in preview.left_out.items())
        out.append(
            f"{left} will not fit: a range holds its two tokens in one proportion at a given price, so the "
            "rest stays out of the position (as the pool would return it to your wallet). It is not counted "
            "as deposited. To use it all, widen the range or change the amounts."
        )
    return out
