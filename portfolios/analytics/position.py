"""Every figure of one position (:func:`analyse_position`), the pool-snapshot
windows and transaction prices it needs from the selectors, and its daily
value-vs-HODL series (see the package docstring for the definitions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, localcontext

from config.formatting import money, quantity
from pools import amm
from pools.yields import annualise_return, period_days
from portfolios.analytics.inputs import (
    CTX,
    HUNDRED,
    ONE,
    PEG_MAX_AGE,
    STABLECOIN_PEG,
    YEAR,
    ZERO,
    PositionData,
    YieldStats,
)
from portfolios.analytics.results import PositionAnalytics, SeriesPoint, TokenFigure, UnusedDeposit
from portfolios.analytics.tranches import choose_model, price_at, replay, token_order, value_tranche
from portfolios.ledger import DEPOSIT_KINDS, WITHDRAW_KINDS, TxKind

_UNUSED_REPORTED = Decimal("0.005")  # USD at deposit: what rounds to a cent is worth telling


def _end(p: PositionData, as_of: datetime) -> datetime:
    return p.closed_at if p.closed_at is not None and p.closed_at < as_of else as_of


def yield_windows(p: PositionData, as_of: datetime) -> set[tuple[date, date]]:
    """The ``[start, end)`` day windows of pool snapshots :func:`analyse_position` needs
    (the selector aggregates them in one query and passes ``YieldStats`` back)."""
    if p.pool is None:
        return set()
    end = _end(p, as_of).date()
    windows = {(p.opened_at.date(), end)}
    for tx in p.transactions:
        # deposits start a tranche's fee estimate; claims (of rewards or of LP fees) and
        # withdrawals (a range position's collects its fees) may restart an estimate
        if tx.occurred_at <= as_of and (tx.kind in DEPOSIT_KINDS or tx.kind in WITHDRAW_KINDS
                                        or tx.kind == TxKind.REWARD):
            windows.add((tx.occurred_at.date(), end))
    return {(s, e) for s, e in windows if s <= e}


def prices_needed(p: PositionData) -> set[tuple[int, str, datetime]]:
    """``(tx id, asset, moment)`` for model tokens a deposit/withdrawal does not price itself."""
    order = token_order(p)
    needed = set()
    for tx in p.transactions:
        if tx.kind in DEPOSIT_KINDS | WITHDRAW_KINDS:
            for asset in order:
                if price_at(tx, asset, {}) is None:
                    needed.add((tx.id, asset, tx.occurred_at))
    return needed


_GROWTH_CTX = Context(prec=28)  # an estimate: 28 significant digits are plenty and ln/exp are 3x faster


def _growth(apy_percent: Decimal | None, days: Decimal) -> Decimal:
    """(1 + APY) ** (days / 365) for an APY in percent (None or <= -100 % -> 1)."""
    if apy_percent is None or days <= 0 or apy_percent == 0:
        return ONE
    with localcontext(_GROWTH_CTX):
        base = ONE + apy_percent / HUNDRED
        if base <= 0:
            return ONE
        return (base.ln() * days / YEAR).exp()


def _stats(yields: Mapping[tuple[date, date], YieldStats], start: date, end: date) -> YieldStats:
    return yields.get((start, end)) or YieldStats()


# --------------------------------------------------------------------------- analyse


def analyse_position(
    p: PositionData,
    *,
    as_of: datetime,
    yields: Mapping[tuple[date, date], YieldStats] | None = None,
    detail: bool = True,
) -> PositionAnalytics:
    """Every figure of one position at ``as_of`` (see the module docstring).

    ``detail=False`` (nightly revaluation and snapshots of every portfolio) skips
    what only a page shows and costs 60-digit logarithms: the annualised return,
    the realised APY and the distances to the range bounds (left None)."""
    yields = yields or {}
    order = token_order(p)
    model, params = choose_model(p.kind, p.pool, len(order))
    state = replay(p, order, model, params, until=as_of)
    warnings = list(state.warnings)
    is_open = p.closed_at is None or p.closed_at > as_of
    end = _end(p, as_of)
    with localcontext(CTX):
        days_held = max(ZERO, period_days(p.opened_at, end))
        pool = p.pool
        # ---- value now (remaining share) ------------------------------------------------
        amounts_dep: dict[str, Decimal] = defaultdict(Decimal)
        amounts_now: dict[str, Decimal] = defaultdict(Decimal)
        model_value: Decimal | None = ZERO
        hodl_now: Decimal | None = ZERO
        fees_est = ZERO
        remaining_cost = ZERO
        used_model = model
        base_is_reward = p.kind == "staking"
        for tranche in state.tranches:
            if tranche.factor == 0:
                continue
            remaining_cost += tranche.cost * tranche.factor
            for a, qty in tranche.amounts.items():
                amounts_dep[a] += qty * tranche.factor
            if not is_open:
                continue
            val, used_model = value_tranche(model, params, order, tranche, p.prices_now, p.range_lower, p.range_upper)
            if val is None:
                model_value = hodl_now = None
                continue
            for a, qty in zip(order, val.amounts_now, strict=False):
                amounts_now[a] += qty * tranche.factor
            if model_value is not None and hodl_now is not None:
                model_value += val.value_lp * tranche.factor
                hodl_now += val.value_hodl * tranche.factor
                if pool is not None and not base_is_reward:
                    # fees recorded as collected replace the estimate up to their collection
                    since = tranche.at
                    if state.fees_collected_at is not None and state.fees_collected_at > since:
                        since = state.fees_collected_at
                    stats = _stats(yields, since.date(), end.date())
                    apy_base = stats.apy_base if stats.days else pool.apy_base
                    tranche_days = max(ZERO, period_days(since, end))
                    fees_est += val.value_lp * tranche.factor * (_growth(apy_base, tranche_days) - ONE)
        if not is_open:
            model_value = hodl_now = ZERO
        if model_value is None:
            warnings.append("No current price for every token of this position: its value now is unknown.")

        overridden = bool(p.overrides) and is_open
        value_now: Decimal | None
        if overridden:
            value_now = override_value = ZERO
            for a, qty in p.overrides.items():
                price = p.prices_now.get(a)
                if price is None:
                    value_now = None
                    warnings.append(f"No current price for {a}: the overridden value is unknown.")
                    break
                override_value += qty * price
            else:
                value_now = override_value
            if value_now is not None and model_value is not None:
                fees_est = value_now - model_value  # what the wallet holds beyond the model
            amounts_now = defaultdict(Decimal, p.overrides)
        else:
            value_now = None if model_value is None else model_value + fees_est
        fees_estimated = is_open and (overridden or fees_est != 0 or (pool is not None and not base_is_reward))

        # ---- rewards ------------------------------------------------------------------------
        rewards_now: Decimal | None = None
        rewards_sum = ZERO
        for a, qty in state.rewards_qty.items():
            price = p.prices_now.get(a)
            if price is None:
                break
            rewards_sum += qty * price
        else:
            rewards_now = rewards_sum
        unclaimed = ZERO
        if is_open and pool is not None and model_value:
            since = state.last_claim if state.last_claim and state.last_claim > p.opened_at else p.opened_at
            stats = _stats(yields, since.date(), end.date())
            apy_reward = stats.apy_reward if stats.days else pool.apy_reward
            if base_is_reward:
                apy_base = stats.apy_base if stats.days else pool.apy_base
                apy_reward = (apy_reward or ZERO) + (apy_base or ZERO)
            unclaimed = model_value * (apy_reward or ZERO) / HUNDRED * max(ZERO, period_days(since, end)) / YEAR

        # ---- totals ---------------------------------------------------------------------------
        fees: Decimal | None = state.fees_realised + state.fees_claimed + (fees_est if is_open else ZERO)
        il: Decimal | None = None
        il_pct: Decimal | None = None
        value_hodl: Decimal | None = None
        pnl: Decimal | None = None
        pnl_vs_hodl: Decimal | None = None
        rewards_total = state.rewards_at_receipt + unclaimed
        if model_value is not None and hodl_now is not None:
            il = state.il_realised + (model_value - hodl_now)
            value_hodl = state.hodl_realised + hodl_now
            il_pct = il / value_hodl if value_hodl else ZERO
        if value_now is not None or not is_open:
            pnl = (value_now or ZERO) + state.withdrawn + state.fees_claimed + rewards_total - state.deposited \
                - state.costs
        if pnl is not None and value_hodl is not None:
            pnl_vs_hodl = (value_now or ZERO) + state.withdrawn + state.fees_claimed + rewards_total - state.costs \
                - value_hodl
        if value_now is None and is_open:
            recorded = state.fees_realised + state.fees_claimed
            fees = recorded or None

        annualised = realised_apy = None
        if detail and pnl is not None and state.deposited > 0 and days_held >= 1:
            total_return = pnl / state.deposited
            annualised = -ONE if total_return <= -1 else annualise_return(total_return, days_held)
        if detail and value_hodl and days_held >= 1 and fees is not None:
            yield_return = (fees + rewards_total) / value_hodl
            if yield_return > -1:
                realised_apy = annualise_return(yield_return, days_held)
        advertised = None
        if pool is not None:
            stats = _stats(yields, p.opened_at.date(), end.date())
            apy = stats.apy if stats.days else pool.apy
            advertised = None if apy is None else apy / HUNDRED

        # ---- range --------------------------------------------------------------------------
        in_range = status = current = to_lower = to_upper = None
        if p.kind == "concentrated_lp" and p.range_lower and p.range_upper and len(order) == 2:
            p0, p1 = p.prices_now.get(order[0]), p.prices_now.get(order[1])
            if p0 and p1:
                current = p0 / p1
                status = amm.range_status(current, p.range_lower, p.range_upper)
                in_range = status == "in_range"
                if detail:
                    distances = amm.range_bound_distances(current, p.range_lower, p.range_upper)
                    to_lower, to_upper = distances.to_lower, distances.to_upper
                if not in_range and is_open:
                    side = order[0] if status == "below" else order[1]
                    warnings.append(
                        f"Out of range: the position holds only {side} and earns no fees until the "
                        "price returns to the range."
                    )

        # ---- what a range did not take; stablecoins at their peg ----------------------------
        # A remainder worth less than half a cent is left out of the figures like any
        # other, but not reported (unless its value is unknown).
        unused = tuple(
            UnusedDeposit(a, state.unused_qty[a], state.unused_value[a])
            for a in sorted(state.unused_qty)
            if state.unused_value[a] >= _UNUSED_REPORTED or not state.unused_value[a]
        )
        for u in unused:
            worth = f" (worth {money(u.value_at_deposit)} then)" if u.value_at_deposit else ""
            warnings.append(
                f"{quantity(u.quantity)} {u.asset} of your deposit did not fit your range at the "
                f"deposit price and was not counted as in the pool{worth}: the deposited value, "
                "the HODL value, impermanent loss and profit leave it out."
            )
        priced_now = set(state.rewards_qty)
        if is_open:
            priced_now.update(order, p.overrides)
        assumed_peg = tuple(sorted(a for a in p.pegged if a in priced_now))
        for a in assumed_peg:
            warnings.append(
                f"No {a} price from the last {PEG_MAX_AGE.days} days: {a} is valued at "
                f"{money(STABLECOIN_PEG)}, its assumed peg."
            )
        moments = {tx.id: tx.occurred_at for tx in p.transactions if tx.occurred_at <= as_of}
        for tx_id, a in sorted(k for k in p.pegged_at if k[0] in moments):
            warnings.append(
                f"No {a} price within {PEG_MAX_AGE.days} days of {moments[tx_id]:%Y-%m-%d}: {a} is "
                f"valued at {money(STABLECOIN_PEG)} (its assumed peg) for that transaction."
            )
        deposited_amounts: dict[str, Decimal] = defaultdict(Decimal)
        for tranche in state.tranches:
            for a, qty in tranche.amounts.items():
                deposited_amounts[a] += qty

        tokens = []
        for a in dict.fromkeys(list(order) + list(amounts_now)):
            price = p.prices_now.get(a)
            qty_now = amounts_now.get(a, ZERO)
            tokens.append(
                TokenFigure(
                    asset=a,
                    deposited=amounts_dep.get(a, ZERO),
                    now=qty_now,
                    price_now=price,
                    value_now=None if price is None else qty_now * price,
                    priced_at=p.price_times.get(a) if price is not None else None,
                )
            )
        return PositionAnalytics(
            position_id=p.id,
            name=p.name,
            kind=p.kind,
            model=used_model if state.tranches else model,
            is_open=is_open,
            opened_at=p.opened_at,
            closed_at=p.closed_at,
            as_of=as_of,
            days_held=days_held,
            tokens=tuple(tokens),
            deposited=state.deposited,
            withdrawn=state.withdrawn,
            remaining_cost=remaining_cost if is_open else ZERO,
            value_now=(value_now if is_open else ZERO),
            value_model=model_value,
            value_hodl=value_hodl,
            il=il,
            il_pct=il_pct,
            fees=fees,
            fees_realised=state.fees_realised,
            fees_claimed=state.fees_claimed,
            prices_as_of=min((t.priced_at for t in tokens if t.priced_at and t.now), default=None)
            if is_open else None,
            fees_estimated=bool(fees_estimated),
            rewards_claimed_at_receipt=state.rewards_at_receipt,
            rewards_claimed_now=rewards_now,
            rewards_unclaimed=unclaimed,
            rewards_by_asset=dict(state.rewards_qty),
            costs=state.costs,
            pnl=pnl,
            pnl_vs_hodl=pnl_vs_hodl,
            annualised_return=annualised,
            realised_apy=realised_apy,
            advertised_apy=advertised,
            overridden=overridden,
            in_range=in_range,
            range_status=status,
            current_price=current,
            distance_to_lower=to_lower,
            distance_to_upper=to_upper,
            warnings=tuple(warnings),
            chain=pool.chain if pool else "",
            protocol=pool.protocol if pool else "",
            deposited_amounts=dict(deposited_amounts),
            unused=unused,
            assumed_peg=assumed_peg,
        )


# --------------------------------------------------------------------------- series


def position_value_series(
    p: PositionData, daily_prices: Mapping[date, Mapping[str, Decimal]], *, until: date | None = None
) -> list[SeriesPoint]:
    """Daily value of the position under its model vs. holding the deposited tokens.

    ``daily_prices`` maps each day to ``{asset: price}`` (the day's close). Days
    without a price for every token are skipped. Fees and rewards are not
    included: this is the impermanent-loss picture the position page charts.
    """
    order = token_order(p)
    model, params = choose_model(p.kind, p.pool, len(order))
    last = until or (p.closed_at.date() if p.closed_at else max(daily_prices, default=p.opened_at.date()))
    points: list[SeriesPoint] = []
    day = p.opened_at.date()
    with localcontext(CTX):
        while day <= last:
            prices = daily_prices.get(day)
            if prices:
                moment = datetime.combine(day, datetime.max.time(), tzinfo=p.opened_at.tzinfo)
                state = replay(p, order, model, params, until=moment)
                value = hodl = ZERO
                ok = bool(state.tranches)
                for tranche in state.tranches:
                    if tranche.factor == 0:
                        continue
                    val, _ = value_tranche(model, params, order, tranche, prices, p.range_lower, p.range_upper)
                    if val is None:
                        ok = False
                        break
                    value += val.value_lp * tranche.factor
                    hodl += val.value_hodl * tranche.factor
                if ok:
                    points.append(SeriesPoint(day, value, hodl))
            day += timedelta(days=1)
    return points
