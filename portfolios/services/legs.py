"""Legs as the services take them and write them: validation, valuation, the shape
rules of each transaction kind, and the one place a transaction and its legs are saved.

Amounts: a :class:`LegInput` names a token (a ``pools.Token``) or, for fiat and
tokens quoted by symbol, an ``asset``. Deposits, withdrawals and claims take
positive quantities (the service writes the signs); ``transaction_record``
takes signed ones. A missing ``fiat_value`` is looked up in the price history
(:func:`token_usd_price_at`: the nearest earlier daily price, at most
``PRICE_MAX_AGE`` old, else the token's latest price when the date is today,
else the pools source) and marked ``looked_up``; a stablecoin with no price
is valued at its peg (``analytics.STABLECOIN_PEG``) and marked ``peg``; any
other token with no price at all raises
:class:`~portfolios.services.errors.MissingPrice`, which asks the user to enter the value.

Fiat (``portfolios.ledger.FIAT_CODES``) is worth its face value and needs no token.

Currency: each leg's value keeps the currency it came in (``Leg.fiat_currency``):
an entered value is in ``LegInput.fiat_currency`` or else the owner's currency; a
fiat amount without a value is worth itself in its own currency; a value looked
up in the price history is in USD. Nothing is converted when it is stored;
pages and reports convert with the ECB rates of the day (``pools.fx``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from config.formatting import quantity as fmt_quantity
from pools.fx import ECB_CURRENCIES, FxRateUnavailable, normalize_currency
from pools.models import Token
from pools.selectors_fx import fx_table
from pools.services.prices import token_price_fetch
from pools.services.tokens import token_set_tracked
from portfolios import validation
from portfolios.analytics import STABLECOIN_PEG
from portfolios.ledger import (
    INCOMING_KINDS,
    OUTGOING_KINDS,
    RECEIVE_ONLY_KINDS,
    SEND_ONLY_KINDS,
    IncomeType,
    TxKind,
    is_fiat,
    is_lp_asset,
    parse_lp_asset,
    token_asset,
)
from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.selectors import token_for_symbol, token_usd_price_stored_at
from portfolios.services.errors import MissingPrice

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
#: The currency of the price history (``TokenPrice.price_usd``): looked-up values are in it.
PRICE_CURRENCY = "USD"
Q18 = Decimal("1e-18")
#: Room for the widest column (48 digits, 18 of them decimals): the default context's
#: 28 digits cannot hold 1e11 with 18 decimals, and quantize would raise.
_WIDE = Context(prec=60)


def q18(value: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` to 18 decimal places (the columns' scale), whatever its size."""
    return value.quantize(Q18, rounding=rounding, context=_WIDE)


#: How old the nearest earlier daily price may be to value a leg.
PRICE_MAX_AGE = timedelta(days=7)
#: Times up to this far ahead of the server clock are accepted (time zones, clock skew): the shared rule.
FUTURE_TOLERANCE = validation.FUTURE_TOLERANCE

_KIND_NAMES = ", ".join(TxKind)
_INCOME_NAMES = ", ".join(IncomeType)


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
    fiat_currency: str = ""  # of fiat_value; "" = the owner's currency


@dataclass
class ResolvedLeg:
    """A validated leg with its value, ready to be saved."""

    asset: str
    token: Token | None
    quantity: Decimal
    fiat_value: Decimal | None
    value_source: str
    is_fee: bool
    fiat_currency: str = PRICE_CURRENCY

    def leg(self, txn: Transaction) -> Leg:
        return Leg(
            transaction=txn,
            asset=self.asset,
            token=self.token,
            quantity=self.quantity,
            fiat_value=self.fiat_value,
            value_source=self.value_source,
            is_fee=self.is_fee,
            fiat_currency=self.fiat_currency,
        )

    @classmethod
    def of(cls, leg: Leg) -> ResolvedLeg:
        """A stored leg as it stands (a transaction edited without new legs)."""
        return cls(leg.asset, leg.token, leg.quantity, leg.fiat_value, leg.value_source, leg.is_fee,
                   leg.fiat_currency)


def value_currency(code: str, field: str = "fiat_currency") -> str:
    """A currency a value may be entered in (the euro or an ECB reference currency), upper-cased."""
    currency = normalize_currency(code)
    if currency not in ECB_CURRENCIES:
        raise ValidationError({field: f"{code!r} is not a currency we have exchange rates for (e.g. USD, EUR, GBP)."})
    return currency


def fiat_asset_currency(asset: str) -> str:
    """The currency a fiat asset's face value is in: the asset itself when it is a
    currency we convert, else USD (dollar-denominated fiat codes)."""
    return asset if asset in ECB_CURRENCIES else PRICE_CURRENCY


