"""The engine's vocabulary and records: what goes in, what comes out, what can go wrong.

Standard library and the ledger's pure modules only. The shared vocabulary
(transaction kinds, income types, fiat codes, LP receipt naming) is
``portfolios.ledger``'s and the input records (``TxIn``, ``LegIn``) are
``portfolios.records``', re-exported here; the engine's own words (methods,
LP treatments, jurisdictions) are defined here once. See the package
docstring for what each kind means to the tax rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from portfolios.ledger import DEPOSIT_KINDS, FIAT_CODES, LP_PREFIX, WITHDRAW_KINDS, TxKind
from portfolios.records import INCOME_TYPES, KINDS, InvalidTransaction, LedgerDataError, LegIn, TxIn

from .quantities import ZERO, plain, qsub
from .years import normalize_tax_year

__all__ = [
    "DEFAULT_FIAT_CODES",
    "EXCHANGE_KINDS",
    "INCOME_TYPES",
    "JURISDICTIONS",
    "KINDS",
    "LP_ASSET_PREFIX",
    "LP_TREATMENTS",
    "METHODS",
    "MISSING_BASIS_MODES",
    "POSITION_KINDS",
    "VARIOUS",
    "Disposal",
    "Gift",
    "IncomeEvent",
    "InsufficientHoldings",
    "InvalidTransaction",
    "LegIn",
    "Lot",
    "MissingFiatValue",
    "TaxEngineError",
    "TaxReport",
    "TaxSettings",
    "TxIn",
    "YearTotals",
]

METHODS = ("fifo", "lifo", "hifo", "average", "uk")
LP_TREATMENTS = ("nontaxable", "disposal")
#: What a disposal of more than is held does: ``error`` raises InsufficientHoldings,
#: ``zero`` gives the uncovered quantity a zero cost and lists it in ``TaxReport.missing_basis``.
MISSING_BASIS_MODES = ("error", "zero")
#: Fiat unless the settings say otherwise: the ledger's fiat codes.
DEFAULT_FIAT_CODES = FIAT_CODES
JURISDICTIONS = ("us", "uk", "other")
#: The acquired date of a pooled or averaged disposal, and of a pool's "lot".
VARIOUS = "various"
#: A position's LP receipt token is the asset "LP#<position id>" (``portfolios.ledger.lp_asset``).
LP_ASSET_PREFIX = LP_PREFIX

#: Kinds that dispose of what goes out and acquire what comes in.
EXCHANGE_KINDS = frozenset(k.value for k in (TxKind.BUY, TxKind.SELL, TxKind.SWAP))
#: Kinds that move assets into or out of a position (taxed by ``lp_treatment``).
POSITION_KINDS = frozenset(k.value for k in DEPOSIT_KINDS | WITHDRAW_KINDS)


# --------------------------------------------------------------------------- errors

#: Base class of every error the engine raises on bad data; the records' own
#: (``InvalidTransaction`` from building a ``TxIn`` is one too).
TaxEngineError = LedgerDataError


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
            f"transaction {ref}: cannot dispose of {plain(requested)} {asset}: only {plain(available)} held, "
            f"shortfall {plain(self.shortfall)} {asset}{' (' + detail + ')' if detail else ''}"
        )


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TaxSettings:
    method: str = "fifo"  # fifo | lifo | hifo | average | uk
    jurisdiction: str = "us"  # us | uk | other
    timezone: str = "UTC"  # zoneinfo name used to cut days, months and tax years
    lp_treatment: str = "nontaxable"  # nontaxable | disposal
    fiat_currency: str = "USD"  # the user's fiat: fiat_value is expressed in it
    fiat_codes: frozenset[str] = DEFAULT_FIAT_CODES
    missing_basis: str = "error"  # error | zero (see MISSING_BASIS_MODES)
    # From this local date, lots are tracked wallet by wallet (US rules: 2025-01-01); None: one pool.
    lots_per_wallet_from: date | None = None

    def __post_init__(self) -> None:
        if self.missing_basis not in MISSING_BASIS_MODES:
            raise ValueError(f"unknown missing_basis {self.missing_basis!r}; expected one of {MISSING_BASIS_MODES}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; expected one of {METHODS}")
        if self.jurisdiction not in JURISDICTIONS:
            raise ValueError(f"unknown jurisdiction {self.jurisdiction!r}; expected one of {JURISDICTIONS}")
        if self.lp_treatment not in LP_TREATMENTS:
            raise ValueError(f"unknown lp_treatment {self.lp_treatment!r}; expected one of {LP_TREATMENTS}")
        ZoneInfo(self.timezone)  # raises for an unknown zone (ZoneInfo caches it)
        if self.lots_per_wallet_from is not None and self.method == "uk":
            raise ValueError("lots per wallet apply to fifo, lifo, hifo and average; UK pooling has no lots")
        codes = frozenset(self.fiat_codes) | {self.fiat_currency}
        object.__setattr__(self, "fiat_codes", codes)

    @classmethod
    def uk(cls, **overrides: Any) -> TaxSettings:
        """HMRC defaults: share pooling, Europe/London, GBP."""
        base: dict[str, Any] = {
            "method": "uk",
            "jurisdiction": "uk",
            "timezone": "Europe/London",
            "fiat_currency": "GBP",
        }
        base.update(overrides)
        return cls(**base)


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True, init=False)
class Disposal:
    """One disposal record (a lot, or the part of one, matched to a disposal).

    Frozen like every output record, but with its own keyword-only
    ``__init__``: a report builds one per lot a disposal touches (26,000 in
    the benchmark's year), and dataclasses' generated frozen ``__init__``
    (``object.__setattr__`` per field) cost more than the rest of the
    record's handling.  This one stores each field through its slot's
    descriptor (``_DISPOSAL_SLOTS``); a new field must be added here too
    (test_records checks that every field is stored)."""

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

    def __init__(
        self,
        *,
        asset: str,
        quantity: Decimal,
        acquired: date | str,
        disposed: date,
        proceeds: Decimal,
        cost_basis: Decimal,
        gain: Decimal,
        term: str | None,
        tx_ref: str,
        tax_year: str,
        rule: str,
        fee: Decimal = ZERO,
        acquired_at: datetime | None = None,
        disposed_at: datetime | None = None,
    ) -> None:
        s = _DISPOSAL_SLOTS
        s.asset(self, asset)
        s.quantity(self, quantity)
        s.acquired(self, acquired)
        s.disposed(self, disposed)
        s.proceeds(self, proceeds)
        s.cost_basis(self, cost_basis)
        s.gain(self, gain)
        s.term(self, term)
        s.tx_ref(self, tx_ref)
        s.tax_year(self, tax_year)
        s.rule(self, rule)
        s.fee(self, fee)
        s.acquired_at(self, acquired_at)
        s.disposed_at(self, disposed_at)


class _SlotSetters:
    """``name(obj, value)`` sets a slot of a frozen slotted dataclass directly."""

    def __init__(self, cls: type) -> None:
        for f in fields(cls):
            setattr(self, f.name, cls.__dict__[f.name].__set__)

    def __getattr__(self, name: str) -> Callable[[object, object], None]:  # pragma: no cover - typing only
        raise AttributeError(name)


@dataclass(frozen=True, slots=True, init=False)
class IncomeEvent:
    """A reward received: income at its fair market value.  Frozen, with a
    keyword-only ``__init__`` like ``Disposal`` (one per reward)."""

    income_type: str
    asset: str
    quantity: Decimal
    fair_market_value: Decimal  # at receipt, in the user's fiat; also the new lot's cost
    tx_ref: str
    occurred_at: datetime
    received: date  # local date
    tax_year: str
    position: str | None = None

    def __init__(
        self,
        *,
        income_type: str,
        asset: str,
        quantity: Decimal,
        fair_market_value: Decimal,
        tx_ref: str,
        occurred_at: datetime,
        received: date,
        tax_year: str,
        position: str | None = None,
    ) -> None:
        s = _INCOME_SLOTS
        s.income_type(self, income_type)
        s.asset(self, asset)
        s.quantity(self, quantity)
        s.fair_market_value(self, fair_market_value)
        s.tx_ref(self, tx_ref)
        s.occurred_at(self, occurred_at)
        s.received(self, received)
        s.tax_year(self, tax_year)
        s.position(self, position)


_DISPOSAL_SLOTS = _SlotSetters(Disposal)
_INCOME_SLOTS = _SlotSetters(IncomeEvent)


#: ``Gift.direction``: the user gave it, or received it.
GIVEN = "given"
RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class Gift:
    """A transfer categorised as a gift (``TxIn.category``), given or received, in the
    report's currency.

    Given: ``cost_basis`` is the cost that left the user's holdings with it (US: it carries to
    the recipient, IRC s.1015; UK spouse gift: the deemed proceeds, s.58). ``disposal`` says it
    is also a disposal at ``market_value`` (UK, not to a spouse: TCGA 1992 s.17), listed with
    the disposals. Received: ``cost_basis`` is the cost the new lot starts with (the value
    stated on the leg). ``market_value`` is the leg's value, None when unknown."""

    direction: str  # GIVEN | RECEIVED
    category: str  # portfolios.ledger.TxCategory: "gift" | "gift_spouse"
    asset: str
    quantity: Decimal
    cost_basis: Decimal
    market_value: Decimal | None
    tx_ref: str
    occurred_at: datetime
    tax_year: str
    disposal: bool = False


