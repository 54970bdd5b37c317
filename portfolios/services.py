"""Every write of the portfolios app.

Conventions: keyword-only arguments; ``full_clean()`` then ``save()``; the row
being changed is locked (``select_for_update``); bad input raises Django's
``ValidationError`` keyed by field name, or a :class:`PortfolioError` with a
message meant for the user (the API and the web forms show it as it is).

Each service that changes holdings marks the tokens involved as tracked
(``pools.services.token_set_tracked``: their prices get refreshed) and
enqueues ``portfolios.tasks.revalue_portfolio`` once the database transaction
commits.

Amounts: a ``LegInput`` names a token (a ``pools.Token``) or, for fiat and
tokens quoted by symbol, an ``asset``. Deposits, withdrawals and claims take
positive quantities (the service writes the signs); ``transaction_record``
takes signed ones. A missing ``fiat_value`` is looked up in the price history
(the nearest earlier daily price, at most ``PRICE_MAX_AGE`` old, else the
token's latest price when the date is today) and marked ``looked_up``; with no
price at all :class:`MissingPrice` asks the user to enter the value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from pools.models import Token
from portfolios.analytics import FIAT_ASSETS, ONE, ZERO, analyse_position
from portfolios.models import (
    INCOME_TYPES,
    TRANSACTION_KINDS,
    Leg,
    Portfolio,
    PortfolioSnapshot,
    Position,
    PositionAmountOverride,
    Transaction,
)
from portfolios.selectors import (
    day_close,
    portfolio_summaries,
    portfolio_summaries_at_closes,
    position_data,
    token_for_symbol,
)
from portfolios.selectors import token_price_at as stored_price_at
from portfolios.tasks import revalue_portfolio as revalue_portfolio_task

logger = logging.getLogger(__name__)

Q18 = Decimal("1e-18")
#: How old the nearest earlier daily price may be to value a leg.
PRICE_MAX_AGE = timedelta(days=7)
#: Times up to this far ahead of the server clock are accepted (clock skew).
FUTURE_TOLERANCE = timedelta(minutes=5)
#: A withdrawal may exceed the modelled holdings by this much (price and timing
#: differences between our daily close and the moment of the withdrawal).
WITHDRAW_SLACK = Decimal("0.02")
#: A withdrawal taking at least this share of the position takes all of it.
FULL_WITHDRAWAL = Decimal("0.995")

LP_KINDS = frozenset({"lp", "concentrated_lp", "farm"})
STAKING_KINDS = frozenset({"staking", "liquid_staking", "lending"})


# --------------------------------------------------------------------------- errors and inputs


class PortfolioError(Exception):
    """A domain error whose message is meant for the user. ``field`` names the input at fault."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field


class MissingPrice(PortfolioError):
    """No price is known for ``token`` at ``when``: the user can enter the value instead."""

    field = "fiat_value"

    def __init__(self, token: Token | str, when: datetime):
        self.token = token
        self.when = when
        symbol = token.symbol if isinstance(token, Token) else str(token)
        super().__init__(
            f"No {symbol} price is known for {when:%Y-%m-%d}. Enter the value of this {symbol} amount "
            "(in USD at that moment) and try again."
        )


class InsufficientPosition(PortfolioError):
    """A withdrawal larger than what the position holds."""

    field = "withdrawals"


class PositionClosed(PortfolioError):
    field = "position"


@dataclass(frozen=True)
class LegInput:
    """One movement of one asset as a service argument.

    ``token``: a ``pools.Token`` (priced and valued); or ``asset``: a symbol for
    fiat (``USD``) or a token found by symbol. ``quantity``: positive for
    deposits, withdrawals and claims; signed (+ received, - sent) for
    ``transaction_record``. ``fiat_value``: absolute value in the owner's fiat
    at that moment, ``None`` to look it up.
    """

    token: Token | None = None
    quantity: Decimal | int | str = ZERO
    fiat_value: Decimal | int | str | None = None
    asset: str = ""
    is_fee: bool = False


