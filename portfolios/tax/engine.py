"""Yieldledger's pure tax engine: lots, disposals, income and tax-year totals.

Standard library only, no Django.  Every amount is a ``decimal.Decimal`` (a
float anywhere raises ``TypeError``/``decimal.FloatOperation``) and every
timestamp an aware ``datetime``.

Input
=====
A stream of :class:`TxIn` (one per economic event, mirroring our Transaction
model) each carrying signed :class:`LegIn` legs: ``+`` received, ``-`` sent.
``fiat_value`` is the *absolute* value of the leg in the user's fiat currency
at that moment (``None`` when unknown).  Fiat itself (any code in
``TaxSettings.fiat_codes``; the user's own ``fiat_currency`` is worth its face
value) is not lot-tracked: a buy is ``-USD +ETH``, a sell ``-ETH +USD``.
Transactions are processed in ``occurred_at`` order (stable for equal times).
Asset codes are case-sensitive (``stETH`` is not ``STETH``); fiat codes are
upper-case ISO 4217.

Kinds and how they are taxed
============================
``buy``, ``sell``, ``swap``
    Disposal of every non-fiat asset that goes out, acquisition of every one
    that comes in.  One value ``V`` prices both sides:

    * if the transaction has principal fiat legs, ``V`` is the fiat side (what
      was paid for a buy - so cost is the cash paid, not the quoted market
      value - and what was received for a sell);
    * for a crypto-to-crypto swap ``V`` is the fiat value of what comes **in**
      (the fair market value of the consideration received, IRS and HMRC
      style); when any incoming leg lacks a fiat value we fall back to the
      fiat value of what goes out.

    Proceeds of the outgoing assets are ``V`` (less any extra fiat paid),
    cost of the incoming assets is ``V`` (less any fiat received).  Several
    legs on one side share by their own fiat values (needed only then).
``reward`` (``income_type``: staking, liquidity_mining, lp_fees, interest,
airdrop, mining, other)
    Ordinary income equal to the fair market value (``fiat_value``, required)
    when received; that value is the cost basis of the new lot.  Rewards in
    fiat are income but create no lot.  Every income type is income in every
    jurisdiction; an airdrop that is not income (HMRC's view of most
    unsolicited airdrops) should be recorded as a ``transfer_in`` instead.
``fee``
    Every outgoing leg is a fee (see Fees).
``transfer_out`` / ``transfer_in``
    Moving one's own assets between one's own wallets is not taxable; lots
    are per user, not per wallet, so nothing moves.  A ``transfer_out`` puts
    its quantity "in transit" (it must be held); a later ``transfer_in`` of the
    same asset is matched against the in-transit quantity first.  Whatever part
    of a ``transfer_in`` has no earlier matching ``transfer_out`` is an
    **acquisition at its stated fiat value** (the cost basis; ``fiat_value``
    required for that part) - e.g. coins arriving from an exchange we have no
    history for.  An in-transit quantity never claimed stays listed in
    ``TaxReport.in_transit`` (usually a missing fee leg).  A transfer_in that is
    dated *before* its transfer_out is not matched (it is an acquisition).
``lp_deposit``, ``lp_withdraw``, ``stake``, ``unstake`` - ``lp_treatment``:
    ``"nontaxable"`` (default)
        No gain or loss.  The cost basis of what goes in moves to what comes
        out (the LP or staking receipt token).  One asset out and one in (e.g.
        ETH -> stETH): each source lot keeps its acquisition date and cost and
        is re-denominated into the new token (holding period carries over;
        the new lots add up exactly to the quantity received - see Rounding).
        Several assets (ETH + USDC -> UNI-V2): the total basis is shared among
        the incoming tokens by fiat value and they start a new holding period
        on the transaction date (a simplification: short term is the stricter
        answer).  A one-sided deposit with no receipt token (e.g. CAKE into a
        farm) moves the lots, dates and cost intact, into a synthetic position
        asset named ``"CAKE@<position>"`` (``"CAKE@staked"`` / ``"CAKE@lp"``
        without a position key); the matching one-sided withdrawal takes them
        back.  Any quantity returned beyond what was deposited is an
        acquisition at its fiat value and is reported in ``warnings``.
    ``"disposal"`` (the stricter reading)
        A disposal of what goes in at market value and an acquisition of what
        comes out at market value, exactly like a swap (one-sided deposits
        and withdrawals dispose of / acquire the synthetic position asset).

Fees
====
Legs with ``is_fee=True`` (and every outgoing leg of a ``fee`` transaction).
The fee's fiat value ``F`` (face value for the user's fiat, else
``fiat_value``) is allocated once:

* if the transaction disposes of assets (sell, swap, LP "disposal"), ``F``
  reduces their proceeds (pro rata to proceeds; reported as ``Disposal.fee``);
* otherwise, if it acquires assets (buy, reward, unmatched transfer_in,
  nontaxable LP/stake receipt tokens), ``F`` is added to their cost basis;
* otherwise (``fee`` transactions, transfer_out, ...) it is not deductible and
  is summed in ``YearTotals.fees_unallocated``.

A fee paid **in a token** is also a disposal of that token: proceeds = its
fiat value ``F``, cost = the lots it consumes (by the chosen method), so the
gain is ``F - cost``.  Combined with the allocation above, the net effect on
a sale or swap is: total gain = value received - cost of everything that
left, the fee tokens included (the ``F`` counted as the fee token's
proceeds is exactly the ``F`` taken off the sale's proceeds).  Within a
transaction legs are applied in this order: principal disposals, then
acquisitions, then fee disposals (so a fee may be paid out of what was just
received).

Methods
=======
``fifo``, ``lifo``, ``hifo`` (highest unit cost first; ties: earliest
acquired), ``average`` (one cost pool per asset; holding periods are still
taken first-in-first-out, the US mutual-fund convention, and the acquired date
is reported as ``"various"``) and ``uk`` - HMRC share matching in
:mod:`portfolios.tax.uk`: same-day rule, then the 30-day "bed and breakfast"
rule, then the Section 104 pool; all acquisitions (and all disposals) of an
asset on one day count as one.  Lot selection uses deques (FIFO), stacks
(LIFO) and heaps (HIFO, average layers): O(log n) per lot touched.

Holding period (US, and "other" for information): long term when held *more
than one year*: disposed strictly after the anniversary of the acquisition
date, dates in the user's timezone (acquired 2023-03-01: disposed 2024-03-01
is short, 2024-03-02 is long; 29 Feb anniversaries fall on 28 Feb).  The UK
has no such split: ``term`` is ``None``.

Tax years are cut on the local date in ``TaxSettings.timezone``: calendar
years for ``us``/``other``, 6 April - 5 April for ``uk`` (see ``years.py``).

Errors
======
Disposing of (or moving, or transferring out) more than is held raises
:class:`InsufficientHoldings` naming the transaction ref, the asset and the
shortfall - the engine never invents a zero-cost lot.  A value the rules need
but the data lacks raises :class:`MissingFiatValue`; malformed transactions
raise :class:`InvalidTransaction`.

Rounding
========
Quantities are exact.  They are only added, subtracted and compared, always
without rounding (an unbounded-precision context, ``qadd``/``qsub``), so for
every asset the running total held is exactly the sum of its lots: selling
everything held always works, and selling even 1e-40 more is an
:class:`InsufficientHoldings` with that exact shortfall (there is no
tolerance).  The one division, re-denominating lots when a non-taxable move
returns a different quantity (2.49 LP -> 2.50 ETH), is :func:`rescale`: each
lot's share is rounded *down* to 1e-24 (or to the receipt leg's own last
digit if finer) and the last lot gets the exact remainder, so the new lots add
up exactly to the quantity received; a share below 1e-24 passes its cost on
to the next lot.  A move that returns the same quantity keeps the lots as they
are.

Money (proceeds, cost, fees) runs at 50 significant digits in a private
decimal context (independent of whatever a caller set globally); it is not
rounded otherwise inside the engine.  Fiat is quantized to cents (ROUND_HALF_UP) only for presentation, in
:mod:`portfolios.tax.reports`; year totals are sums of full-precision values
quantized once, so they are right to the cent (a column of individually
rounded rows may differ from the rounded total by a few cents, as on any
broker statement).  Values carry up to 50 significant digits: re-add them
under a context of at least that precision (or use ``YearTotals``), since
Python's default 28 digits can turn three thirds of 1 into 0.999...
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    InvalidOperation,
    Overflow,
    localcontext,
)

from .years import (
    JURISDICTIONS,
    month_of,
    normalize_tax_year,
    one_year_after,
    tax_year_of,
    zone,
)

ZERO = Decimal(0)
ONE = Decimal(1)
PRECISION = 50
# Quantities re-denominated pro rata (a non-taxable LP/staking move whose
# receipt quantity differs from what went in) are cut to this exponent - far
# finer than any token's smallest unit (1e-18) - or to the receipt leg's own
# exponent when that is finer; the last piece takes the exact remainder.
RESCALE_EXPONENT = -24

# Quantities are only ever added, subtracted and compared (the one division,
# re-denomination, goes through ``rescale``), so they are kept exact: this
# context never rounds (its precision is unbounded) and is used for every
# running quantity total, so a store's ``held`` is always exactly the sum of
# its lots and a "sell everything" always finds exactly what it asks for.
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation],
)
qadd = _EXACT.add
qsub = _EXACT.subtract


def rescale(quantities: list[Decimal], total: Decimal, target: Decimal) -> list[Decimal]:
    """Re-denominate pieces: ``quantities`` (positive, summing exactly to
    ``total``) become quantities summing **exactly** to ``target``.

    Each piece but the last is ``q * target / total`` rounded *down* (exactly,
    in integer arithmetic) to ``10**min(RESCALE_EXPONENT, exponent of
    target)``; the last piece takes the remainder.  Rounding down keeps every
    earlier share at or below its exact value, so the remainder is at least the
    last piece's exact share: always > 0.  An earlier piece may come out 0 (a
    share below the quantum); the caller must carry its cost to another piece.
    """
    if len(quantities) == 1:
        return [target]
    exponent = min(RESCALE_EXPONENT, target.as_tuple().exponent)
    scale = -exponent
    divide_int = _EXACT.divide_int
    out = []
    used = ZERO
    for q in quantities[:-1]:
        units = divide_int(_EXACT.multiply(q, target).scaleb(scale, _EXACT), total)
        part = units.scaleb(exponent, _EXACT)
        out.append(part)
        used = qadd(used, part)
    out.append(qsub(target, used))
    return out


KINDS = frozenset(
    {
        "buy",
        "sell",
        "swap",
        "lp_deposit",
        "lp_withdraw",
        "stake",
        "unstake",
        "reward",
        "fee",
        "transfer_in",
        "transfer_out",
    }
)
INCOME_TYPES = frozenset({"staking", "liquidity_mining", "lp_fees", "interest", "airdrop", "mining", "other"})
METHODS = ("fifo", "lifo", "hifo", "average", "uk")
LP_TREATMENTS = ("nontaxable", "disposal")
DEFAULT_FIAT_CODES = frozenset(
    {
        "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SGD", "HKD", "SEK", "NOK", "DKK",
        "PLN", "CZK", "HUF", "INR", "KRW", "BRL", "MXN", "ZAR", "TRY", "ILS", "CNY",
    }
)  # fmt: skip
VARIOUS = "various"

_EXCHANGE_KINDS = frozenset({"buy", "sell", "swap"})
_POSITION_KINDS = frozenset({"lp_deposit", "lp_withdraw", "stake", "unstake"})


# --------------------------------------------------------------------------- errors


class TaxEngineError(Exception):
    """Base class of every error the engine raises on bad data."""


class InvalidTransaction(TaxEngineError, ValueError):
    def __init__(self, ref: str, message: str):
        self.ref = ref
        super().__init__(f"transaction {ref}: {message}")


class MissingFiatValue(TaxEngineError, ValueError):
    def __init__(self, ref: str, asset: str, why: str = ""):
        self.ref = ref
        self.asset = asset
        super().__init__(f"transaction {ref}: the {asset} leg needs a fiat_value{' ' + why if why else ''}")


class InsufficientHoldings(TaxEngineError):
    """Raised instead of ever inventing a zero-cost lot."""

    def __init__(self, ref: str, asset: str, requested: Decimal, available: Decimal, detail: str = ""):
        self.ref = ref
        self.asset = asset
        self.requested = requested
        self.available = available
        self.shortfall = qsub(requested, available)
        super().__init__(
            f"transaction {ref}: cannot dispose of {_plain(requested)} {asset}: only {_plain(available)} held, "
            f"shortfall {_plain(self.shortfall)} {asset}{' (' + detail + ')' if detail else ''}"
        )


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- input


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__} ({value!r})")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class LegIn:
    asset: str
    quantity: Decimal  # signed: + received, - sent
    fiat_value: Decimal | None = None  # absolute value in the user's fiat at that moment
    is_fee: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.asset, str) or not self.asset.strip():
            raise ValueError("leg asset must be a non-empty string")
        if self.asset != self.asset.strip():
            object.__setattr__(self, "asset", self.asset.strip())
        object.__setattr__(self, "quantity", _decimal(self.quantity, "quantity"))
        if self.fiat_value is not None:
            value = _decimal(self.fiat_value, "fiat_value")
            if value < 0:
                raise ValueError(f"fiat_value is an absolute value and cannot be negative ({value})")
            object.__setattr__(self, "fiat_value", value)
        if not isinstance(self.is_fee, bool):
            raise TypeError("is_fee must be a bool")


@dataclass(frozen=True, slots=True)
class TxIn:
    ref: str
    occurred_at: datetime  # aware
    kind: str
    legs: tuple[LegIn, ...]
    income_type: str | None = None
    position: str | None = None  # LP / farm / validator position key (rewards summary, synthetic assets)

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref:
            raise ValueError("ref must be a non-empty string")
        if not isinstance(self.occurred_at, datetime):
            raise InvalidTransaction(self.ref, "occurred_at must be a datetime")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise InvalidTransaction(self.ref, "occurred_at must be timezone-aware")
        if self.kind not in KINDS:
            raise InvalidTransaction(self.ref, f"unknown kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if not isinstance(self.legs, tuple):
            object.__setattr__(self, "legs", tuple(self.legs))
        for leg in self.legs:
            if not isinstance(leg, LegIn):
                raise InvalidTransaction(self.ref, f"legs must be LegIn, got {type(leg).__name__}")
        if self.kind == "reward":
            if self.income_type is None:
                object.__setattr__(self, "income_type", "other")
            elif self.income_type not in INCOME_TYPES:
                raise InvalidTransaction(
                    self.ref, f"unknown income_type {self.income_type!r}; expected one of {sorted(INCOME_TYPES)}"
                )
        elif self.income_type is not None:
            raise InvalidTransaction(self.ref, f"income_type is only for rewards, not for a {self.kind}")
        if self.position is not None and (not isinstance(self.position, str) or not self.position):
            raise InvalidTransaction(self.ref, "position must be a non-empty string or None")


@dataclass(frozen=True)
class TaxSettings:
    method: str = "fifo"  # fifo | lifo | hifo | average | uk
    jurisdiction: str = "us"  # us | uk | other
    timezone: str = "UTC"  # zoneinfo name used to cut days, months and tax years
    lp_treatment: str = "nontaxable"  # nontaxable | disposal
    fiat_currency: str = "USD"  # the user's fiat: fiat_value is expressed in it
    fiat_codes: frozenset[str] = DEFAULT_FIAT_CODES

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; expected one of {METHODS}")
        if self.jurisdiction not in JURISDICTIONS:
            raise ValueError(f"unknown jurisdiction {self.jurisdiction!r}; expected one of {JURISDICTIONS}")
        if self.lp_treatment not in LP_TREATMENTS:
            raise ValueError(f"unknown lp_treatment {self.lp_treatment!r}; expected one of {LP_TREATMENTS}")
        zone(self.timezone)  # raises for an unknown zone
        codes = frozenset(self.fiat_codes) | {self.fiat_currency}
        object.__setattr__(self, "fiat_codes", codes)

    @classmethod
    def uk(cls, **overrides: object) -> TaxSettings:
        """HMRC defaults: share pooling, Europe/London, GBP."""
        base: dict[str, object] = {
            "method": "uk",
            "jurisdiction": "uk",
            "timezone": "Europe/London",
            "fiat_currency": "GBP",
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class Disposal:
    asset: str
    quantity: Decimal
    acquired: date | str  # acquisition date, or "various" (pools / average cost)
    disposed: date
    proceeds: Decimal  # net of the fee share in ``fee``
    cost_basis: Decimal
    gain: Decimal
    term: str | None  # "short" | "long" | None (UK: no holding-period split)
    tx_ref: str  # UK: the day's disposal refs joined with ","
    tax_year: str
    rule: str  # fifo/lifo/hifo/average or same-day/bed-and-breakfast/section-104
    fee: Decimal = ZERO  # part of the proceeds used up by fees (already deducted)
    acquired_at: datetime | None = None
    disposed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncomeEvent:
    income_type: str
    asset: str
    quantity: Decimal
    fair_market_value: Decimal  # at receipt, in the user's fiat; also the new lot's cost
    tx_ref: str
    occurred_at: datetime
    received: date  # local date
    tax_year: str
    position: str | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    asset: str
    quantity: Decimal
    cost_basis: Decimal
    acquired: date | str  # or "various"
    acquired_at: datetime | None = None
    tx_ref: str = ""


@dataclass(frozen=True)
class YearTotals:
    tax_year: str
    proceeds: Decimal = ZERO
    cost_basis: Decimal = ZERO
    gain: Decimal = ZERO
    gain_short: Decimal = ZERO
    gain_long: Decimal = ZERO
    gain_no_term: Decimal = ZERO  # UK / rules without a holding-period split
    disposal_fees: Decimal = ZERO  # fees already deducted from proceeds
    fees_unallocated: Decimal = ZERO  # fees neither deducted nor capitalised
    disposal_count: int = 0
    income_total: Decimal = ZERO
    income_by_type: dict[str, Decimal] = field(default_factory=dict)
    income_by_month: dict[str, Decimal] = field(default_factory=dict)
    income_by_asset: dict[str, Decimal] = field(default_factory=dict)
    gain_by_month: dict[str, Decimal] = field(default_factory=dict)
    gain_by_asset: dict[str, Decimal] = field(default_factory=dict)
    proceeds_by_asset: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class TaxReport:
    settings: TaxSettings
    tax_years: tuple[str, ...]
    disposals: tuple[Disposal, ...]
    income: tuple[IncomeEvent, ...]
    totals: dict[str, YearTotals]
    lots_at_year_end: dict[str, tuple[Lot, ...]]
    in_transit: dict[str, Decimal]
    warnings: tuple[str, ...]

    def year(self, tax_year: str | int) -> YearTotals:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return self.totals.get(label) or YearTotals(label)

    def disposals_in(self, tax_year: str | int) -> list[Disposal]:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return [d for d in self.disposals if d.tax_year == label]

    def income_in(self, tax_year: str | int) -> list[IncomeEvent]:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return [e for e in self.income if e.tax_year == label]

    def lots_at_end_of(self, tax_year: str | int) -> tuple[Lot, ...]:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        if label in self.lots_at_year_end:
            return self.lots_at_year_end[label]
        earlier = [y for y in self.lots_at_year_end if y < label]
        return self.lots_at_year_end[max(earlier)] if earlier else ()


# --------------------------------------------------------------------------- normalisation
#
# Each TxIn becomes a short list of primitive operations, all quantities
# positive.  The lot methods consume them as they stream; the UK module
# normalises everything first (the 30-day rule looks ahead).

OP_DISPOSE = 0  # (op, asset, qty, proceeds, fee)
OP_ACQUIRE = 1  # (op, asset, qty, cost, income_type | None, fmv | None)
OP_FIAT_INCOME = 2  # (op, asset, qty, fmv, income_type)
OP_MOVE_OUT = 3  # (op, asset, qty, slot)
OP_MOVE_IN = 4  # (op, asset, qty, slot, share, fee_add, preserve, last)
OP_CHECK = 5  # (op, asset, qty)   holdings must cover a transfer_out
OP_UNALLOCATED_FEE = 6  # (op, amount)


def _allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` by ``weights``; the last share takes the remainder so the
    parts add up exactly."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        weights = [ONE] * len(weights)
        weight_sum = Decimal(len(weights))
    parts = []
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
    def ops(self, tx: TxIn) -> list[tuple]:
        kind = tx.kind
        home = self.home
        fiat = self.fiat
        t_out: list[LegIn] = []
        t_in: list[LegIn] = []
        fee_tokens: list[tuple[str, Decimal, Decimal]] = []
        fiat_in_legs: list[tuple[LegIn, Decimal]] = []
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
                    fee_tokens.append((asset, q.copy_negate(), v))
                continue
            if is_fiat:
                v = abs(q) if asset == home else self._value(tx, leg, "(foreign fiat)")
                if q < 0:
                    fiat_out += v
                    has_fiat_out = True
                else:
                    fiat_in += v
                    has_fiat_in = True
                    fiat_in_legs.append((leg, v))
            elif q < 0:
                t_out.append(leg)
            else:
                t_in.append(leg)

        if kind in _EXCHANGE_KINDS:
            ops = self._exchange(tx, t_out, t_in, fiat_out, fiat_in, has_fiat_out, has_fiat_in, fee_value)
        elif kind == "reward":
            ops = self._reward(tx, t_out, t_in, has_fiat_out, fiat_in_legs, fee_value)
        elif kind in _POSITION_KINDS:
            if has_fiat_in or has_fiat_out:
                raise InvalidTransaction(tx.ref, f"a {kind} cannot carry fiat legs (other than fees)")
            if self.nontaxable:
                ops = self._position_nontaxable(tx, t_out, t_in, fee_value)
            else:
                ops = self._position_disposal(tx, t_out, t_in, fee_value)
        elif kind == "transfer_out":
            if t_in:
                raise InvalidTransaction(tx.ref, "a transfer_out cannot receive tokens")
            ops = []
            transit = self.in_transit
            for leg in t_out:
                q = leg.quantity.copy_negate()
                ops.append((OP_CHECK, leg.asset, q))
                transit[leg.asset] = qadd(transit.get(leg.asset, ZERO), q)
            if fee_value:
                ops.append((OP_UNALLOCATED_FEE, fee_value))
        elif kind == "transfer_in":
            ops = self._transfer_in(tx, t_out, t_in, fee_value)
        else:  # fee
            if t_in or has_fiat_in:
                raise InvalidTransaction(tx.ref, "a fee transaction cannot receive anything")
            ops = [(OP_UNALLOCATED_FEE, fee_value)] if fee_value else []
        for asset, q, v in fee_tokens:
            ops.append((OP_DISPOSE, asset, q, v, ZERO))
        return ops

    def _exchange(self, tx, t_out, t_in, fiat_out, fiat_in, has_fiat_out, has_fiat_in, fee_value):
        # fast paths for the three everyday shapes (same results as the general code below)
        n_out = len(t_out)
        n_in = len(t_in)
        if n_out == 0 and n_in == 1 and has_fiat_out and not has_fiat_in:  # fiat -> token
            leg = t_in[0]
            return [(OP_ACQUIRE, leg.asset, leg.quantity, fiat_out + fee_value, None, None)]
        if n_out == 1 and n_in == 0 and has_fiat_in and not has_fiat_out:  # token -> fiat
            leg = t_out[0]
            return [(OP_DISPOSE, leg.asset, leg.quantity.copy_negate(), fiat_in - fee_value, fee_value)]
        if n_out == 1 and n_in == 1 and not has_fiat_in and not has_fiat_out:  # token -> token
            out_leg = t_out[0]
            in_leg = t_in[0]
            value = in_leg.fiat_value
            if value is None:
                value = self._value(tx, out_leg, "(nothing else prices this swap)")
            return [
                (OP_DISPOSE, out_leg.asset, out_leg.quantity.copy_negate(), value - fee_value, fee_value),
                (OP_ACQUIRE, in_leg.asset, in_leg.quantity, value, None, None),
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
            basis = sum((leg.fiat_value for leg in t_in), ZERO)
        else:
            basis = sum((self._value(tx, leg, "(nothing else prices this swap)") for leg in t_out), ZERO)
        ops: list[tuple] = []
        if t_out:
            proceeds = basis - fiat_out - fee_value
            weights = self._weights(tx, t_out, "(to share proceeds between several assets)")
            parts = _allocate(proceeds, weights)
            fees = _allocate(fee_value, weights) if fee_value else None
            for i, leg in enumerate(t_out):
                ops.append((OP_DISPOSE, leg.asset, leg.quantity.copy_negate(), parts[i], fees[i] if fees else ZERO))
        if t_in:
            cost = basis - fiat_in + (ZERO if t_out else fee_value)
            weights = self._weights(tx, t_in, "(to share cost between several assets)")
            for leg, part in zip(t_in, _allocate(cost, weights), strict=True):
                ops.append((OP_ACQUIRE, leg.asset, leg.quantity, part, None, None))
        return ops

    def _reward(self, tx, t_out, t_in, has_fiat_out, fiat_in_legs, fee_value):
        if t_out or has_fiat_out:
            raise InvalidTransaction(tx.ref, "a reward cannot send anything except fee legs")
        if not t_in and not fiat_in_legs:
            raise InvalidTransaction(tx.ref, "a reward must receive something")
        if len(t_in) == 1 and not fiat_in_legs and not fee_value:
            leg = t_in[0]
            value = self._value(tx, leg, "(income is its fair market value at receipt)")
            return [(OP_ACQUIRE, leg.asset, leg.quantity, value, tx.income_type, value)]
        ops: list[tuple] = []
        if t_in:
            values = [self._value(tx, leg, "(income is its fair market value at receipt)") for leg in t_in]
            fees = _allocate(fee_value, values) if fee_value else None
            for i, leg in enumerate(t_in):
                cost = values[i] + fees[i] if fees else values[i]
                ops.append((OP_ACQUIRE, leg.asset, leg.quantity, cost, tx.income_type, values[i]))
        elif fee_value:
            ops.append((OP_UNALLOCATED_FEE, fee_value))
        for leg, value in fiat_in_legs:
            ops.append((OP_FIAT_INCOME, leg.asset, leg.quantity, value, tx.income_type))
        return ops

    def _transfer_in(self, tx, t_out, t_in, fee_value):
        if t_out:
            raise InvalidTransaction(tx.ref, "a transfer_in cannot send tokens (except fee legs)")
        ops: list[tuple] = []
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
                ops.append((OP_ACQUIRE, leg.asset, rest, cost + fees[i] if fees else cost, None, None))
        elif fee_value:
            ops.append((OP_UNALLOCATED_FEE, fee_value))
        return ops

    def _position_nontaxable(self, tx, t_out, t_in, fee_value):
        ops: list[tuple] = []
        if t_out and t_in:
            for leg in t_out:
                ops.append((OP_MOVE_OUT, leg.asset, leg.quantity.copy_negate(), 0))
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
                    (OP_MOVE_IN, leg.asset, leg.quantity, 0, shares[i], fees[i] if fees else ZERO, preserve, i == last)
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
                ops.append((OP_MOVE_OUT, leg.asset, q, i))
                ops.append((OP_MOVE_IN, synthetic, q, i, ONE, fees[i] if fees else ZERO, True, True))
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
                    ops.append((OP_MOVE_OUT, synthetic, matched, i))
                    ops.append((OP_MOVE_IN, leg.asset, matched, i, ONE, fee - fee_rest, True, True))
                if rest:
                    value = self._value(tx, leg, f"(more {leg.asset} came back than was put into {synthetic})")
                    self.warnings.append(
                        f"transaction {tx.ref}: {_plain(rest)} {leg.asset} returned beyond the {_plain(matched)} "
                        f"held in {synthetic}; treated as an acquisition at its fiat value"
                    )
                    ops.append((OP_ACQUIRE, leg.asset, rest, value * rest / q + fee_rest, None, None))
            return ops
        raise InvalidTransaction(tx.ref, f"a {tx.kind} needs at least one non-fiat leg")

    def _position_disposal(self, tx, t_out, t_in, fee_value):
        if t_out and t_in:
            return self._exchange(tx, t_out, t_in, ZERO, ZERO, False, False, fee_value)
        ops: list[tuple] = []
        if t_out:
            values = [self._value(tx, leg, "(lp_treatment='disposal' disposes at market value)") for leg in t_out]
            fees = _allocate(fee_value, values) if fee_value else None
            for i, leg in enumerate(t_out):
                q = leg.quantity.copy_negate()
                fee = fees[i] if fees else ZERO
                synthetic = self.synthetic(leg.asset, tx)
                ops.append((OP_DISPOSE, leg.asset, q, values[i] - fee, fee))
                ops.append((OP_ACQUIRE, synthetic, q, values[i], None, None))
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
                        f"transaction {tx.ref}: {_plain(qsub(q, matched))} {leg.asset} returned beyond the "
                        f"{_plain(matched)} held in {synthetic}; treated as an acquisition at its fiat value"
                    )
            if disposals:
                fees = _allocate(fee_value, [p for _, _, p in disposals]) if fee_value else None
                for i, (synthetic, matched, proceeds) in enumerate(disposals):
                    fee = fees[i] if fees else ZERO
                    ops.append((OP_DISPOSE, synthetic, matched, proceeds - fee, fee))
                costs = values
            else:
                costs = (
                    [v + f for v, f in zip(values, _allocate(fee_value, values), strict=True)] if fee_value else values
                )
            for leg, cost in zip(t_in, costs, strict=True):
                ops.append((OP_ACQUIRE, leg.asset, leg.quantity, cost, None, None))
            return ops
        raise InvalidTransaction(tx.ref, f"a {tx.kind} needs at least one non-fiat leg")


# --------------------------------------------------------------------------- lot stores
#
# A lot / piece is a list [qty, cost, acquired_at, acquired_date, long_after, ref]
# where long_after is the anniversary date: disposals strictly after it are
# long term.
#
# Every quantity operation goes through ``qadd`` / ``qsub`` (exact), so for
# each asset ``held`` is exactly the sum of the lots (layers) in the store:
# the ``qty > held`` check made before every ``take`` is the whole solvency
# test, and a ``take`` of up to ``held`` always finds enough lots.


class LotsOutOfStep(RuntimeError):
    """An internal invariant broke: a store's lots add up to less than its
    ``held`` total.  Never expected (quantities are exact); raised instead of a
    bare ``IndexError`` so that a bug cannot pass for an oversell or crash
    somewhere obscure."""

    def __init__(self, asset: str, missing: Decimal):
        super().__init__(f"tax engine bug: the {asset} lots ran out {_plain(missing)} {asset} short of the held total")


class _Store:
    def __init__(self) -> None:
        self.held: dict[str, Decimal] = {}

    def _pieces_from(self, asset: str, qty: Decimal) -> list[list]:  # pragma: no cover - interface
        raise NotImplementedError

    def take(self, asset: str, qty: Decimal) -> list[list]:
        """Remove ``qty`` (the caller checked ``qty <= held``); the pieces'
        quantities add up exactly to ``qty``."""
        pieces = self._pieces_from(asset, qty)
        held = qsub(self.held[asset], qty)
        if held:
            self.held[asset] = held
        else:
            del self.held[asset]
        return pieces


def _take_lots(lots: list | deque, asset: str, qty: Decimal, pick, drop) -> list[list]:
    """Consume lots in the order ``pick`` gives (``pick(lots)`` is the next lot,
    ``drop(lots)`` removes it); the last one touched may be split."""
    pieces = []
    remaining = qty
    try:
        while remaining:
            lot = pick(lots)
            lot_qty = lot[0]
            if lot_qty <= remaining:
                drop(lots)
                pieces.append(lot)
                remaining = qsub(remaining, lot_qty)
            else:
                cost = lot[1] * remaining / lot_qty
                pieces.append([remaining, cost, lot[2], lot[3], lot[4], lot[5]])
                lot[0] = qsub(lot_qty, remaining)
                lot[1] -= cost
                break
    except IndexError:
        raise LotsOutOfStep(asset, remaining) from None
    return pieces


def _first(lots):
    return lots[0]


def _last(lots):
    return lots[-1]


def _heap_top(heap):
    return heap[0][2]


class FifoStore(_Store):
    def __init__(self) -> None:
        super().__init__()
        self.lots: dict[str, deque] = defaultdict(deque)

    def add(self, asset, qty, cost, acquired_at, acquired_date, long_after, ref):
        self.lots[asset].append([qty, cost, acquired_at, acquired_date, long_after, ref])
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)

    def _pieces_from(self, asset, qty):
        return _take_lots(self.lots[asset], asset, qty, _first, deque.popleft)

    def snapshot(self) -> list[Lot]:
        return [
            Lot(asset, lot[0], lot[1], lot[3], lot[2], lot[5])
            for asset in sorted(self.lots)
            for lot in self.lots[asset]
        ]


class LifoStore(FifoStore):
    def _pieces_from(self, asset, qty):
        return _take_lots(self.lots[asset], asset, qty, _last, deque.pop)


class HifoStore(_Store):
    """Highest unit cost first; ties go to the earliest acquired lot."""

    def __init__(self) -> None:
        super().__init__()
        self.heaps: dict[str, list] = defaultdict(list)
        self.seq = 0

    def add(self, asset, qty, cost, acquired_at, acquired_date, long_after, ref):
        self.seq += 1
        heapq.heappush(
            self.heaps[asset], (-(cost / qty), self.seq, [qty, cost, acquired_at, acquired_date, long_after, ref])
        )
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)

    def _pieces_from(self, asset, qty):
        return _take_lots(self.heaps[asset], asset, qty, _heap_top, heapq.heappop)

    def snapshot(self) -> list[Lot]:
        out = []
        for asset in sorted(self.heaps):
            for _, _, lot in sorted(self.heaps[asset], key=lambda item: item[1]):
                out.append(Lot(asset, lot[0], lot[1], lot[3], lot[2], lot[5]))
        return out


class AverageStore(_Store):
    """One pooled cost per asset.  Acquisition-date layers are kept in a heap
    (earliest first) only to split holding periods first-in-first-out."""

    def __init__(self) -> None:
        super().__init__()
        self.cost: dict[str, Decimal] = {}
        self.layers: dict[str, list] = defaultdict(list)
        self.seq = 0

    def add(self, asset, qty, cost, acquired_at, acquired_date, long_after, ref):
        self.seq += 1
        heapq.heappush(self.layers[asset], (acquired_at, self.seq, [qty, acquired_at, acquired_date, long_after]))
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)
        self.cost[asset] = self.cost.get(asset, ZERO) + cost

    def _pieces_from(self, asset, qty):
        held = self.held[asset]
        pool_cost = self.cost[asset]
        total_cost = pool_cost if qty == held else pool_cost * qty / held
        self.cost[asset] = pool_cost - total_cost
        heap = self.layers[asset]
        pieces = []
        remaining = qty
        used = ZERO
        try:
            while remaining:
                layer = heap[0][2]
                layer_qty = layer[0]
                take = layer_qty if layer_qty <= remaining else remaining
                if take == layer_qty:
                    heapq.heappop(heap)
                else:
                    layer[0] = qsub(layer_qty, take)
                remaining = qsub(remaining, take)
                cost = total_cost - used if not remaining else total_cost * take / qty
                used += cost
                pieces.append([take, cost, layer[1], layer[2], layer[3], ""])
        except IndexError:
            raise LotsOutOfStep(asset, remaining) from None
        return pieces

    def snapshot(self) -> list[Lot]:
        return [Lot(asset, self.held[asset], self.cost[asset], VARIOUS) for asset in sorted(self.held)]


_STORES = {"fifo": FifoStore, "lifo": LifoStore, "hifo": HifoStore, "average": AverageStore}


# --------------------------------------------------------------------------- running


class _Clock:
    """Per-transaction local date / tax year / month, cached by date."""

    def __init__(self, settings: TaxSettings):
        self.tz = zone(settings.timezone)
        self.utc = settings.timezone in ("UTC", "Etc/UTC")
        self.jurisdiction = settings.jurisdiction
        self._years: dict[date, str] = {}
        self._anniversaries: dict[date, date] = {}

    def local(self, moment: datetime) -> date:
        if self.utc and moment.tzinfo is UTC:
            return moment.date()
        return moment.astimezone(self.tz).date()

    def year(self, day: date) -> str:
        label = self._years.get(day)
        if label is None:
            label = self._years[day] = tax_year_of(day, self.jurisdiction)
        return label

    def anniversary(self, day: date) -> date:
        value = self._anniversaries.get(day)
        if value is None:
            value = self._anniversaries[day] = one_year_after(day)
        return value


def _sorted(transactions: Iterable[TxIn]) -> list[TxIn]:
    txs = list(transactions)
    for tx in txs:
        if not isinstance(tx, TxIn):
            raise TypeError(f"expected TxIn, got {type(tx).__name__}")
    txs.sort(key=lambda tx: tx.occurred_at)
    return txs


def compute(
    transactions: Iterable[TxIn],
    settings: TaxSettings | None = None,
    tax_year: str | int | None = None,
) -> TaxReport:
    """Run the whole ledger and report.

    With ``tax_year`` only that year's disposals, income and totals are built
    (the history before it is still processed - it decides the lots - and
    processing stops at the end of the year; UK matching looks 30 days past
    it).  Without it every year is reported.
    """
    settings = settings or TaxSettings()
    wanted = normalize_tax_year(tax_year, settings.jurisdiction) if tax_year is not None else None
    txs = _sorted(transactions)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        ctx.traps[FloatOperation] = True
        if settings.method == "uk":
            from .uk import run_uk  # local import: uk builds on this module

            return run_uk(txs, settings, wanted)
        return _run_lots(txs, settings, wanted)


def _run_lots(txs: list[TxIn], settings: TaxSettings, wanted: str | None) -> TaxReport:
    method = settings.method
    store = _STORES[method]()
    normalizer = Normalizer(settings)
    clock = _Clock(settings)
    with_term = settings.jurisdiction != "uk"
    average = method == "average"
    rule = method
    disposals: list[Disposal] = []
    income: list[IncomeEvent] = []
    unallocated: dict[str, Decimal] = defaultdict(lambda: ZERO)
    lots_at_year_end: dict[str, tuple[Lot, ...]] = {}
    years_seen: list[str] = []
    current_year: str | None = None
    held = store.held
    take = store.take
    add = store.add
    local = clock.local
    year_of = clock.year
    anniversary = clock.anniversary
    ops_of = normalizer.ops

    for tx in txs:
        moment = tx.occurred_at
        day = local(moment)
        year = year_of(day)
        if year != current_year:
            if current_year is not None and (wanted is None or current_year == wanted):
                lots_at_year_end[current_year] = tuple(store.snapshot())
            if wanted is not None and year > wanted:
                current_year = None
                break
            current_year = year
            years_seen.append(year)
        record = wanted is None or year == wanted
        ref = tx.ref
        carry: dict[int, list] = {}
        for op in ops_of(tx):
            code = op[0]
            if code == OP_DISPOSE:
                _, asset, qty, proceeds, fee = op
                available = held.get(asset, ZERO)
                if qty > available:
                    raise InsufficientHoldings(ref, asset, qty, available)
                pieces = take(asset, qty)
                if not record:
                    continue
                if average:
                    _record_average(disposals, pieces, asset, qty, proceeds, fee, day, moment, ref, year, with_term)
                    continue
                last = len(pieces) - 1
                used_p = used_f = ZERO
                for i, piece in enumerate(pieces):
                    pq = piece[0]
                    if not last:  # one lot: no split
                        p = proceeds
                        f = fee
                    elif i == last:
                        p = proceeds - used_p
                        f = fee - used_f
                    else:
                        p = proceeds * pq / qty
                        f = fee * pq / qty if fee else ZERO
                        used_p += p
                        used_f += f
                    cost = piece[1]
                    term = ("long" if day > piece[4] else "short") if with_term else None
                    disposals.append(
                        Disposal(
                            asset, pq, piece[3], day, p, cost, p - cost, term, ref, year, rule, f, piece[2], moment
                        )
                    )
            elif code == OP_ACQUIRE:
                _, asset, qty, cost, income_type, fmv = op
                add(asset, qty, cost, moment, day, anniversary(day), ref)
                if income_type is not None and record:
                    income.append(IncomeEvent(income_type, asset, qty, fmv, ref, moment, day, year, tx.position))
            elif code == OP_MOVE_OUT:
                _, asset, qty, slot = op
                available = held.get(asset, ZERO)
                if qty > available:
                    raise InsufficientHoldings(ref, asset, qty, available, f"moving it into {tx.kind}")
                pieces = take(asset, qty)
                moved = carry.get(slot)
                if moved is None:
                    carry[slot] = [pieces, qty, sum((p[1] for p in pieces), ZERO), ZERO]
                else:  # several assets into one position
                    moved[0] = moved[0] + pieces
                    moved[1] = qadd(moved[1], qty)
                    moved[2] += sum((p[1] for p in pieces), ZERO)
            elif code == OP_MOVE_IN:
                _, asset, qty, slot, share, fee_add, preserve, last = op
                pieces, out_qty, total, used = carry[slot]
                if preserve:
                    _redenominate(add, asset, pieces, out_qty, qty, fee_add)
                else:
                    part = total - used if last else total * share
                    carry[slot][3] = used + part
                    add(asset, qty, part + fee_add, moment, day, anniversary(day), ref)
            elif code == OP_CHECK:
                _, asset, qty = op
                available = held.get(asset, ZERO)
                if qty > available:
                    raise InsufficientHoldings(ref, asset, qty, available, "transfer_out")
            elif code == OP_FIAT_INCOME:
                _, asset, qty, fmv, income_type = op
                if record:
                    income.append(IncomeEvent(income_type, asset, qty, fmv, ref, moment, day, year, tx.position))
            elif code == OP_UNALLOCATED_FEE:
                unallocated[year] += op[1]
    if current_year is not None and (wanted is None or current_year == wanted):
        lots_at_year_end[current_year] = tuple(store.snapshot())
    if wanted is not None and wanted not in lots_at_year_end:
        # no transaction in the wanted year: the store stopped before the first
        # later one, so it holds exactly what was held at the year end
        lots_at_year_end[wanted] = tuple(store.snapshot())
    return build_report(settings, disposals, income, unallocated, lots_at_year_end, normalizer, wanted, years_seen)


def _redenominate(add, asset: str, pieces: list[list], out_qty: Decimal, qty: Decimal, fee_add: Decimal) -> None:
    """Non-taxable move of one asset into another: the ``pieces`` taken out
    (``out_qty`` in all) become lots of ``qty`` of ``asset``, each keeping its
    cost and dates, the new quantities summing exactly to ``qty`` (see
    :func:`rescale`); ``fee_add`` is shared pro rata, the last piece taking the
    remainder.  A piece whose share rounds to nothing (below 1e-24) hands its
    cost on to the next piece, so no cost is lost either."""
    if qty == out_qty:
        quantities = [piece[0] for piece in pieces]  # same quantity: the lots move unchanged
    else:
        quantities = rescale([piece[0] for piece in pieces], out_qty, qty)
    last = len(pieces) - 1
    used_f = ZERO
    carried = ZERO
    for i, piece in enumerate(pieces):
        cost = piece[1]
        if fee_add:
            if i == last:
                cost += fee_add - used_f
            else:
                nf = fee_add * piece[0] / out_qty
                used_f += nf
                cost += nf
        if carried:
            cost += carried
            carried = ZERO
        nq = quantities[i]
        if nq:
            add(asset, nq, cost, piece[2], piece[3], piece[4], piece[5])
        else:
            carried = cost
    # the last piece is never empty (rescale rounds earlier shares down), so nothing is left in ``carried``


def _record_average(disposals, pieces, asset, qty, proceeds, fee, day, moment, ref, year, with_term):
    """Average cost: at most one record per holding-period term, acquired 'various'."""
    groups: dict[str | None, list] = {}
    for piece in pieces:
        term = ("long" if day > piece[4] else "short") if with_term else None
        group = groups.get(term)
        if group is None:
            groups[term] = [piece[0], piece[1]]
        else:
            group[0] = qadd(group[0], piece[0])
            group[1] += piece[1]
    items = list(groups.items())
    used_p = used_f = ZERO
    for i, (term, (pq, cost)) in enumerate(items):
        if i == len(items) - 1:
            p = proceeds - used_p
            f = fee - used_f
        else:
            p = proceeds * pq / qty
            f = fee * pq / qty
            used_p += p
            used_f += f
        disposals.append(
            Disposal(asset, pq, VARIOUS, day, p, cost, p - cost, term, ref, year, "average", f, None, moment)
        )


def build_report(settings, disposals, income, unallocated, lots_at_year_end, normalizer, wanted, years_seen):
    """Totals are sums of the full-precision records (never of rounded ones)."""
    acc: dict[str, dict] = {}

    def bucket(year: str) -> dict:
        b = acc.get(year)
        if b is None:
            b = acc[year] = {
                "proceeds": ZERO,
                "cost": ZERO,
                "short": ZERO,
                "long": ZERO,
                "none": ZERO,
                "fees": ZERO,
                "count": 0,
                "income": ZERO,
                "income_type": defaultdict(lambda: ZERO),
                "income_month": defaultdict(lambda: ZERO),
                "income_asset": defaultdict(lambda: ZERO),
                "gain_month": defaultdict(lambda: ZERO),
                "gain_asset": defaultdict(lambda: ZERO),
                "proceeds_asset": defaultdict(lambda: ZERO),
            }
        return b

    months: dict[date, str] = {}
    for d in disposals:
        b = bucket(d.tax_year)
        b["proceeds"] += d.proceeds
        b["cost"] += d.cost_basis
        b["fees"] += d.fee
        b["count"] += 1
        term = d.term
        if term == "short":
            b["short"] += d.gain
        elif term == "long":
            b["long"] += d.gain
        else:
            b["none"] += d.gain
        month = months.get(d.disposed)
        if month is None:
            month = months[d.disposed] = month_of(d.disposed)
        b["gain_month"][month] += d.gain
        b["gain_asset"][d.asset] += d.gain
        b["proceeds_asset"][d.asset] += d.proceeds
    for e in income:
        b = bucket(e.tax_year)
        b["income"] += e.fair_market_value
        b["income_type"][e.income_type] += e.fair_market_value
        b["income_month"][month_of(e.received)] += e.fair_market_value
        b["income_asset"][e.asset] += e.fair_market_value
    for year in unallocated:
        if wanted is None or year == wanted:
            bucket(year)
    years = set(acc) | set(lots_at_year_end)
    if wanted is not None:
        years.add(wanted)
    else:
        years.update(years_seen)
    totals: dict[str, YearTotals] = {}
    for year in sorted(years):
        b = bucket(year)
        gain = b["short"] + b["long"] + b["none"]
        totals[year] = YearTotals(
            tax_year=year,
            proceeds=b["proceeds"],
            cost_basis=b["cost"],
            gain=gain,
            gain_short=b["short"],
            gain_long=b["long"],
            gain_no_term=b["none"],
            disposal_fees=b["fees"],
            fees_unallocated=unallocated.get(year, ZERO),
            disposal_count=b["count"],
            income_total=b["income"],
            income_by_type=dict(sorted(b["income_type"].items())),
            income_by_month=dict(sorted(b["income_month"].items())),
            income_by_asset=dict(sorted(b["income_asset"].items())),
            gain_by_month=dict(sorted(b["gain_month"].items())),
            gain_by_asset=dict(sorted(b["gain_asset"].items())),
            proceeds_by_asset=dict(sorted(b["proceeds_asset"].items())),
        )
    return TaxReport(
        settings=settings,
        tax_years=tuple(sorted(totals)),
        disposals=tuple(disposals),
        income=tuple(income),
        totals=totals,
        lots_at_year_end=lots_at_year_end,
        in_transit={k: v for k, v in sorted(normalizer.in_transit.items()) if v},
        warnings=tuple(normalizer.warnings),
    )