@dataclass(frozen=True, slots=True)
class Lot:
    asset: str
    quantity: Decimal
    cost_basis: Decimal
    acquired: date | str  # or "various"
    acquired_at: datetime | None = None
    tx_ref: str = ""


@dataclass(frozen=True, slots=True)
class MissingBasis:
    """A disposal (or a move into a position) of more than the ledger shows as
    held, computed with ``missing_basis="zero"``: the uncovered ``quantity`` got
    a zero cost basis (and, for the holding period, the disposal date as its
    acquisition date: short term, the stricter reading), so the gains of the
    report are overstated by at most that quantity's true cost.  The fix is to
    record the acquisition (a buy, reward or transfer in) before ``occurred_at``."""

    tx_ref: str
    asset: str
    quantity: Decimal  # uncovered: given a zero cost
    held: Decimal  # what the ledger showed as held at that moment
    occurred_at: datetime
    tax_year: str
    detail: str = ""  # e.g. "moving it into lp_deposit"


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
    #: Quantities disposed of with no recorded acquisition (``missing_basis="zero"``), in ledger order;
    #: empty in ``"error"`` mode. Any entry up to the end of a year makes that year's totals incomplete.
    missing_basis: tuple[MissingBasis, ...] = ()
    #: Transfers categorised as gifts (given and received), in ledger order.
    gifts: tuple[Gift, ...] = ()

    def gifts_in(self, tax_year: str | int) -> list[Gift]:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return [g for g in self.gifts if g.tax_year == label]

    def year(self, tax_year: str | int) -> YearTotals:
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return self.totals.get(label) or YearTotals(label)

    def missing_basis_until(self, tax_year: str | int) -> list[MissingBasis]:
        """Missing cost basis in this tax year or before it (earlier zero-cost lots may be sold this year)."""
        label = normalize_tax_year(tax_year, self.settings.jurisdiction)
        return [m for m in self.missing_basis if m.tax_year <= label]

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