# --------------------------------------------------------------------------- helpers


def _fmt(value: Decimal) -> str:
    """A quantity for messages: up to 8 decimals, no exponent, no trailing zeros."""
    text = format(value.quantize(Decimal("1e-8")) if abs(value) < Decimal("1e20") else value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationError({field: "Give amounts as decimal numbers (text or Decimal), not floats."})
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({field: f"{value!r} is not a finite number."})
    return result


def _check_when(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError({field: "Give a date and time."})
    if timezone.is_naive(value):
        raise ValidationError({field: "Give the time with its time zone (or in UTC)."})
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({field: f"{value:%Y-%m-%d %H:%M} is in the future; record what already happened."})
    return value


def _enqueue_revalue(portfolio_id: int) -> None:
    transaction.on_commit(lambda: revalue_portfolio_task.delay(portfolio_id=portfolio_id))


def _track(token_ids: Iterable[int | None]) -> None:
    ids = {t for t in token_ids if t}
    if ids:
        from pools.services.tokens import token_set_tracked

        token_set_tracked(token_ids=ids)


def _asset_for(token: Token) -> str:
    return (token.symbol or token.address[:10]).strip().upper()


def token_price_at(*, token: Token, when: datetime) -> Decimal | None:
    """USD price of ``token`` at ``when``: the nearest earlier daily price (at most
    ``PRICE_MAX_AGE`` old), else the latest quote when ``when`` is today; fetched
    on demand from the pools source (history for transaction dates) when we have
    none stored."""
    price = stored_price_at(token=token, when=when, max_age=PRICE_MAX_AGE)
    if price is not None:
        return price
    try:
        from pools.services.prices import token_price_fetch

        fetched = token_price_fetch(token=token, when=when)
    except Exception:  # noqa: BLE001 - a price source failure is "no price", the user can enter one
        logger.warning("price fetch failed for token %s at %s", token.pk, when, exc_info=True)
        fetched = None
    return fetched.price_usd if fetched is not None else None


@dataclass
class _Resolved:
    asset: str
    token: Token | None
    quantity: Decimal
    fiat_value: Decimal | None
    value_source: str
    is_fee: bool

    def leg(self, txn: Transaction) -> Leg:
        return Leg(transaction=txn, asset=self.asset, token=self.token, quantity=self.quantity,
                   fiat_value=self.fiat_value, value_source=self.value_source, is_fee=self.is_fee)


def _resolve(legs: Sequence[LegInput], *, when: datetime, sign: int = 0, field: str = "legs",
             portfolio: Portfolio | None = None, allow_missing: bool = False) -> list[_Resolved]:
    """Validate legs and fill their fiat values. ``sign`` = -1/+1 applies a sign to
    positive input quantities (deposits/withdrawals); 0 keeps signed input."""
    if not legs:
        raise ValidationError({field: "Add at least one amount."})
    out: list[_Resolved] = []
    for leg in legs:
        qty = _decimal(leg.quantity, field)
        token = leg.token
        asset = (leg.asset or "").strip().upper()
        if token is None and not asset:
            raise ValidationError({field: "Each amount needs a token."})
        if token is not None and not isinstance(token, Token):
            raise ValidationError({field: f"Unknown token {token!r}."})
        if token is None and asset not in FIAT_ASSETS and not asset.startswith("LP#"):
            # Quoted by symbol: the symbol stays the tax-lot key, the token prices it.
            token = token_for_symbol(symbol=asset)  # ETH also finds WETH
            if token is None:
                raise ValidationError({field: f"Unknown token {asset!r}: choose a token we list, or add it first."})
        if asset.startswith("LP#") and portfolio is not None:
            try:
                pos_id = int(asset[3:])
            except ValueError:
                raise ValidationError({field: f"{asset!r} is not a position asset (LP#<position id>)."}) from None
            if not Position.objects.filter(pk=pos_id, portfolio=portfolio).exists():
                raise ValidationError({field: f"{asset} is not a position of this portfolio."})
        if token is not None and not asset:
            asset = _asset_for(token)
        if sign:
            if qty <= 0:
                raise ValidationError({field: f"The {asset} amount must be greater than zero (got {_fmt(qty)})."})
            qty = qty * sign
        elif qty == 0:
            raise ValidationError({field: f"The {asset} amount cannot be zero."})
        if qty != qty.quantize(Q18):
            raise ValidationError({field: f"The {asset} amount has more than 18 decimal places."})
        if leg.is_fee and qty > 0:
            raise ValidationError({field: f"A fee is an amount paid: the {asset} fee must be negative."})
        if leg.fiat_value is not None and leg.fiat_value != "":
            fiat = _decimal(leg.fiat_value, "fiat_value")
            if fiat < 0:
                raise ValidationError({"fiat_value": f"The value of the {asset} amount cannot be negative."})
            resolved = _Resolved(asset, token, qty, fiat.quantize(Q18, ROUND_HALF_EVEN), "entered", leg.is_fee)
        elif token is None and asset in FIAT_ASSETS:
            resolved = _Resolved(asset, None, qty, abs(qty), "entered", leg.is_fee)
        elif token is None:
            resolved = _Resolved(asset, None, qty, None, "missing", leg.is_fee)
        else:
            price = token_price_at(token=token, when=when)
            if price is None:
                if not allow_missing:
                    raise MissingPrice(token, when)
                resolved = _Resolved(asset, token, qty, None, "missing", leg.is_fee)
            else:
                resolved = _Resolved(asset, token, qty, (abs(qty) * price).quantize(Q18, ROUND_HALF_EVEN),
                                     "looked_up", leg.is_fee)
        out.append(resolved)
    return out


def _save_transaction(*, portfolio: Portfolio, kind: str, legs: Sequence[_Resolved], occurred_at: datetime,
                      position: Position | None = None, income_type: str = "", description: str = "",
                      source: str = Transaction.Source.MANUAL, dedupe_key: str = "") -> Transaction:
    txn = Transaction(portfolio=portfolio, position=position, kind=kind, income_type=income_type or "",
                      occurred_at=occurred_at, description=description, source=source, dedupe_key=dedupe_key)
    txn.full_clean()
    txn.save()
    rows = [r.leg(txn) for r in legs]
    for row in rows:
        row.full_clean(exclude=["transaction"], validate_constraints=False)  # constraints: checked above + DB
    Leg.objects.bulk_create(rows)
    _track(r.token.pk for r in legs if r.token is not None)
    return txn


def _lock_position(position: Position) -> Position:
    return Position.objects.select_for_update(of=("self",)).select_related("pool", "portfolio").get(pk=position.pk)


def _lp_units(position: Position) -> Decimal:
    total = Leg.objects.filter(transaction__position=position, asset=position.lp_asset).aggregate(s=Sum("quantity"))
    return total["s"] or ZERO


def _receipt(position: Position, value: Decimal, quantity: Decimal, sources: Sequence[_Resolved]) -> _Resolved:
    source = "looked_up" if any(r.value_source == "looked_up" for r in sources) else "entered"
    return _Resolved(position.lp_asset, None, quantity.quantize(Q18, ROUND_HALF_EVEN), value, source, False)


# --------------------------------------------------------------------------- portfolios


def portfolio_create(*, owner, name: str) -> Portfolio:
    portfolio = Portfolio(owner=owner, name=(name or "").strip())
    portfolio.full_clean()
    portfolio.save()
    return portfolio


@transaction.atomic
def portfolio_update(*, portfolio: Portfolio, name: str) -> Portfolio:
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    locked.name = (name or "").strip()
    locked.full_clean()
    locked.save(update_fields=["name", "updated_at"])
    portfolio.name = locked.name
    return locked


@transaction.atomic
def portfolio_delete(*, portfolio: Portfolio) -> None:
    """Delete a portfolio with its positions, transactions and history."""
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    locked.delete()


# --------------------------------------------------------------------------- positions


def _deposit_kind(position_kind: str) -> str:
    return Transaction.Kind.STAKE if position_kind in STAKING_KINDS else Transaction.Kind.LP_DEPOSIT


def _withdraw_kind(position_kind: str) -> str:
    return Transaction.Kind.UNSTAKE if position_kind in STAKING_KINDS else Transaction.Kind.LP_WITHDRAW


def position_open(*, portfolio: Portfolio, kind: str, opened_at: datetime, deposits: Sequence[LegInput],
                  pool=None, label: str = "", range_lower: Decimal | None = None,
                  range_upper: Decimal | None = None, notes: str = "", source: str = "manual") -> Position:
    """Open a position and record its first deposit (``lp_deposit`` or, for staking,
    liquid staking and lending, ``stake``): ``-tokens +LP#<id>``, one LP unit per
    unit of fiat deposited."""
    _check_when(opened_at, "opened_at")
    resolved = _resolve(deposits, when=opened_at, sign=-1, field="deposits")
    with transaction.atomic():
        position = Position(portfolio=portfolio, pool=pool, label=(label or "").strip(), kind=kind,
                            opened_at=opened_at, range_lower=range_lower, range_upper=range_upper, notes=notes)
        position.full_clean()
        position.save()
        value = sum((r.fiat_value or ZERO for r in resolved), ZERO)
        units = value if value > 0 else ONE
        legs = [*resolved, _receipt(position, value, units, resolved)]
        _save_transaction(portfolio=portfolio, kind=_deposit_kind(kind), legs=legs, occurred_at=opened_at,
                          position=position, source=source)
        _enqueue_revalue(portfolio.pk)
    return position


def _add(*, position: Position, deposits: Sequence[LegInput], occurred_at: datetime, kinds: frozenset[str],
         wrong: str) -> Transaction:
    _check_when(occurred_at, "occurred_at")
    if position.kind not in kinds:
        raise ValidationError({"position": wrong})
    resolved = _resolve(deposits, when=occurred_at, sign=-1, field="deposits")
    with transaction.atomic():
        locked = _lock_position(position)
        if locked.closed_at is not None:
            raise PositionClosed("This position is closed; open a new one to deposit again.")
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "A deposit cannot come before the position was opened."})
        value = sum((r.fiat_value or ZERO for r in resolved), ZERO)
        txn = _save_transaction(portfolio=locked.portfolio, kind=_deposit_kind(locked.kind),
                                legs=[*resolved, _receipt(locked, value, value if value > 0 else ONE, resolved)],
                                occurred_at=occurred_at, position=locked)
        _enqueue_revalue(locked.portfolio_id)
    return txn


