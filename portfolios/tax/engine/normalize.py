"""Normalisation: each transaction becomes a short list of primitive operations.

All quantities in an operation are positive.  The lot methods (``driver``)
consume the operations as they stream; UK pooling (``uk``) normalises the
whole ledger first, because the 30-day rule looks ahead.  How each kind of
transaction is taxed is described in the package docstring; this module is
where those rules become operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .quantities import ONE, ZERO, plain, qadd, qsub
from .types import (
    EXCHANGE_KINDS,
    POSITION_KINDS,
    IncomeEvent,
    InvalidTransaction,
    LegIn,
    MissingFiatValue,
    TaxSettings,
    TxIn,
)

# --------------------------------------------------------------------------- operations
#
# Plain slotted records (not frozen: a frozen dataclass sets each field through
# object.__setattr__, measurably slower on this path); built positionally here,
# dispatched on ``type(op) is ...`` by the drivers.


@dataclass(slots=True)
class GiftOut:
    """What makes a ``Dispose`` a gift given: its category, its market value (None when
    unknown), and whether it is also a disposal (``counted``: UK, not to a spouse) or only
    takes the lots out (US; UK spouse gift, at no gain and no loss)."""

    category: str
    market_value: Decimal | None
    counted: bool


@dataclass(slots=True)
class Dispose:
    """Dispose of ``quantity`` of ``asset``: net ``proceeds`` after ``fee``; ``gift`` when it is
    a gift given (then, unless ``gift.counted``, the lots leave but no disposal is recorded)."""

    asset: str
    quantity: Decimal
    proceeds: Decimal
    fee: Decimal
    gift: GiftOut | None = None


@dataclass(slots=True)
class Acquire:
    """Acquire a lot at ``cost``; a reward also carries its income type and value."""

    asset: str
    quantity: Decimal
    cost: Decimal
    income_type: str | None = None
    fair_market_value: Decimal | None = None
    gift: str | None = None  # a gift received: its category (``fair_market_value``: the leg's value)


@dataclass(slots=True)
class FiatIncome:
    """A reward received in fiat: income, but no lot."""

    asset: str
    quantity: Decimal
    fair_market_value: Decimal
    income_type: str | None


@dataclass(slots=True)
class MoveOut:
    """Take lots out (non-taxable move); their cost is carried under ``slot``."""

    asset: str
    quantity: Decimal
    slot: int


@dataclass(slots=True)
class MoveIn:
    """Receive the cost carried under ``slot``: ``share`` of it (the ``last`` one
    takes the remainder), plus ``fee_add``; ``preserve`` re-denominates the
    lots themselves, keeping their dates (one asset out, one in)."""

    asset: str
    quantity: Decimal
    slot: int
    share: Decimal
    fee_add: Decimal
    preserve: bool
    last: bool


@dataclass(slots=True)
class Check:
    """Holdings must cover ``quantity`` (a transfer_out)."""

    asset: str
    quantity: Decimal


@dataclass(slots=True)
class UnallocatedFee:
    """A fee neither deducted from proceeds nor added to a cost."""

    amount: Decimal


Op = Dispose | Acquire | FiatIncome | MoveOut | MoveIn | Check | UnallocatedFee


def income_event(op: Acquire | FiatIncome, tx: TxIn, day: date, year: str) -> IncomeEvent:
    """The income record of a reward's Acquire or FiatIncome (``day``: local date of receipt)."""
    assert op.income_type is not None and op.fair_market_value is not None  # a reward's ops carry both
    return IncomeEvent(
        income_type=op.income_type,
        asset=op.asset,
        quantity=op.quantity,
        fair_market_value=op.fair_market_value,
        tx_ref=tx.ref,
        occurred_at=tx.occurred_at,
        received=day,
        tax_year=year,
        position=tx.position,
    )


