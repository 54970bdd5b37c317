"""The position page and the dashboard in words, with the user's own numbers (pure:
standard library, ``config.formatting`` and the analytics' result types; no Django).

* :func:`explain_impermanent_loss`: how the prices moved, holding vs the pool,
  what impermanent loss cost, what the fees did about it;
* :func:`explain_range`: where the price is against a concentrated range;
* :func:`return_breakdown`: where the return came from, for the bar chart;
* :func:`dashboard_warnings` (and :func:`out_of_range_warnings`): out-of-range positions and stale prices;
* :func:`range_badge`: the in/out of range badge of a concentrated position.

Every amount is printed by ``config.formatting`` (USD today).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from config.formatting import money, percent, quantity, ratio_percent
from portfolios.analytics import PortfolioSummary, PositionAnalytics

CONCENTRATED_LP = "concentrated_lp"  # the position kind (portfolios.models.Position.Kind)
#: A price ratio that moved less than this is "the same" in the sentences.
SAME_RATIO = Decimal("0.005")
#: Fees covering at least this share (but not all) of the loss "offset almost all of it".
ALMOST_ALL = Decimal("0.995")

BREAKDOWN_SHORT = {  # bar chart labels (the chart cuts long ones)
    "Price change of the tokens you deposited": "Price change",
    "Fees earned": "Fees",
    "Rewards": "Rewards",
    "Impermanent loss": "Impermanent loss",
    "Gas and other costs": "Gas and costs",
}


def and_join(parts: Sequence[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def moved(change: Decimal) -> str:
    """A relative price change in words: ``Decimal("0.35")`` → ``rose 35%``, one decimal
    under 10 % (``Decimal("-0.052")`` → ``fell 5.2%``)."""
    word = "rose" if change > 0 else "fell"
    return f"{word} {percent(abs(change) * 100, 1 if abs(change) < Decimal('0.1') else 0)}"


def explain_impermanent_loss(a: PositionAnalytics, entry_prices: Mapping[str, Decimal]) -> list[str]:
    """What impermanent loss did to this position, in sentences with the user's own numbers.

    ``entry_prices``: the average USD price paid for each deposited asset
    (``selectors.position_deposits``). The quantities quoted are those the position
    took (``a.deposited_amounts``): for a concentrated range, what fitted it at the
    deposit price, the same amounts the HODL value and the impermanent loss are
    worked out on; the rest is said apart."""
    took = a.deposited_amounts
    tokens = [t for t in a.tokens if took.get(t.asset) or t.deposited]
    if a.model == "hold" or len(tokens) < 2:
        names = and_join([t.asset for t in tokens]) or "its token"
        return [
            f"This position holds {names} itself, not a pool of two tokens that rebalance, so it has no "
            "impermanent loss: its value follows the token's price, plus what it earns."
        ]
    if a.il is None or a.value_hodl is None:
        return [
            "We cannot work out impermanent loss yet: a current price is missing for one of the tokens "
            "(see the warnings above)."
        ]
    sentences = []
    # 1. How the prices moved, relative to each other.
    if len(tokens) == 2:
        first, second = tokens
        p0, p1 = entry_prices.get(first.asset), entry_prices.get(second.asset)
        if p0 and p1 and first.price_now and second.price_now:
            change = (first.price_now / second.price_now) / (p0 / p1) - 1
            if abs(change) < SAME_RATIO:
                sentences.append(
                    f"{first.asset} and {second.asset} kept the same price ratio since you deposited "
                    "(within 0.5%), so impermanent loss is close to nothing."
                )
            else:
                sentences.append(f"{first.asset} {moved(change)} against {second.asset} since you deposited.")
    else:
        moves = [
            f"{t.asset} {moved(t.price_now / entry_prices[t.asset] - 1)}"
            for t in tokens
            if entry_prices.get(t.asset) and t.price_now and t.price_now != entry_prices[t.asset]
        ]
        if moves:
            sentences.append(f"Since you deposited, in US dollars, {and_join(moves)}.")
    # 2. HODL vs pool, and the loss. IL = model value - HODL value (fees excluded), realised + unrealised;
    #    so "pool share" = HODL + IL, which is the model value when nothing was withdrawn.
    listed = and_join([f"{quantity(took.get(t.asset, t.deposited))} {t.asset}" for t in tokens])
    held = f"the {listed} your range took" if a.unused else f"your original {listed}"
    pool_value = a.value_hodl + a.il
    loss = -a.il
    tail = " (what you withdrew counted at the prices then)" if a.withdrawn else ""
    if loss > 0:
        sentences.append(
            f"Holding {held} would be worth {money(a.value_hodl)}; your pool share is worth "
            f"{money(pool_value)}{tail}, so impermanent loss cost you {money(loss)} "
            f"({ratio_percent(abs(a.il_pct or 0))})."
        )
    else:
        sentences.append(
            f"Holding {held} would be worth {money(a.value_hodl)}, the same as your pool "
            f"share{tail}: impermanent loss has cost you nothing so far."
        )
    # What a range did not take is not in these figures: say so, with the amounts.
    if a.unused:
        left = and_join([f"{quantity(u.quantity)} {u.asset}" for u in a.unused])
        sentences.append(
            f"{left} of your deposit did not fit your range at the deposit price and was not counted "
            f"as in the pool (worth {money(a.unused_value)} then): the deposited value, the HODL value "
            "and the profit above leave it out."
        )
    # 3. What the fees did about it.
    fees = a.fees or Decimal(0)
    estimated = " (estimated from the pool's fee APY)" if a.fees_estimated else ""
    if loss > 0 and fees > 0:
        share = fees / loss
        if ALMOST_ALL <= share < 1:
            sentences.append(f"Fees of {money(fees)}{estimated} offset almost all of it ({percent(share * 100, 1)}).")
        elif share >= 1:
            sentences.append(
                f"Fees of {money(fees)}{estimated} more than made up for it: they cover "
                f"{percent(share * 100, 0)} of the loss."
            )
        else:
            sentences.append(f"Fees of {money(fees)}{estimated} offset {percent(share * 100, 0)} of it.")
    elif loss > 0:
        sentences.append("No fees have offset it yet.")
    if a.pnl_vs_hodl is not None:
        if a.pnl_vs_hodl >= 0:
            sentences.append(
                f"Counting fees, rewards and costs, you are {money(a.pnl_vs_hodl)} ahead of simply holding the tokens."
            )
        else:
            sentences.append(
                f"Counting fees, rewards and costs, you are {money(-a.pnl_vs_hodl)} behind simply holding the tokens."
            )
    if a.kind == CONCENTRATED_LP:
        sentences.append(
            "A concentrated position magnifies impermanent loss: inside your range it behaves like a "
            "much larger full-range position."
        )
    return sentences


def explain_range(a: PositionAnalytics, *, lower: Decimal | None, upper: Decimal | None) -> list[str]:
    """In range or not, and how far each bound is, for a concentrated position
    (``lower``/``upper``: its range, price of token0 in token1)."""
    if a.kind != CONCENTRATED_LP or a.current_price is None:
        return []
    tokens = [t.asset for t in a.tokens]
    unit = f" {tokens[1]} per {tokens[0]}" if len(tokens) == 2 else ""
    out = [f"Price now: {quantity(a.current_price)}{unit}. Your range: {quantity(lower)} to {quantity(upper)}{unit}."]
    if a.range_status == "in_range":
        out.append(
            f"In range: the price can fall {ratio_percent(abs(a.distance_to_lower or 0), 1)} before it "
            f"reaches the lower bound, or rise {ratio_percent(a.distance_to_upper, 1)} before the upper "
            "bound."
        )
    elif a.range_status == "below":
        held = tokens[0] if tokens else "the first token"
        out.append(
            f"Out of range: the price is below your range. The position now holds only {held} and earns "
            f"no fees; the price must rise {ratio_percent(a.distance_to_lower, 1)} to re-enter it."
        )
    elif a.range_status == "above":
        held = tokens[1] if len(tokens) > 1 else "the second token"
        out.append(
            f"Out of range: the price is above your range. The position now holds only {held} and earns "
            f"no fees; the price must fall {ratio_percent(abs(a.distance_to_upper or 0), 1)} to re-enter it."
        )
    return out


def _fee_note(a: PositionAnalytics) -> str:
    notes = []
    if a.fees_claimed:
        notes.append(f"{money(a.fees_claimed)} recorded as collected")
    if a.fees_estimated:
        notes.append("the rest estimated from the pool's fee APY since the last collection" if a.fees_claimed
                     else "partly estimated from the pool's fee APY")
    return "; ".join(notes)


def return_breakdown(a: PositionAnalytics) -> list[tuple[str, Decimal | None, str]]:
    """Where the return came from: ``(label, amount, note)`` rows (the labels are the
    keys of :data:`BREAKDOWN_SHORT`)."""
    rewards = a.rewards_claimed_at_receipt + a.rewards_unclaimed
    market = (a.pnl - a.pnl_vs_hodl) if a.pnl is not None and a.pnl_vs_hodl is not None else None
    return [
        ("Price change of the tokens you deposited", market, "what simply holding them would have made"),
        ("Fees earned", a.fees, _fee_note(a)),
        ("Rewards", rewards, f"{money(a.rewards_unclaimed)} of it unclaimed (estimate)" if a.rewards_unclaimed else ""),
        ("Impermanent loss", a.il, "pool value minus holding value, fees excluded"),
        ("Gas and other costs", -a.costs if a.costs else Decimal(0), ""),
    ]


@dataclass(frozen=True)
class StalePrice:
    """A held token whose latest price is old (or missing)."""

    name: str  # as the user reads it: the symbol, or the address's start
    asset: str  # the legs' asset (``portfolios.ledger.token_asset``)
    last_price_at: datetime | None


def out_of_range_warnings(positions: Sequence[PositionAnalytics]) -> list[str]:
    """One sentence per open position whose price is outside its range."""
    return [
        f"{a.name} is out of range (price {a.range_status} your range): it earns no fees until the price comes back."
        for a in positions
        if a.is_open and a.range_status in ("below", "above")
    ]


def dashboard_warnings(
    summary: PortfolioSummary,
    stale: Sequence[StalePrice],
    *,
    stale_after: timedelta,
    out_of_range: Sequence[str] | None = None,
) -> list[str]:
    """The dashboard's warnings: the summary's own (once each), out-of-range positions
    (``out_of_range`` when already worked out, else from ``summary.positions``), and the
    stale prices (``stale_after`` old) of tokens not already valued at their peg."""
    warnings = list(dict.fromkeys(summary.warnings))
    warnings += out_of_range if out_of_range is not None else out_of_range_warnings(summary.positions)
    # A stablecoin valued at its peg has its own warning (the summary's "assumed peg").
    pegged = set(summary.assumed_peg)
    stale = [s for s in stale if s.asset not in pegged]
    if stale:
        dated = [s.last_price_at for s in stale if s.last_price_at]
        since = f" (the oldest from {min(dated):%Y-%m-%d})" if dated else ""
        names = ", ".join(s.name for s in stale)
        warnings.append(
            f"Stale prices: {names} {'has' if len(stale) == 1 else 'have'} no price from the last "
            f"{int(stale_after.total_seconds() // 3600)} hours{since}. "
            "Values use the latest price we have."
        )
    return warnings


def range_badge(a: PositionAnalytics) -> dict[str, str] | None:
    """``{"css": ..., "text": ...}`` of a concentrated position's range status, else None."""
    if a.kind != CONCENTRATED_LP or a.range_status is None:
        return None
    if a.range_status == "in_range":
        return {"css": "badge-ok", "text": "in range"}
    return {"css": "badge-danger", "text": "below range" if a.range_status == "below" else "above range"}
