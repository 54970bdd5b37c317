"""Yieldledger's pure tax engine: lots, disposals, income and tax-year totals.

Standard library only, no Django (the rest of ``portfolios.tax`` is the
Django app around it).  The modules, in the order a transaction meets them:

``types``       the vocabulary (kinds, income types, methods, fiat codes, ...),
                the input and output records and the errors
``quantities``  exact quantity arithmetic and ``rescale``
``years``       tax years, local dates and anniversaries in the user's zone
``normalize``   each transaction -> primitive operations (the rules below)
``stores``      lot stores: FIFO, LIFO, HIFO, average cost
``uk``          UK share pooling (same day, 30 days, Section 104)
``totals``      year totals and the final report
``driver``      ``compute``: runs the ledger through a store or UK pooling
``reports``     presentation: rows and summaries rounded to cents

Every amount is a ``decimal.Decimal`` (a float anywhere raises
``TypeError``/``decimal.FloatOperation``) and every timestamp an aware
``datetime``.

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
Gifts (``TxIn.category`` on a transfer: ``gift``, or ``gift_spouse`` between spouses or civil partners)
    A gift is no move between one's own wallets: it never goes in transit and is never
    matched with a transfer.  Every gift is listed in ``TaxReport.gifts`` (given or received,
    with the cost basis that left or arrived and the market value when the leg has one).

    * **given** (``transfer_out``), US and ``other``: not a disposal (a gift, IRC s.102 /
      s.1015; between spouses, s.1041).  The lots leave the holdings by the chosen method
      (FIFO, ...); their cost and dates carry to the recipient.  Not on Form 8949.
    * **given**, UK, ``gift``: a disposal at market value (TCGA 1992 s.17: not a bargain at
      arm's length): proceeds = the leg's ``fiat_value`` (required; a fee reduces them),
      matched by the usual rules (same day, 30 days, Section 104) and counted like any
      disposal.
    * **given**, UK, ``gift_spouse``: no gain and no loss (TCGA 1992 s.58).  The tokens are
      matched by the usual rules and leave at their allowable cost; no disposal is recorded
      (nothing in the SA108 figures).
    * **received** (``transfer_in``): an acquisition at the leg's ``fiat_value`` (required;
      UK: the market value, s.17).  A US recipient's basis is really the giver's (s.1015),
      which the data does not show: state it as the leg's value.
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
:mod:`.uk`: same-day rule, then the 30-day "bed and breakfast"
rule, then the Section 104 pool; all acquisitions (and all disposals) of an
asset on one day count as one.  Lot selection uses deques (FIFO), stacks
(LIFO) and heaps (HIFO, average layers): O(log n) per lot touched.

Holding period (US, and "other" for information): long term when held *more
than one year*: disposed strictly after the anniversary of the acquisition
date, dates in the user's timezone (acquired 2023-03-01: disposed 2024-03-01
is short, 2024-03-02 is long; 29 Feb anniversaries fall on 28 Feb).  The UK
has no such split: ``term`` is ``None``.

Tax years are cut on the local date in ``TaxSettings.timezone``: calendar
years for ``us``/``other``, 6 April - 5 April for ``uk`` (see :mod:`.years`).

Errors
======
Disposing of (or moving, or transferring out) more than is held raises
:class:`InsufficientHoldings` naming the transaction ref, the asset and the
shortfall - by default (``TaxSettings.missing_basis="error"``) the engine
never invents a zero-cost lot.  With ``missing_basis="zero"`` (what the web
report uses; tax tools call it "missing cost basis") the uncovered quantity is
disposed of (or moved) at a zero cost, dated the day of the disposal (short
term), and each case is listed in ``TaxReport.missing_basis`` so the report
can show its totals as incomplete.  A ``transfer_out`` of more than is held
is then let through silently (it is not taxable; the later disposal is listed).  A value the rules need
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
returns a different quantity (2.49 LP -> 2.50 ETH), is :func:`.quantities.rescale`: each
lot's share is rounded *down* to 1e-24 (or to the receipt leg's own last
digit if finer) and the last lot gets the exact remainder, so the new lots add
up exactly to the quantity received; a share below 1e-24 passes its cost on
to the next lot.  A move that returns the same quantity keeps the lots as they
are.

Money (proceeds, cost, fees) runs at 50 significant digits in a private
decimal context (independent of whatever a caller set globally); it is not
rounded otherwise inside the engine.  Fiat is quantized to cents (ROUND_HALF_UP) only for presentation, in
:mod:`.reports`; year totals are sums of full-precision values
quantized once, so they are right to the cent (a column of individually
rounded rows may differ from the rounded total by a few cents, as on any
broker statement).  Values carry up to 50 significant digits: re-add them
under a context of at least that precision (or use ``YearTotals``), since
Python's default 28 digits can turn three thirds of 1 into 0.999...
"""

from .driver import compute
from .quantities import ZERO, qadd, qsub, rescale
from .reports import (
    RewardSummaryRow,
    cents,
    disposal_rows,
    income_rows,
    lot_rows,
    rewards_summary,
    rewards_totals,
    year_summary,
)
from .types import (
    DEFAULT_FIAT_CODES,
    INCOME_TYPES,
    JURISDICTIONS,
    KINDS,
    LP_ASSET_PREFIX,
    LP_TREATMENTS,
    METHODS,
    MISSING_BASIS_MODES,
    VARIOUS,
    Disposal,
    Gift,
    IncomeEvent,
    InsufficientHoldings,
    InvalidTransaction,
    LegIn,
    Lot,
    MissingBasis,
    MissingFiatValue,
    TaxEngineError,
    TaxReport,
    TaxSettings,
    TxIn,
    YearTotals,
)
from .years import is_long_term, local_date, normalize_tax_year, tax_year_bounds, tax_year_of

__all__ = [
    "DEFAULT_FIAT_CODES",
    "INCOME_TYPES",
    "JURISDICTIONS",
    "KINDS",
    "LP_ASSET_PREFIX",
    "LP_TREATMENTS",
    "METHODS",
    "MISSING_BASIS_MODES",
    "VARIOUS",
    "ZERO",
    "Disposal",
    "Gift",
    "IncomeEvent",
    "InsufficientHoldings",
    "InvalidTransaction",
    "LegIn",
    "Lot",
    "MissingBasis",
    "MissingFiatValue",
    "RewardSummaryRow",
    "TaxEngineError",
    "TaxReport",
    "TaxSettings",
    "TxIn",
    "YearTotals",
    "cents",
    "compute",
    "disposal_rows",
    "income_rows",
    "is_long_term",
    "local_date",
    "lot_rows",
    "normalize_tax_year",
    "qadd",
    "qsub",
    "rescale",
    "rewards_summary",
    "rewards_totals",
    "tax_year_bounds",
    "tax_year_of",
    "year_summary",
]