def position_add_liquidity(*, position: Position, deposits: Sequence[LegInput], occurred_at: datetime) -> Transaction:
    """Add tokens to an LP / farm position (an ``lp_deposit``)."""
    return _add(position=position, deposits=deposits, occurred_at=occurred_at, kinds=LP_KINDS,
                wrong="Staking and lending positions take stakes: use stake instead.")


def position_stake(*, position: Position, deposits: Sequence[LegInput], occurred_at: datetime) -> Transaction:
    """Add to a staking, liquid staking or lending position (a ``stake``)."""
    return _add(position=position, deposits=deposits, occurred_at=occurred_at, kinds=STAKING_KINDS,
                wrong="LP and farm positions take liquidity: use add liquidity instead.")


def position_holdings(*, position: Position, when: datetime,
                      prices: Mapping[str, Decimal] | None = None) -> dict[str, Decimal] | None:
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


def _remove(*, position: Position, withdrawals: Sequence[LegInput], occurred_at: datetime, close: bool | None,
            fraction: Decimal | None, kinds: frozenset[str], wrong: str) -> Transaction:
    _check_when(occurred_at, "occurred_at")
    if position.kind not in kinds:
        raise ValidationError({"position": wrong})
    resolved = _resolve(withdrawals, when=occurred_at, sign=+1, field="withdrawals")
    if fraction is not None:
        fraction = _decimal(fraction, "fraction")
        if not ZERO < fraction <= ONE:
            raise ValidationError({"fraction": "The share withdrawn must be more than 0 and at most 1 (100 %)."})
    with transaction.atomic():
        locked = _lock_position(position)
        if locked.closed_at is not None:
            raise PositionClosed("This position is already closed.")
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "A withdrawal cannot come before the position was opened."})
        prices = {r.asset: r.fiat_value / abs(r.quantity) for r in resolved
                  if r.fiat_value is not None and not r.is_fee}
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
                        f"You are withdrawing {_fmt(qty)} {asset} but the position holds {_fmt(held)} {asset}."
                    )
                if held > 0:
                    share = max(share, qty / held)
        if fraction is None:
            fraction = ONE if close or holds is None or share >= FULL_WITHDRAWAL else min(share, ONE)
        units = _lp_units(locked)
        burned = units if fraction == ONE else units * fraction
        value = sum((r.fiat_value or ZERO for r in resolved if not r.is_fee), ZERO)
        legs = list(resolved)
        if burned > 0:
            legs.append(_receipt(locked, value, -burned, resolved))
        txn = _save_transaction(portfolio=locked.portfolio, kind=_withdraw_kind(locked.kind), legs=legs,
                                occurred_at=occurred_at, position=locked)
        if fraction == ONE and close is not False:
            locked.closed_at = occurred_at
            locked.full_clean()
            locked.save(update_fields=["closed_at", "updated_at"])
            position.closed_at = occurred_at
        _enqueue_revalue(locked.portfolio_id)
    return txn