def legs_total(legs: Sequence[ResolvedLeg], *, when: datetime, currency: str) -> tuple[Decimal, str]:
    """The sum of the legs' values, and its currency: theirs when they share one,
    else ``currency``, each converted at the ECB rates of ``when``'s UTC day (a day
    without a rate uses the last rate before it). Legs without a value count zero."""
    valued = [r for r in legs if r.fiat_value is not None]
    codes = {r.fiat_currency for r in valued}
    if len(codes) <= 1:
        return sum((r.fiat_value or ZERO for r in valued), ZERO), (codes.pop() if codes else currency)
    day = when.astimezone(UTC).date()
    try:
        table = fx_table(currencies=codes | {currency}, start=day, end=day)
        total = sum((table.convert(r.fiat_value, r.fiat_currency, currency, day).amount
                     for r in valued if r.fiat_value is not None), ZERO)
    except FxRateUnavailable as exc:
        raise ValidationError({"fiat_value": f"The amounts are in different currencies and {exc}"}) from exc
    return q18(total), currency


def parse_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from a Decimal, an int or text; floats are refused."""
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationError({field: "Give amounts as decimal numbers (text or Decimal), not floats."})
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({field: f"{value!r} is not a finite number."})
    return result


def check_when(value: datetime, field: str) -> datetime:
    """An aware moment that already happened (``FUTURE_TOLERANCE`` of clock skew allowed)."""
    if not isinstance(value, datetime):
        raise ValidationError({field: "Give a date and time."})
    if timezone.is_naive(value):
        raise ValidationError({field: "Give the time with its time zone (or in UTC)."})
    try:
        return validation.check_moment(value, field, now=timezone.now())
    except validation.InputProblem as problem:
        raise ValidationError({field: _sentence(problem.message)}) from None


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def check_amount(value: Decimal, field: str, *, asset: str, fiat: bool = False) -> Decimal:
    """The shared size and precision rule (``portfolios.validation.check_number``), as a form/API error."""
    try:
        return validation.check_number(value, field, what=validation.FIAT if fiat else validation.QUANTITY)
    except validation.InputProblem as problem:
        raise ValidationError({field: f"The {asset} {'value' if fiat else 'amount'} {problem.message}."}) from None


def tokens_track(token_ids: Iterable[int | None]) -> None:
    """Mark the tokens of new legs as tracked: their prices get refreshed."""
    ids = {t for t in token_ids if t}
    if ids:
        token_set_tracked(token_ids=ids)


def token_usd_price_at(*, token: Token, when: datetime) -> Decimal | None:
    """USD price of ``token`` at ``when`` to value a leg: what we store
    (``selectors.token_usd_price_stored_at``, at most ``PRICE_MAX_AGE`` old), else
    fetched on demand from the pools source (history for transaction dates).
    None when neither knows."""
    price = token_usd_price_stored_at(token=token, when=when, max_age=PRICE_MAX_AGE)
    if price is not None:
        return price
    try:
        fetched = token_price_fetch(token=token, when=when)
    except Exception:  # noqa: BLE001 - a price source failure is "no price", the user can enter one
        logger.warning("price fetch failed for token %s at %s", token.pk, when, exc_info=True)
        fetched = None
    return fetched.price_usd if fetched is not None else None


def resolve_legs(
    legs: Sequence[LegInput],
    *,
    when: datetime,
    sign: int = 0,
    field: str = "legs",
    portfolio: Portfolio | None = None,
    allow_missing: bool = False,
    currency: str = "",
) -> list[ResolvedLeg]:
    """Validate legs and fill their fiat values. ``sign`` = -1/+1 applies a sign to
    positive input quantities (deposits/withdrawals); 0 keeps signed input.
    ``currency``: of entered values without their own (default: the portfolio
    owner's currency, else USD)."""
    if not legs:
        raise ValidationError({field: "Add at least one amount."})
    if not currency:
        currency = portfolio.owner.fiat_currency if portfolio is not None else PRICE_CURRENCY
    currency = value_currency(currency)
    out: list[ResolvedLeg] = []
    for leg in legs:
        qty = parse_decimal(leg.quantity, field)
        token = leg.token
        asset = (leg.asset or "").strip().upper()
        if token is None and not asset:
            raise ValidationError({field: "Each amount needs a token."})
        if token is not None and not isinstance(token, Token):
            raise ValidationError({field: f"Unknown token {token!r}."})
        if token is None and not is_fiat(asset) and not is_lp_asset(asset):
            # Quoted by symbol: the symbol stays the tax-lot key, the token prices it.
            token = token_for_symbol(symbol=asset)  # ETH also finds WETH
            if token is None:
                raise ValidationError({field: f"Unknown token {asset!r}: choose a token we list, or add it first."})
        if is_lp_asset(asset) and portfolio is not None:
            pos_id = parse_lp_asset(asset)
            if pos_id is None:
                raise ValidationError({field: f"{asset!r} is not a position asset (LP#<position id>)."})
            if not Position.objects.filter(pk=pos_id, portfolio=portfolio).exists():
                raise ValidationError({field: f"{asset} is not a position of this portfolio."})
        if token is not None and not asset:
            asset = token_asset(token.symbol, token.address)
        if sign:
            if qty <= 0:
                raise ValidationError(
                    {field: f"The {asset} amount must be greater than zero (got {fmt_quantity(qty)})."}
                )
            qty = qty * sign
        elif qty == 0:
            raise ValidationError({field: f"The {asset} amount cannot be zero."})
        check_amount(qty, field, asset=asset)
        if leg.is_fee and qty > 0:
            raise ValidationError({field: f"A fee is an amount paid: the {asset} fee must be negative."})
        if leg.fiat_value is not None and leg.fiat_value != "":
            fiat = parse_decimal(leg.fiat_value, "fiat_value")
            if fiat < 0:
                raise ValidationError({"fiat_value": f"The value of the {asset} amount cannot be negative."})
            check_amount(fiat, "fiat_value", asset=asset, fiat=True)
            entered_in = value_currency(leg.fiat_currency) if leg.fiat_currency else currency
            resolved = ResolvedLeg(asset, token, qty, q18(fiat), "entered", leg.is_fee, entered_in)
        elif token is None and is_fiat(asset):
            resolved = ResolvedLeg(asset, None, qty, abs(qty), "entered", leg.is_fee, fiat_asset_currency(asset))
        elif token is None:
            resolved = ResolvedLeg(asset, None, qty, None, "missing", leg.is_fee)
        else:
            price = token_usd_price_at(token=token, when=when)
            if price is None and token.is_stablecoin:
                # No price that day: a stablecoin is valued at its peg and says so (value_source "peg"),
                # as the position page does - the user is not asked for the value of a dollar.
                value = check_amount(q18(abs(qty) * STABLECOIN_PEG), "fiat_value", asset=asset, fiat=True)
                resolved = ResolvedLeg(asset, token, qty, value, Leg.ValueSource.PEG, leg.is_fee)
            elif price is None:
                if not allow_missing:
                    raise MissingPrice(token, when)
                resolved = ResolvedLeg(asset, token, qty, None, "missing", leg.is_fee)
            else:
                value = check_amount(q18(abs(qty) * price), "fiat_value", asset=asset, fiat=True)
                resolved = ResolvedLeg(asset, token, qty, value, "looked_up", leg.is_fee)
        out.append(resolved)
    return out


def check_shape(kind: str, legs: Sequence[ResolvedLeg], income_type: str) -> None:
    """The rules of the transaction kinds (``portfolios.ledger``): a reward and only a
    reward has an income type, what only receives or only sends, a swap both."""
    if kind not in TxKind:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; choose one of {_KIND_NAMES}."})
    if kind == TxKind.REWARD and not income_type:
        raise ValidationError({"income_type": "A reward needs an income type (staking, liquidity mining, ...)."})
    if kind != TxKind.REWARD and income_type:
        raise ValidationError({"income_type": "Only rewards have an income type."})
    if income_type and income_type not in IncomeType:
        raise ValidationError({"income_type": f"Choose an income type: {_INCOME_NAMES}."})
    principal = [r for r in legs if not r.is_fee]
    if not principal and kind != TxKind.FEE:
        raise ValidationError({"legs": "A transaction needs at least one amount that is not a fee."})
    spelled = kind.replace("_", " ")
    if kind in RECEIVE_ONLY_KINDS and any(r.quantity < 0 for r in principal):
        raise ValidationError({"legs": f"A {spelled} only receives: its amounts must be positive."})
    if kind in SEND_ONLY_KINDS and any(r.quantity > 0 for r in legs):
        raise ValidationError({"legs": f"A {spelled} only sends: its amounts must be negative."})
    if kind in INCOMING_KINDS and not any(r.quantity > 0 for r in principal):
        raise ValidationError({"legs": f"A {kind} must receive something (a positive amount)."})
    if kind in OUTGOING_KINDS and not any(r.quantity < 0 for r in principal):
        raise ValidationError({"legs": f"A {kind} must send something (a negative amount)."})
    if kind == TxKind.SWAP and not (any(r.quantity < 0 for r in principal) and any(r.quantity > 0 for r in principal)):
        raise ValidationError({"legs": "A swap sends one asset and receives another."})


def save_transaction(
    *,
    portfolio: Portfolio,
    kind: str,
    legs: Sequence[ResolvedLeg],
    occurred_at: datetime,
    position: Position | None = None,
    income_type: str = "",
    description: str = "",
    source: str = Transaction.Source.MANUAL,
    dedupe_key: str = "",
    category: str = "",
    hidden: bool = False,
) -> Transaction:
    """Save a transaction and its legs (inside the caller's database transaction)."""
    txn = Transaction(
        portfolio=portfolio,
        position=position,
        kind=kind,
        income_type=income_type or "",
        occurred_at=occurred_at,
        description=description,
        source=source,
        dedupe_key=dedupe_key,
        category=category or "",
        hidden=hidden,
    )
    txn.full_clean()
    txn.save()
    save_legs(txn, legs)
    return txn


def save_legs(txn: Transaction, legs: Sequence[ResolvedLeg]) -> None:
    rows = [r.leg(txn) for r in legs]
    for row in rows:
        row.full_clean(exclude=["transaction"], validate_constraints=False)  # constraints: checked above + DB
    Leg.objects.bulk_create(rows)
    tokens_track(r.token.pk for r in legs if r.token is not None)