def _allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` by ``weights``; the last share takes the remainder so the
    parts add up exactly."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        weights = [ONE] * len(weights)
        weight_sum = Decimal(len(weights))
    parts: list[Decimal] = []
    used = ZERO
    for w in weights[:-1]:
        part = total * w / weight_sum
        parts.append(part)
        used += part
    parts.append(total - used)
    return parts


class Normalizer:
    """Turns TxIn into operations; keeps the little state that needs (own
    transfers in transit and one-sided staking positions)."""

    def __init__(self, settings: TaxSettings):
        self.settings = settings
        self.home = settings.fiat_currency
        self.fiat = settings.fiat_codes
        self.nontaxable = settings.lp_treatment == "nontaxable"
        self.uk = settings.jurisdiction == "uk"
        self.in_transit: dict[str, Decimal] = {}
        self.escrow: dict[str, Decimal] = {}
        self.warnings: list[str] = []

    # -- helpers
    @staticmethod
    def _value(tx: TxIn, leg: LegIn, why: str = "") -> Decimal:
        value = leg.fiat_value
        if value is None:
            raise MissingFiatValue(tx.ref, leg.asset, why)
        return value

    def _weights(self, tx: TxIn, legs: list[LegIn], why: str) -> list[Decimal]:
        if len(legs) == 1:
            return [ONE]
        return [self._value(tx, leg, why) for leg in legs]

    @staticmethod
    def synthetic(asset: str, tx: TxIn) -> str:
        group = "staked" if tx.kind in ("stake", "unstake") else "lp"
        return f"{asset}@{tx.position or group}"

    # -- main entry
    def ops(self, tx: TxIn) -> list[Op]:
        kind = tx.kind
        home = self.home
        fiat = self.fiat
        t_out: list[LegIn] = []
        t_in: list[LegIn] = []
        fee_disposals: list[Op] | None = None  # fees paid in tokens: disposals, applied last
        fiat_in_legs: list[tuple[LegIn, Decimal]] | None = None
        fee_value = ZERO
        fiat_out = ZERO
        fiat_in = ZERO
        has_fiat_out = False
        has_fiat_in = False
        for leg in tx.legs:
            q = leg.quantity
            if not q:
                continue
            asset = leg.asset
            is_fiat = asset in fiat
            if leg.is_fee or (kind == "fee" and q < 0):
                if q > 0:
                    raise InvalidTransaction(tx.ref, f"fee leg {asset} must be negative (an amount paid)")
                if is_fiat:
                    fee_value += -q if asset == home else self._value(tx, leg, "(fee in a foreign fiat)")
                else:
                    v = self._value(tx, leg, "(a fee paid in a token is a disposal of it)")
                    fee_value += v
                    if fee_disposals is None:
                        fee_disposals = []
                    fee_disposals.append(Dispose(asset, q.copy_negate(), v, ZERO))
                continue
            if is_fiat:
                v = abs(q) if asset == home else self._value(tx, leg, "(foreign fiat)")
                if q < 0:
                    fiat_out += v
                    has_fiat_out = True
                else:
                    fiat_in += v
                    has_fiat_in = True
                    if fiat_in_legs is None:
                        fiat_in_legs = []
                    fiat_in_legs.append((leg, v))
            elif q < 0:
                t_out.append(leg)
            else:
                t_in.append(leg)

        if kind in EXCHANGE_KINDS:
            ops = self._exchange(tx, t_out, t_in, fiat_out, fiat_in, has_fiat_out, has_fiat_in, fee_value)
        elif kind == "reward":
            ops = self._reward(tx, t_out, t_in, has_fiat_out, fiat_in_legs or [], fee_value)
        elif kind in POSITION_KINDS:
            if has_fiat_in or has_fiat_out:
                raise InvalidTransaction(tx.ref, f"a {kind} cannot carry fiat legs (other than fees)")
            if self.nontaxable:
                ops = self._position_nontaxable(tx, t_out, t_in, fee_value)
            else:
                ops = self._position_disposal(tx, t_out, t_in, fee_value)
        elif tx.category:
            ops = self._gift(tx, t_out, t_in, fee_value)
        elif kind == "transfer_out":
            if t_in:
                raise InvalidTransaction(tx.ref, "a transfer_out cannot receive tokens")
            ops = []
            transit = self.in_transit
            for leg in t_out:
                q = leg.quantity.copy_negate()
                ops.append(Check(leg.asset, q))
                transit[leg.asset] = qadd(transit.get(leg.asset, ZERO), q)
            if fee_value:
                ops.append(UnallocatedFee(fee_value))
        elif kind == "transfer_in":
            ops = self._transfer_in(tx, t_out, t_in, fee_value)
        else:  # fee
            if t_in or has_fiat_in:
                raise InvalidTransaction(tx.ref, "a fee transaction cannot receive anything")
            ops = [UnallocatedFee(fee_value)] if fee_value else []
        if fee_disposals:
            ops.extend(fee_disposals)
        return ops

    def _exchange(
        self,
        tx: TxIn,
        t_out: list[LegIn],
        t_in: list[LegIn],
        fiat_out: Decimal,
        fiat_in: Decimal,
        has_fiat_out: bool,
        has_fiat_in: bool,
        fee_value: Decimal,
    ) -> list[Op]:
        # fast paths for the three everyday shapes (same results as the general code below)
        n_out = len(t_out)
        n_in = len(t_in)
        if n_out == 0 and n_in == 1 and has_fiat_out and not has_fiat_in:  # fiat -> token
            leg = t_in[0]
            return [Acquire(leg.asset, leg.quantity, fiat_out + fee_value)]
        if n_out == 1 and n_in == 0 and has_fiat_in and not has_fiat_out:  # token -> fiat
            leg = t_out[0]
            return [Dispose(leg.asset, leg.quantity.copy_negate(), fiat_in - fee_value, fee_value)]
        if n_out == 1 and n_in == 1 and not has_fiat_in and not has_fiat_out:  # token -> token
            out_leg = t_out[0]
            in_leg = t_in[0]
            value = in_leg.fiat_value
            if value is None:
                value = self._value(tx, out_leg, "(nothing else prices this swap)")
            return [
                Dispose(out_leg.asset, out_leg.quantity.copy_negate(), value - fee_value, fee_value),
                Acquire(in_leg.asset, in_leg.quantity, value),
            ]
        if not t_out and not t_in:
            raise InvalidTransaction(tx.ref, f"a {tx.kind} needs at least one non-fiat leg")
        if has_fiat_in and not has_fiat_out:
            basis = fiat_in + sum((self._value(tx, leg) for leg in t_in), ZERO)
        elif has_fiat_out and not has_fiat_in:
            basis = fiat_out + sum((self._value(tx, leg) for leg in t_out), ZERO)
        elif has_fiat_in:  # fiat on both sides
            basis = fiat_in + sum((self._value(tx, leg) for leg in t_in), ZERO)
        elif not t_out:
            basis = sum((self._value(tx, leg, "(nothing else prices this acquisition)") for leg in t_in), ZERO)
        elif t_in and all(leg.fiat_value is not None for leg in t_in):
            basis = sum((self._value(tx, leg) for leg in t_in), ZERO)  # every one is known
        else:
            basis = sum((self._value(tx, leg, "(nothing else prices this swap)") for leg in t_out), ZERO)
        ops: list[Op] = []
        if t_out:
            proceeds = basis - fiat_out - fee_value
            weights = self._weights(tx, t_out, "(to share proceeds between several assets)")
            parts = _allocate(proceeds, weights)
            fees = _allocate(fee_value, weights) if fee_value else None
            for i, leg in enumerate(t_out):
                ops.append(Dispose(leg.asset, leg.quantity.copy_negate(), parts[i], fees[i] if fees else ZERO))
        if t_in:
            cost = basis - fiat_in + (ZERO if t_out else fee_value)
            weights = self._weights(tx, t_in, "(to share cost between several assets)")
            for leg, part in zip(t_in, _allocate(cost, weights), strict=True):
                ops.append(Acquire(leg.asset, leg.quantity, part))
        return ops

    def _reward(
        self,
        tx: TxIn,
        t_out: list[LegIn],
        t_in: list[LegIn],
        has_fiat_out: bool,
        fiat_in_legs: list[tuple[LegIn, Decimal]],
        fee_value: Decimal,
    ) -> list[Op]:
        if t_out or has_fiat_out:
            raise InvalidTransaction(tx.ref, "a reward cannot send anything except fee legs")
        if not t_in and not fiat_in_legs:
            raise InvalidTransaction(tx.ref, "a reward must receive something")
        if len(t_in) == 1 and not fiat_in_legs and not fee_value:
            leg = t_in[0]
            value = self._value(tx, leg, "(income is its fair market value at receipt)")
            return [Acquire(leg.asset, leg.quantity, value, tx.income_type, value)]
        ops: list[Op] = []
        if t_in:
            values = [self._value(tx, leg, "(income is its fair market value at receipt)") for leg in t_in]
            fees = _allocate(fee_value, values) if fee_value else None
            for i, leg in enumerate(t_in):
                cost = values[i] + fees[i] if fees else values[i]
                ops.append(Acquire(leg.asset, leg.quantity, cost, tx.income_type, values[i]))
        elif fee_value:
            ops.append(UnallocatedFee(fee_value))
        for leg, value in fiat_in_legs:
            ops.append(FiatIncome(leg.asset, leg.quantity, value, tx.income_type))
        return ops

    def _gift(self, tx: TxIn, t_out: list[LegIn], t_in: list[LegIn], fee_value: Decimal) -> list[Op]:
        """A transfer categorised as a gift (never in transit, never matched with the user's own
        transfers). Given: US and other - not a disposal, the lots leave (their cost carries to
        the recipient); UK - a disposal at market value (TCGA 1992 s.17), or to a spouse or civil
        partner at no gain and no loss (s.58). Received: an acquisition at the leg's value."""
        ops: list[Op] = []
        if tx.kind == "transfer_out":
            if t_in:
                raise InvalidTransaction(tx.ref, "a transfer_out cannot receive tokens")
            if self.uk and tx.category == "gift":
                values = [
                    self._value(tx, leg, "(a gift is a disposal at its market value, TCGA 1992 s.17)") for leg in t_out
                ]
                fees = _allocate(fee_value, values) if fee_value and t_out else None
                for i, leg in enumerate(t_out):
                    fee = fees[i] if fees else ZERO
                    gift = GiftOut(tx.category, values[i], True)
                    ops.append(Dispose(leg.asset, leg.quantity.copy_negate(), values[i] - fee, fee, gift))
                if fee_value and not t_out:
                    ops.append(UnallocatedFee(fee_value))
                return ops
            for leg in t_out:
                gift = GiftOut(tx.category, leg.fiat_value, False)
                ops.append(Dispose(leg.asset, leg.quantity.copy_negate(), ZERO, ZERO, gift))
            if fee_value:
                ops.append(UnallocatedFee(fee_value))
            return ops
        if t_out:
            raise InvalidTransaction(tx.ref, "a transfer_in cannot send tokens (except fee legs)")
        values = [self._value(tx, leg, "(a gift received is acquired at its value that day)") for leg in t_in]
        fees = _allocate(fee_value, values) if fee_value and t_in else None
        for i, leg in enumerate(t_in):
            ops.append(
                Acquire(leg.asset, leg.quantity, values[i] + (fees[i] if fees else ZERO), None, values[i], tx.category)
            )
        if fee_value and not t_in:
            ops.append(UnallocatedFee(fee_value))
        return ops

    def _transfer_in(self, tx: TxIn, t_out: list[LegIn], t_in: list[LegIn], fee_value: Decimal) -> list[Op]:
        if t_out:
            raise InvalidTransaction(tx.ref, "a transfer_in cannot send tokens (except fee legs)")
        ops: list[Op] = []
        transit = self.in_transit
        unmatched: list[tuple[LegIn, Decimal, Decimal]] = []
        for leg in t_in:
            q = leg.quantity
            pending = transit.get(leg.asset, ZERO)
            matched = q if q <= pending else pending
            if matched:
                left = qsub(pending, matched)
                if left:
                    transit[leg.asset] = left
                else:
                    del transit[leg.asset]
            rest = qsub(q, matched)
            if rest:
                value = self._value(tx, leg, "(a transfer_in without a matching transfer_out is an acquisition)")
                unmatched.append((leg, rest, value * rest / q))
        if unmatched:
            fees = _allocate(fee_value, [c for _, _, c in unmatched]) if fee_value else None
            for i, (leg, rest, cost) in enumerate(unmatched):
                ops.append(Acquire(leg.asset, rest, cost + fees[i] if fees else cost))
        elif fee_value:
            ops.append(UnallocatedFee(fee_value))
        return ops

    def _position_nontaxable(self, tx: TxIn, t_out: list[LegIn], t_in: list[LegIn], fee_value: Decimal) -> list[Op]:
        ops: list[Op] = []
        if t_out and t_in:
            for leg in t_out:
                ops.append(MoveOut(leg.asset, leg.quantity.copy_negate(), 0))
            weights = self._weights(tx, t_in, "(to share the carried cost basis between several tokens)")
            total_weight = sum(weights, ZERO)
            if len(weights) == 1:
                shares = [ONE]
            elif total_weight:
                shares = [w / total_weight for w in weights]
            else:  # every incoming token valued at zero: share equally
                shares = [ONE / len(weights)] * len(weights)
            fees = _allocate(fee_value, weights) if fee_value else None
            preserve = len(t_out) == 1 and len(t_in) == 1
            last = len(t_in) - 1
            for i, leg in enumerate(t_in):
                ops.append(
                    MoveIn(
                        asset=leg.asset,
                        quantity=leg.quantity,
                        slot=0,
                        share=shares[i],
                        fee_add=fees[i] if fees else ZERO,
                        preserve=preserve,
                        last=i == last,
                    )
                )
            return ops
        if t_out:  # one-sided deposit into a position without a receipt token
            weights = [leg.fiat_value if leg.fiat_value is not None else ONE for leg in t_out]
            if any(leg.fiat_value is None for leg in t_out):
                weights = [ONE] * len(t_out)
            fees = _allocate(fee_value, weights) if fee_value else None
            for i, leg in enumerate(t_out):
                q = leg.quantity.copy_negate()
                synthetic = self.synthetic(leg.asset, tx)
                ops.append(MoveOut(leg.asset, q, i))
                fee_add = fees[i] if fees else ZERO
                ops.append(
                    MoveIn(asset=synthetic, quantity=q, slot=i, share=ONE, fee_add=fee_add, preserve=True, last=True)
                )
                self.escrow[synthetic] = qadd(self.escrow.get(synthetic, ZERO), q)
            return ops
        if t_in:  # one-sided withdrawal
            weights = [leg.fiat_value if leg.fiat_value is not None else ONE for leg in t_in]
            if any(leg.fiat_value is None for leg in t_in):
                weights = [ONE] * len(t_in)
            fees = _allocate(fee_value, weights) if fee_value else None
            for i, leg in enumerate(t_in):
                q = leg.quantity
                synthetic = self.synthetic(leg.asset, tx)
                available = self.escrow.get(synthetic, ZERO)
                matched = q if q <= available else available
                fee = fees[i] if fees else ZERO
                rest = qsub(q, matched)
                fee_rest = fee * rest / q if rest else ZERO
                if matched:
                    self.escrow[synthetic] = qsub(available, matched)
                    ops.append(MoveOut(synthetic, matched, i))
                    ops.append(
                        MoveIn(
                            asset=leg.asset,
                            quantity=matched,
                            slot=i,
                            share=ONE,
                            fee_add=fee - fee_rest,
                            preserve=True,
                            last=True,
                        )
                    )
                if rest:
                    value = self._value(tx, leg, f"(more {leg.asset} came back than was put into {synthetic})")
                    self.warnings.append(
                        f"transaction {tx.ref}: {plain(rest)} {leg.asset} returned beyond the {plain(matched)} "
                        f"held in {synthetic}; treated as an acquisition at its fiat value"
                    )
                    ops.append(Acquire(leg.asset, rest, value * rest / q + fee_rest))
            return ops
        raise InvalidTransaction(tx.ref, f"a {tx.kind} needs at least one non-fiat leg")

    def _position_disposal(self, tx: TxIn, t_out: list[LegIn], t_in: list[LegIn], fee_value: Decimal) -> list[Op]:
        if t_out and t_in:
            return self._exchange(tx, t_out, t_in, ZERO, ZERO, False, False, fee_value)
        ops: list[Op] = []
        if t_out:
            values = [self._value(tx, leg, "(lp_treatment='disposal' disposes at market value)") for leg in t_out]
            fees = _allocate(fee_value, values) if fee_value else None
            for i, leg in enumerate(t_out):
                q = leg.quantity.copy_negate()
                fee = fees[i] if fees else ZERO
                synthetic = self.synthetic(leg.asset, tx)
                ops.append(Dispose(leg.asset, q, values[i] - fee, fee))
                ops.append(Acquire(synthetic, q, values[i]))
                self.escrow[synthetic] = qadd(self.escrow.get(synthetic, ZERO), q)
            return ops
        if t_in:
            values = [self._value(tx, leg, "(lp_treatment='disposal' acquires at market value)") for leg in t_in]
            disposals: list[tuple[str, Decimal, Decimal]] = []
            for leg, value in zip(t_in, values, strict=True):
                q = leg.quantity
                synthetic = self.synthetic(leg.asset, tx)
                available = self.escrow.get(synthetic, ZERO)
                matched = q if q <= available else available
                if matched:
                    self.escrow[synthetic] = qsub(available, matched)
                    disposals.append((synthetic, matched, value * matched / q))
                if matched < q:
                    self.warnings.append(
                        f"transaction {tx.ref}: {plain(qsub(q, matched))} {leg.asset} returned beyond the "
                        f"{plain(matched)} held in {synthetic}; treated as an acquisition at its fiat value"
                    )
            if disposals:
                fees = _allocate(fee_value, [p for _, _, p in disposals]) if fee_value else None
                for i, (synthetic, matched, proceeds) in enumerate(disposals):
                    fee = fees[i] if fees else ZERO
                    ops.append(Dispose(synthetic, matched, proceeds - fee, fee))
                costs = values
            else:
                costs = (
                    [v + f for v, f in zip(values, _allocate(fee_value, values), strict=True)] if fee_value else values
                )
            for leg, cost in zip(t_in, costs, strict=True):
                ops.append(Acquire(leg.asset, leg.quantity, cost))
            return ops
        raise InvalidTransaction(tx.ref, f"a {tx.kind} needs at least one non-fiat leg")