def position_remove_liquidity(*, position: Position, withdrawals: Sequence[LegInput], occurred_at: datetime,
                              close: bool | None = None, fraction: Decimal | None = None) -> Transaction:
    """Withdraw tokens from an LP / farm position (an ``lp_withdraw``: ``+tokens -LP#id``).

    Refuses to take more of a token than the position holds (its model amounts
    plus estimated fees, ``WITHDRAW_SLACK`` tolerance). The share of the position
    withdrawn is ``fraction`` when given, else the largest share of any token
    taken; taking it all (``close=True``, or 99.5 % or more) closes the position
    unless ``close=False``.
    """
    return _remove(position=position, withdrawals=withdrawals, occurred_at=occurred_at, close=close,
                   fraction=fraction, kinds=LP_KINDS,
                   wrong="Staking and lending positions are unstaked: use unstake instead.")


def position_unstake(*, position: Position, withdrawals: Sequence[LegInput], occurred_at: datetime,
                     close: bool | None = None, fraction: Decimal | None = None) -> Transaction:
    """Take tokens out of a staking, liquid staking or lending position (an ``unstake``)."""
    return _remove(position=position, withdrawals=withdrawals, occurred_at=occurred_at, close=close,
                   fraction=fraction, kinds=STAKING_KINDS,
                   wrong="LP and farm positions are withdrawn: use remove liquidity instead.")


