"""A portfolio from its positions' analytics: loose holdings, income in a period,
totals, allocations and the combined summary of several portfolios."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, localcontext

from config.formatting import money
from portfolios.analytics.inputs import CTX, PEG_MAX_AGE, STABLECOIN_PEG, ZERO, TxData
from portfolios.analytics.results import AllocationSlice, Holding, PortfolioSummary, PositionAnalytics
from portfolios.ledger import TxKind, is_fiat, is_synthetic_asset


def holdings_from_transactions(
    transactions: Iterable[TxData],
    prices_now: Mapping[str, Decimal | None],
    pegged: frozenset[str] = frozenset(),
    price_times: Mapping[str, datetime] | None = None,
) -> list[Holding]:
    """Loose holdings: net quantity of each asset over transactions not attached to a
    position; positive balances only (a negative one means the history is incomplete),
    fiat and synthetic assets excluded. ``pegged``: stablecoins priced at their assumed peg."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for tx in transactions:
        if tx.position_id is not None:
            continue
        for leg in tx.legs:
            # Fiat is money, not a holding; a leg with a token is a token whatever its symbol.
            if (leg.token_id is None and is_fiat(leg.asset)) or is_synthetic_asset(leg.asset):
                continue
            totals[leg.asset] += leg.quantity
    out = []
    with localcontext(CTX):
        for asset in sorted(totals):
            qty = totals[asset]
            if qty <= 0:
                continue
            price = prices_now.get(asset)
            out.append(Holding(asset, qty, price, None if price is None else qty * price, asset in pegged,
                               (price_times or {}).get(asset) if price is not None else None))
    return out


def income_between(transactions: Iterable[TxData], start: datetime, end: datetime) -> Decimal:
    """Fiat value of rewards received in ``[start, end)``."""
    total = ZERO
    for tx in transactions:
        if tx.kind == TxKind.REWARD and start <= tx.occurred_at < end:
            for leg in tx.legs:
                if leg.quantity > 0 and not leg.is_fee:
                    total += leg.fiat_value or ZERO
    return total


def _slices(values: Mapping[str, Decimal], total: Decimal) -> tuple[AllocationSlice, ...]:
    items = sorted(((k, v) for k, v in values.items() if v), key=lambda kv: (-kv[1], kv[0]))
    with localcontext(CTX):
        return tuple(AllocationSlice(k, v, (v / total) if total else ZERO) for k, v in items)


def _peg_warning(assets: Iterable[str]) -> str:
    names = sorted(assets)
    return (
        f"{', '.join(names)}: no price from the last {PEG_MAX_AGE.days} days, so "
        f"{'it is' if len(names) == 1 else 'each is'} valued at {money(STABLECOIN_PEG)} (assumed peg)."
    )


def summarise_portfolio(
    positions: Sequence[PositionAnalytics],
    holdings: Sequence[Holding],
    *,
    as_of: datetime,
    income_ytd: Decimal,
    portfolio_id: int | None = None,
    name: str = "",
) -> PortfolioSummary:
    """Totals and allocations over positions (open and closed) and loose holdings.

    value = open positions' value now + loose holdings; deposited = cost of what is
    still in open positions; pnl = sum of position PnL (closed ones realised).
    """
    by_chain: dict[str, Decimal] = defaultdict(Decimal)
    by_protocol: dict[str, Decimal] = defaultdict(Decimal)
    by_asset: dict[str, Decimal] = defaultdict(Decimal)
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    value = deposited = pnl = il = fees = rewards = costs = ZERO
    warnings: list[str] = []
    pegged: set[str] = set()
    quoted: list[datetime] = []  # the dates of the prices behind ``value``
    open_count = 0
    with localcontext(CTX):
        for a in positions:
            pnl += a.pnl or ZERO
            il += a.il or ZERO
            fees += a.fees or ZERO
            rewards += a.rewards_claimed_at_receipt + a.rewards_unclaimed
            costs += a.costs
            if not a.is_open:
                continue
            pegged.update(a.assumed_peg)
            open_count += 1
            deposited += a.remaining_cost
            if a.value_now is None:
                warnings.append(f"{a.name}: value unknown (missing price).")
                continue
            value += a.value_now
            if a.prices_as_of is not None:
                quoted.append(a.prices_as_of)
            by_chain[a.chain or "Other"] += a.value_now
            by_protocol[a.protocol or "Other"] += a.value_now
            by_kind[a.kind] += a.value_now
            token_total = sum((t.value_now or ZERO for t in a.tokens), ZERO)
            # Split the position's value over its tokens (fees included pro rata).
            for t in a.tokens:
                if t.value_now and token_total:
                    by_asset[t.asset] += a.value_now * t.value_now / token_total
        for h in holdings:
            if h.value_now is None:
                warnings.append(f"{h.asset}: no current price, not counted in the value.")
                continue
            if h.assumed_peg:
                pegged.add(h.asset)
            if h.priced_at is not None:
                quoted.append(h.priced_at)
            value += h.value_now
            by_chain["Wallet"] += h.value_now
            by_protocol["Wallet"] += h.value_now
            by_kind["wallet"] += h.value_now
            by_asset[h.asset] += h.value_now
        if pegged:
            warnings.append(_peg_warning(pegged))
        return PortfolioSummary(
            as_of=as_of,
            value=value,
            deposited=deposited,
            pnl=pnl,
            il=il,
            fees=fees,
            rewards=rewards,
            costs=costs,
            income_ytd=income_ytd,
            positions=tuple(positions),
            holdings=tuple(holdings),
            by_chain=_slices(by_chain, value),
            by_protocol=_slices(by_protocol, value),
            by_asset=_slices(by_asset, value),
            by_kind=_slices(by_kind, value),
            open_positions=open_count,
            warnings=tuple(warnings),
            portfolio_id=portfolio_id,
            name=name,
            assumed_peg=tuple(sorted(pegged)),
            prices_as_of=min(quoted, default=None),
        )


def combine_summaries(summaries: Sequence[PortfolioSummary], *, as_of: datetime) -> PortfolioSummary:
    """A user's summary over all their portfolios."""
    positions = tuple(a for s in summaries for a in s.positions)
    holdings = tuple(h for s in summaries for h in s.holdings)
    income = sum((s.income_ytd for s in summaries), ZERO)
    combined = summarise_portfolio(positions, holdings, as_of=as_of, income_ytd=income, name="All portfolios")
    own_peg = {_peg_warning(s.assumed_peg) for s in summaries if s.assumed_peg}
    warnings = [w for s in summaries for w in s.warnings if w not in own_peg]
    if combined.assumed_peg:  # one sentence for every portfolio's pegged assets
        warnings.append(_peg_warning(combined.assumed_peg))
    return replace(combined, warnings=tuple(warnings))
