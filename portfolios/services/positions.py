"""Writes of positions: open, add/remove liquidity, stake/unstake, claim rewards,
close, edit, delete, and the user's own current amounts.

Conventions (every service): keyword-only arguments; ``full_clean()`` then
``save()``; the position being changed is locked (``select_for_update``); bad
input raises Django's ``ValidationError`` keyed by field name, or a
``PortfolioError`` with a message meant for the user. Each write that changes
holdings enqueues ``portfolios.tasks.revalue_portfolio`` once the database
transaction commits (``delay_on_commit``).

A deposit is ``-tokens +LP#<id>`` (one LP unit per unit of fiat deposited), a
withdrawal ``+tokens -LP#<id>`` burning the share of the units it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from config.formatting import quantity as fmt_quantity
from pools.models import Pool, Token
from portfolios.analytics import ONE, ZERO, analyse_position
from portfolios.ledger import IncomeType, TxKind
from portfolios.models import Leg, Portfolio, Position, PositionAmountOverride, Transaction
from portfolios.selectors import position_data
from portfolios.services.changes import portfolio_ledger_changed
from portfolios.services.errors import InsufficientPosition, PositionClosed
from portfolios.services.legs import (
    Q18,
    LegInput,
    ResolvedLeg,
    check_when,
    legs_total,
    parse_decimal,
    q18,
    resolve_legs,
    save_transaction,
    tokens_track,
)

#: A withdrawal may exceed the modelled holdings by this much (price and timing
#: differences between our daily close and the moment of the withdrawal).
WITHDRAW_SLACK = Decimal("0.02")
#: A withdrawal taking at least this share of the position takes all of it.
FULL_WITHDRAWAL = Decimal("0.995")

LP_KINDS = frozenset({"lp", "concentrated_lp", "farm"})
STAKING_KINDS = frozenset({"staking", "liquid_staking", "lending"})
_INCOME_NAMES = ", ".join(IncomeType)


def _lock_position(position: Position) -> Position:
    """The position, locked for this database transaction (its portfolio and pool joined)."""
    return Position.objects.select_for_update(of=("self",)).select_related("pool", "portfolio").get(pk=position.pk)


def _lp_units(position: Position) -> Decimal:
    total = Leg.objects.filter(transaction__position=position, asset=position.lp_asset).aggregate(s=Sum("quantity"))
    return total["s"] or ZERO


def _receipt(position: Position, value: Decimal, quantity: Decimal, sources: Sequence[ResolvedLeg],
             currency: str) -> ResolvedLeg:
    source = "looked_up" if any(r.value_source in ("looked_up", "peg") for r in sources) else "entered"
    return ResolvedLeg(position.lp_asset, None, q18(quantity), value, source, False, currency)


def _deposit_kind(position_kind: str) -> str:
    return TxKind.STAKE if position_kind in STAKING_KINDS else TxKind.LP_DEPOSIT


def _withdraw_kind(position_kind: str) -> str:
    return TxKind.UNSTAKE if position_kind in STAKING_KINDS else TxKind.LP_WITHDRAW


def position_open(
    *,
    portfolio: Portfolio,
    kind: str,
    opened_at: datetime,
    deposits: Sequence[LegInput],
    pool: Pool | None = None,
    label: str = "",
    range_lower: Decimal | None = None,
    range_upper: Decimal | None = None,
    notes: str = "",
    source: str = "manual",
) -> Position:
    """Open a position and record its first deposit (``lp_deposit`` or, for staking,
    liquid staking and lending, ``stake``): ``-tokens +LP#<id>``, one LP unit per
    unit of fiat deposited."""
    check_when(opened_at, "opened_at")
    resolved = resolve_legs(deposits, when=opened_at, sign=-1, field="deposits",
                            currency=portfolio.owner.fiat_currency)
    value, currency = legs_total(resolved, when=opened_at, currency=portfolio.owner.fiat_currency)
    with transaction.atomic():
        position = Position(
            portfolio=portfolio,
            pool=pool,
            label=(label or "").strip(),
            kind=kind,
            opened_at=opened_at,
            range_lower=range_lower,
            range_upper=range_upper,
            notes=notes,
        )
        position.full_clean()
        position.save()
        units = value if value > 0 else ONE
        legs = [*resolved, _receipt(position, value, units, resolved, currency)]
        save_transaction(
            portfolio=portfolio,
            kind=_deposit_kind(kind),
            legs=legs,
            occurred_at=opened_at,
            position=position,
            source=source,
        )
        portfolio_ledger_changed(portfolio_id=portfolio.pk)
    return position


def _add(
    *, position: Position, deposits: Sequence[LegInput], occurred_at: datetime, kinds: frozenset[str], wrong: str
) -> Transaction:
    check_when(occurred_at, "occurred_at")
    if position.kind not in kinds:
        raise ValidationError({"position": wrong})
    owner_currency = position.portfolio.owner.fiat_currency
    resolved = resolve_legs(deposits, when=occurred_at, sign=-1, field="deposits", currency=owner_currency)
    value, currency = legs_total(resolved, when=occurred_at, currency=owner_currency)
    with transaction.atomic():
        locked = _lock_position(position)
        if locked.closed_at is not None:
            raise PositionClosed("This position is closed; open a new one to deposit again.")
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "A deposit cannot come before the position was opened."})
        txn = save_transaction(
            portfolio=locked.portfolio,
            kind=_deposit_kind(locked.kind),
            legs=[*resolved, _receipt(locked, value, value if value > 0 else ONE, resolved, currency)],
            occurred_at=occurred_at,
            position=locked,
        )
        portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return txn


def position_add_liquidity(*, position: Position, deposits: Sequence[LegInput], occurred_at: datetime) -> Transaction:
    """Add tokens to an LP / farm position (an ``lp_deposit``)."""
    return _add(
        position=position,
        deposits=deposits,
        occurred_at=occurred_at,
        kinds=LP_KINDS,
        wrong="Staking and lending positions take stakes: use stake instead.",
    )


def position_stake(*, position: Position, deposits: Sequence[LegInput], occurred_at: datetime) -> Transaction:
    """Add to a staking, liquid staking or lending position (a ``stake``)."""
    return _add(
        position=position,
        deposits=deposits,
        occurred_at=occurred_at,
        kinds=STAKING_KINDS,
        wrong="LP and farm positions take liquidity: use add liquidity instead.",
    )


def position_holdings(
    *, position: Position, when: datetime, prices: Mapping[str, Decimal] | None = None
) -> dict[str, Decimal] | None:
    """What the position holds at ``when`` per asset: the user's override if any, else
    the AMM model's amounts grown by the fees estimated since each deposit. None when
    a price the model needs is unknown."""
    data, yields = position_data(position=position, as_of=when, prices=prices)
    result = analyse_position(data, as_of=when, yields=yields)
    if result.value_model is None or result.value_now is None:
        return None
    growth = ONE
    if not result.overridden and result.value_model > 0:
        growth = result.value_now / result.value_model
    return {t.asset: t.now * growth for t in result.tokens}


def _remove(
    *,
    position: Position,
    withdrawals: Sequence[LegInput],
    occurred_at: datetime,
    close: bool | None,
    fraction: Decimal | None,
    kinds: frozenset[str],
    wrong: str,
) -> Transaction:
    check_when(occurred_at, "occurred_at")
    if position.kind not in kinds:
        raise ValidationError({"position": wrong})
    owner_currency = position.portfolio.owner.fiat_currency
    resolved = resolve_legs(withdrawals, when=occurred_at, sign=+1, field="withdrawals", currency=owner_currency)
    value, currency = legs_total([r for r in resolved if not r.is_fee], when=occurred_at, currency=owner_currency)
    if fraction is not None:
        fraction = parse_decimal(fraction, "fraction")
        if not ZERO < fraction <= ONE:
            raise ValidationError({"fraction": "The share withdrawn must be more than 0 and at most 1 (100 %)."})
    with transaction.atomic():
        locked = _lock_position(position)
        if locked.closed_at is not None:
            raise PositionClosed("This position is already closed.")
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "A withdrawal cannot come before the position was opened."})
        prices = {
            r.asset: r.fiat_value / abs(r.quantity) for r in resolved if r.fiat_value is not None and not r.is_fee
        }
        holds = position_holdings(position=locked, when=occurred_at, prices=prices)
        taken: dict[str, Decimal] = {}
        for r in resolved:
            if not r.is_fee:
                taken[r.asset] = taken.get(r.asset, ZERO) + r.quantity
        share = ZERO
        if holds is not None:
            for asset, qty in taken.items():
                held = holds.get(asset, ZERO)
                if qty > held * (ONE + WITHDRAW_SLACK) + Q18:
                    raise InsufficientPosition(
                        f"You are withdrawing {fmt_quantity(qty)} {asset} but the position holds "
                        f"{fmt_quantity(held)} {asset}."
                    )
                if held > 0:
                    share = max(share, qty / held)
        if fraction is None:
            fraction = ONE if close or holds is None or share >= FULL_WITHDRAWAL else min(share, ONE)
        units = _lp_units(locked)
        burned = units if fraction == ONE else units * fraction
        legs = list(resolved)
        if burned > 0:
            legs.append(_receipt(locked, value, -burned, resolved, currency))
        txn = save_transaction(
            portfolio=locked.portfolio,
            kind=_withdraw_kind(locked.kind),
            legs=legs,
            occurred_at=occurred_at,
            position=locked,
        )
        if fraction == ONE and close is not False:
            locked.closed_at = occurred_at
            locked.full_clean()
            locked.save(update_fields=["closed_at", "updated_at"])
            position.closed_at = occurred_at
        portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return txn


def position_remove_liquidity(
    *,
    position: Position,
    withdrawals: Sequence[LegInput],
    occurred_at: datetime,
    close: bool | None = None,
    fraction: Decimal | None = None,
) -> Transaction:
    """Withdraw tokens from an LP / farm position (an ``lp_withdraw``: ``+tokens -LP#id``).

    Refuses to take more of a token than the position holds (its model amounts
    plus estimated fees, ``WITHDRAW_SLACK`` tolerance). The share of the position
    withdrawn is ``fraction`` when given, else the largest share of any token
    taken; taking it all (``close=True``, or 99.5 % or more) closes the position
    unless ``close=False``.
    """
    return _remove(
        position=position,
        withdrawals=withdrawals,
        occurred_at=occurred_at,
        close=close,
        fraction=fraction,
        kinds=LP_KINDS,
        wrong="Staking and lending positions are unstaked: use unstake instead.",
    )


def position_unstake(
    *,
    position: Position,
    withdrawals: Sequence[LegInput],
    occurred_at: datetime,
    close: bool | None = None,
    fraction: Decimal | None = None,
) -> Transaction:
    """Take tokens out of a staking, liquid staking or lending position (an ``unstake``)."""
    return _remove(
        position=position,
        withdrawals=withdrawals,
        occurred_at=occurred_at,
        close=close,
        fraction=fraction,
        kinds=STAKING_KINDS,
        wrong="LP and farm positions are withdrawn: use remove liquidity instead.",
    )


def position_claim_rewards(
    *,
    position: Position,
    token: Token,
    quantity: Decimal,
    income_type: str,
    occurred_at: datetime,
    fiat_value: Decimal | None = None,
) -> Transaction:
    """Record rewards claimed from a position: a ``reward`` transaction ``+token``
    (income at its value when received)."""
    check_when(occurred_at, "occurred_at")
    if income_type not in IncomeType:
        raise ValidationError({"income_type": f"Choose an income type: {_INCOME_NAMES}."})
    if token is None:
        raise ValidationError({"token": "Choose the reward token."})
    resolved = resolve_legs(
        [LegInput(token=token, quantity=quantity, fiat_value=fiat_value)], when=occurred_at, sign=+1, field="quantity",
        currency=position.portfolio.owner.fiat_currency,
    )
    with transaction.atomic():
        locked = _lock_position(position)
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "Rewards cannot be claimed before the position was opened."})
        if locked.closed_at is not None and occurred_at > locked.closed_at:
            raise PositionClosed("This position closed before that date.", field="occurred_at")
        txn = save_transaction(
            portfolio=locked.portfolio,
            kind=TxKind.REWARD,
            legs=resolved,
            occurred_at=occurred_at,
            position=locked,
            income_type=income_type,
        )
        portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return txn


@transaction.atomic
def position_close(*, position: Position, closed_at: datetime) -> Position:
    """Mark a position closed (without a withdrawal, e.g. funds lost or moved elsewhere)."""
    check_when(closed_at, "closed_at")
    locked = _lock_position(position)
    if locked.closed_at is not None:
        raise PositionClosed("This position is already closed.")
    last = locked.transactions.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if last is not None and closed_at < last:
        raise ValidationError({"closed_at": "The position has transactions after that date."})
    locked.closed_at = closed_at
    locked.full_clean()
    locked.save(update_fields=["closed_at", "updated_at"])
    portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return locked


POSITION_EDITABLE = frozenset({"label", "notes", "range_lower", "range_upper", "pool", "closed_at"})


@transaction.atomic
def position_update(*, position: Position, **fields: Any) -> Position:
    """Edit a position's descriptive fields (label, notes, pool, range, closed_at).
    Amounts change only through deposits, withdrawals and their transactions."""
    unknown = set(fields) - POSITION_EDITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = _lock_position(position)
    for name, value in fields.items():
        if name == "closed_at" and value is not None:
            check_when(value, "closed_at")
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.full_clean()
    locked.save()
    portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return locked


@transaction.atomic
def position_delete(*, position: Position) -> None:
    """Delete a position with its transactions (they describe nothing else)."""
    locked = _lock_position(position)
    portfolio_id = locked.portfolio_id
    Transaction.objects.filter(position=locked).delete()
    # Receipt legs of this position in other transactions (hand-entered) would dangle.
    Leg.objects.filter(transaction__portfolio_id=portfolio_id, asset=locked.lp_asset).delete()
    locked.delete()
    portfolio_ledger_changed(portfolio_id=portfolio_id)


@transaction.atomic
def position_override_amounts(
    *, position: Position, amounts: Mapping[Token, Decimal | str | int], as_of: datetime | None = None
) -> list[PositionAmountOverride]:
    """Replace the position's current token amounts with the user's own reading
    (an empty mapping removes the override; the model's amounts apply again)."""
    as_of = check_when(as_of or timezone.now(), "as_of")
    locked = _lock_position(position)
    rows = []
    for token, qty in amounts.items():
        if not isinstance(token, Token):
            raise ValidationError({"amounts": f"Unknown token {token!r}."})
        value = parse_decimal(qty, "amounts")
        if value < 0:
            raise ValidationError({"amounts": f"The {token.symbol} amount cannot be negative."})
        if value != q18(value):
            raise ValidationError({"amounts": f"The {token.symbol} amount has more than 18 decimal places."})
        row = PositionAmountOverride(position=locked, token=token, quantity=value, as_of=as_of)
        row.full_clean(validate_constraints=False)
        rows.append(row)
    PositionAmountOverride.objects.filter(position=locked).exclude(token__in=[r.token for r in rows]).delete()
    for row in rows:
        PositionAmountOverride.objects.update_or_create(
            position=locked, token=row.token, defaults={"quantity": row.quantity, "as_of": as_of}
        )
    tokens_track(r.token.pk for r in rows)
    portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return list(PositionAmountOverride.objects.filter(position=locked).select_related("token"))