def position_claim_rewards(*, position: Position, token: Token, quantity: Decimal, income_type: str,
                           occurred_at: datetime, fiat_value: Decimal | None = None) -> Transaction:
    """Record rewards claimed from a position: a ``reward`` transaction ``+token``
    (income at its value when received)."""
    _check_when(occurred_at, "occurred_at")
    if income_type not in INCOME_TYPES:
        raise ValidationError({"income_type": f"Choose an income type: {', '.join(INCOME_TYPES)}."})
    if token is None:
        raise ValidationError({"token": "Choose the reward token."})
    resolved = _resolve([LegInput(token=token, quantity=quantity, fiat_value=fiat_value)], when=occurred_at,
                        sign=+1, field="quantity")
    with transaction.atomic():
        locked = _lock_position(position)
        if occurred_at < locked.opened_at:
            raise ValidationError({"occurred_at": "Rewards cannot be claimed before the position was opened."})
        if locked.closed_at is not None and occurred_at > locked.closed_at:
            raise PositionClosed("This position closed before that date.", field="occurred_at")
        txn = _save_transaction(portfolio=locked.portfolio, kind=Transaction.Kind.REWARD, legs=resolved,
                                occurred_at=occurred_at, position=locked, income_type=income_type)
        _enqueue_revalue(locked.portfolio_id)
    return txn


@transaction.atomic
def position_close(*, position: Position, closed_at: datetime) -> Position:
    """Mark a position closed (without a withdrawal, e.g. funds lost or moved elsewhere)."""
    _check_when(closed_at, "closed_at")
    locked = _lock_position(position)
    if locked.closed_at is not None:
        raise PositionClosed("This position is already closed.")
    last = locked.transactions.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if last is not None and closed_at < last:
        raise ValidationError({"closed_at": "The position has transactions after that date."})
    locked.closed_at = closed_at
    locked.full_clean()
    locked.save(update_fields=["closed_at", "updated_at"])
    _enqueue_revalue(locked.portfolio_id)
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
            _check_when(value, "closed_at")
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.full_clean()
    locked.save()
    _enqueue_revalue(locked.portfolio_id)
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
    _enqueue_revalue(portfolio_id)


@transaction.atomic
def position_override_amounts(*, position: Position, amounts: Mapping[Token, Decimal | str | int],
                              as_of: datetime | None = None) -> list[PositionAmountOverride]:
    """Replace the position's current token amounts with the user's own reading
    (an empty mapping removes the override; the model's amounts apply again)."""
    as_of = _check_when(as_of or timezone.now(), "as_of")
    locked = _lock_position(position)
    rows = []
    for token, qty in amounts.items():
        if not isinstance(token, Token):
            raise ValidationError({"amounts": f"Unknown token {token!r}."})
        value = _decimal(qty, "amounts")
        if value < 0:
            raise ValidationError({"amounts": f"The {token.symbol} amount cannot be negative."})
        if value != value.quantize(Q18):
            raise ValidationError({"amounts": f"The {token.symbol} amount has more than 18 decimal places."})
        row = PositionAmountOverride(position=locked, token=token, quantity=value, as_of=as_of)
        row.full_clean(validate_constraints=False)
        rows.append(row)
    PositionAmountOverride.objects.filter(position=locked).exclude(token__in=[r.token for r in rows]).delete()
    for row in rows:
        PositionAmountOverride.objects.update_or_create(position=locked, token=row.token,
                                                        defaults={"quantity": row.quantity, "as_of": as_of})
    _track(r.token.pk for r in rows)
    _enqueue_revalue(locked.portfolio_id)
    return list(PositionAmountOverride.objects.filter(position=locked).select_related("token"))


# --------------------------------------------------------------------------- transactions


def _check_shape(kind: str, legs: Sequence[_Resolved], income_type: str) -> None:
    if kind not in TRANSACTION_KINDS:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; choose one of {', '.join(TRANSACTION_KINDS)}."})
    if kind == "reward" and not income_type:
        raise ValidationError({"income_type": "A reward needs an income type (staking, liquidity mining, ...)."})
    if kind != "reward" and income_type:
        raise ValidationError({"income_type": "Only rewards have an income type."})
    if income_type and income_type not in INCOME_TYPES:
        raise ValidationError({"income_type": f"Choose an income type: {', '.join(INCOME_TYPES)}."})
    principal = [r for r in legs if not r.is_fee]
    if not principal and kind != "fee":
        raise ValidationError({"legs": "A transaction needs at least one amount that is not a fee."})
    incoming = {"reward", "transfer_in", "buy"}
    outgoing = {"fee", "transfer_out", "sell"}
    if kind in ("reward", "transfer_in") and any(r.quantity < 0 for r in principal):
        raise ValidationError({"legs": f"A {kind.replace('_', ' ')} only receives: its amounts must be positive."})
    if kind in ("fee", "transfer_out") and any(r.quantity > 0 for r in legs):
        raise ValidationError({"legs": f"A {kind.replace('_', ' ')} only sends: its amounts must be negative."})
    if kind in incoming and not any(r.quantity > 0 for r in principal):
        raise ValidationError({"legs": f"A {kind} must receive something (a positive amount)."})
    if kind in outgoing - {"fee"} and not any(r.quantity < 0 for r in principal):
        raise ValidationError({"legs": f"A {kind} must send something (a negative amount)."})
    if kind == "swap" and not (any(r.quantity < 0 for r in principal) and any(r.quantity > 0 for r in principal)):
        raise ValidationError({"legs": "A swap sends one asset and receives another."})


def transaction_record(*, portfolio: Portfolio, kind: str, legs: Sequence[LegInput], occurred_at: datetime,
                       position: Position | None = None, income_type: str | None = None, description: str = "",
                       source: str = "manual", dedupe_key: str = "", allow_missing_values: bool = False,
                       ) -> Transaction:
    """Record any transaction with signed legs (``+`` received, ``-`` sent).

    ``allow_missing_values`` (imports) keeps a leg without a price as ``missing``
    instead of raising :class:`MissingPrice`.
    """
    _check_when(occurred_at, "occurred_at")
    if position is not None and position.portfolio_id != portfolio.pk:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    resolved = _resolve(legs, when=occurred_at, field="legs", portfolio=portfolio, allow_missing=allow_missing_values)
    _check_shape(kind, resolved, income_type or "")
    with transaction.atomic():
        try:
            txn = _save_transaction(portfolio=portfolio, kind=kind, legs=resolved, occurred_at=occurred_at,
                                    position=position, income_type=income_type or "", description=description,
                                    source=source, dedupe_key=dedupe_key)
        except IntegrityError as exc:  # a concurrent duplicate import or a racing position delete
            raise PortfolioError(f"The transaction could not be saved: {exc.__cause__ or exc}") from exc
        _enqueue_revalue(portfolio.pk)
    return txn


TRANSACTION_EDITABLE = frozenset({"kind", "legs", "occurred_at", "income_type", "description", "position"})


def transaction_update(*, transaction: Transaction, **fields: Any) -> Transaction:  # noqa: A002 - the entity
    """Change a transaction; ``legs`` (a list of ``LegInput``) replaces all its legs."""
    from django.db import transaction as db

    unknown = set(fields) - TRANSACTION_EDITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    occurred_at = fields.get("occurred_at", transaction.occurred_at)
    _check_when(occurred_at, "occurred_at")
    kind = fields.get("kind", transaction.kind)
    income_type = fields.get("income_type", transaction.income_type) or ""
    if kind != "reward" and "income_type" not in fields:
        income_type = ""
    position = fields.get("position", transaction.position)
    if position is not None and position.portfolio_id != transaction.portfolio_id:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    if "legs" in fields:
        resolved = _resolve(fields["legs"], when=occurred_at, field="legs", portfolio=transaction.portfolio)
    else:
        resolved = [_Resolved(leg.asset, leg.token, leg.quantity, leg.fiat_value, leg.value_source, leg.is_fee)
                    for leg in transaction.legs.select_related("token").order_by("id")]
    _check_shape(kind, resolved, income_type)
    with db.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        locked.kind = kind
        locked.income_type = income_type
        locked.occurred_at = occurred_at
        locked.position = position
        if "description" in fields:
            locked.description = fields["description"] or ""
        locked.full_clean()
        locked.save()
        if "legs" in fields:
            locked.legs.all().delete()
            rows = [r.leg(locked) for r in resolved]
            for row in rows:
                row.full_clean(exclude=["transaction"], validate_constraints=False)
            Leg.objects.bulk_create(rows)
            _track(r.token.pk for r in resolved if r.token is not None)
        _enqueue_revalue(locked.portfolio_id)
    return locked


def transaction_delete(*, transaction: Transaction) -> None:  # noqa: A002
    from django.db import transaction as db

    with db.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        portfolio_id = locked.portfolio_id
        locked.delete()
        _enqueue_revalue(portfolio_id)


# --------------------------------------------------------------------------- valuation (tasks)


def portfolio_revalue(*, portfolio_ids: Sequence[int]) -> int:
    """Recompute the latest valuation of portfolios (``Portfolio.value``, ``pnl``...)
    in one batch of reads and one bulk update. Safe to run twice."""
    portfolios = list(Portfolio.objects.filter(pk__in=list(portfolio_ids)).select_related("owner"))
    if not portfolios:
        return 0
    now = timezone.now()
    summaries = portfolio_summaries(portfolios=portfolios, as_of=now, detail=False)
    rows = []
    for p in portfolios:
        s = summaries[p.pk]
        rows.append((_money(s.value), _money(s.deposited), _money(s.pnl), _money(s.income_ytd), now, p.pk))
    # One statement per row, sent together (psycopg pipelines executemany): far cheaper
    # than bulk_update's CASE WHEN for a few hundred rows. No lock is needed: the figures
    # are derived data and the last writer has the newest.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Portfolio._meta.db_table} SET value = %s, deposited = %s, pnl = %s, income_ytd = %s, "  # noqa: S608
            "valued_at = %s WHERE id = %s", rows)
    return len(portfolios)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Q18, ROUND_HALF_EVEN)


def portfolio_snapshots_write(*, day: date, portfolio_ids: Sequence[int] | None = None) -> int:
    """Upsert ``PortfolioSnapshot(portfolio, day)`` for the given portfolios (all when
    None) valued at the close of ``day`` (UTC): that day's closing prices and the
    transactions up to its end. One batch of reads and one INSERT ... ON CONFLICT;
    a rerun writes the same figures (nothing changes)."""
    portfolios = _snapshot_portfolios(portfolio_ids)
    if not portfolios:
        return 0
    summaries = portfolio_summaries(portfolios=portfolios, as_of=day_close(day), at_close=True, detail=False)
    return _snapshots_upsert(portfolios=portfolios, by_day={day: summaries})


def portfolio_snapshots_backfill(*, first: date, last: date, portfolio_ids: Sequence[int] | None = None) -> int:
    """``portfolio_snapshots_write`` for every day from ``first`` to ``last``
    (inclusive) at once: one batch of reads for all the days
    (``selectors.portfolio_summaries_at_closes``) and ONE upsert of every row, the
    same figures as writing the days one by one. Returns the rows written.

    For a handful of portfolios over a long period (the demo's year); the memory it
    takes grows with portfolios x days, so the nightly job keeps one day per call."""
    portfolios = _snapshot_portfolios(portfolio_ids)
    if last < first or not portfolios:
        return 0
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = portfolio_summaries_at_closes(portfolios=portfolios, days=days, detail=False)
    return _snapshots_upsert(portfolios=portfolios, by_day=by_day)


def _snapshot_portfolios(portfolio_ids: Sequence[int] | None) -> list[Portfolio]:
    query = Portfolio.objects.select_related("owner").order_by("pk")
    if portfolio_ids is not None:
        query = query.filter(pk__in=list(portfolio_ids))
    return list(query)


def _snapshots_upsert(*, portfolios: Sequence[Portfolio], by_day: Mapping[date, Mapping[int, Any]]) -> int:
    rows = [PortfolioSnapshot(portfolio=p, day=day, value=_money(s.value), deposited=_money(s.deposited),
                              pnl=_money(s.pnl), income_ytd=_money(s.income_ytd))
            for day, summaries in sorted(by_day.items()) for p in portfolios for s in [summaries[p.pk]]]
    PortfolioSnapshot.objects.bulk_create(rows, update_conflicts=True, unique_fields=["portfolio", "day"],
                                          update_fields=["value", "deposited", "pnl", "income_ytd"])
    return len(rows)
