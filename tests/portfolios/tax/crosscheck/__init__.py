"""Cross-check Yieldledger's tax engine against rp2 (US: FIFO/LIFO/HIFO) and
BittyTax (UK: same-day / 30-day / Section 104 pooling).

    .venv/bin/python -m benchmarks.tax_crosscheck [--transactions 600] [--seed 7]

Helpers of the tests (tests/portfolios/tax/engine/test_crosscheck.py) and of
the benchmarks: ``ledger`` generates the seeded ledger, ``to_rp2`` and
``to_bittytax`` give it to each tool (run in a subprocess by ``worker``),
``compare`` runs them and compares the totals.

A seeded ledger (buys, sells, swaps, rewards of every income type, gas-only
fee transactions, fiat and token fees, own-wallet transfers, an unmatched
transfer_in and single-asset LP deposits/withdrawals) is converted to each
tool's own input; each tool runs as a library inside a subprocess whose
working directory and HOME are a fresh temporary directory (rp2 writes logs
to ./log, BittyTax reads ~/.bittytax/bittytax.conf; both also change the
process-wide decimal context, which the subprocess keeps away from us).
Per tax year the totals must agree **to the cent**.

Where the engines differ by design, and how the comparison accounts for it
--------------------------------------------------------------------------
* US holding period.  Ours: long term when disposed *strictly after the
  calendar anniversary* of the acquisition date (IRS "more than one year").
  rp2: ``(disposed_at - acquired_at).days >= 365``, i.e. 365 elapsed 24-hour
  days.  They differ for a disposal on the anniversary date itself (rp2: long
  once 365 days have elapsed by the clock; ours: short) and across a
  29 February (a lot held exactly one calendar year, 366 days, is long for
  rp2, short for us).  We therefore compare the short/long split under rp2's
  rule (our disposals carry both timestamps) and print how many disposals our
  stricter rule classifies differently.  Totals (proceeds, cost, gain,
  income) are unaffected.
* rp2's HIFO orders lots by the *spot price* of the acquisition; ours by unit
  cost basis (cost incl. fees / quantity).  We hand rp2 ``spot_price = unit
  cost`` (and the exact fiat amounts separately) so both orderings coincide.
* Fees.  Ours: a fiat or token fee reduces the proceeds of a disposal (or is
  added to the cost of an acquisition); a token fee is also a disposal of the
  token at its value.  rp2: a SELL gets ``fiat_out_no_fee = proceeds - fee``,
  a BUY gets ``fiat_fee``, the token is a separate FEE transaction 1 microsecond
  later (ours applies fee legs after the principal legs of the same
  transaction).  BittyTax reports gross proceeds and "fees" separately and
  splits crypto-to-crypto fees 50/50 by default; we configure
  ``trade_allowable_cost_type: 1`` (the fee belongs to the disposal, like us)
  and compare ``gain`` directly, ``proceeds`` with ``ours.proceeds +
  ours.disposal_fees`` and ``cost + fees`` with ``ours.cost + ours.disposal_fees``.
* Rounding.  BittyTax rounds every disposal's proceeds, cost and fees to the
  penny before summing; we round only totals.  The comparison patches
  BittyTax's per-event precision to 1e-15 so that both are full-precision
  sums; BittyTax's own penny-rounded totals are printed for information
  (they may differ from ours by a few pence - by design on our side).
* Rewards: rp2 treats an income lot's fee as income; BittyTax calls airdrops
  non-income.  The ledger therefore has no fees on rewards, and airdrops are
  given to BittyTax as ``Income``.  Our engine counts every reward kind as
  income at its fair market value in both jurisdictions.
* Own-wallet transfers are omitted for rp2 (it would need per-wallet set-up
  and they are non-taxable either way) and given to BittyTax as
  Withdrawal/Deposit (non-taxable, ``transfers_include: False``); a
  transfer_in without an earlier transfer_out is an acquisition at its value:
  rp2 BUY, BittyTax Gift-Received.
* rp2's HIFO is not always HIFO.  On some ledgers (e.g. ``--transactions
  1500 --seed 5``, and the 100,000-transaction benchmark ledger) rp2 stops
  using the remainder of a partly consumed lot and takes a cheaper one; on the
  benchmark ledger it finally raises "Total in-transaction crypto value <
  total taxable crypto value" although every running balance is positive.
  ``explain_hifo_mismatch`` replays rp2's own per-asset input through our
  engine, finds the first disposal where the two pick different lots and
  checks who broke the rule: in every case we found, our lot cost more per
  unit and still had quantity left - rp2's error (compare eprbell/rp2 issue
  #142, "Total in-transaction ... < total taxable" with HIFO).  ``main``
  prints these and counts them as explained, not as agreement.
* LP deposits/withdrawals: neither tool models them, so the cross-check runs
  our engine with ``lp_treatment="disposal"`` and gives the tools the
  equivalent trades.  The default "nontaxable" treatment is covered by unit
  tests only.
"""

from __future__ import annotations

from .compare import compare_uk, compare_us, explain_hifo_mismatch, ours_us, run_bittytax, run_rp2
from .ledger import cents, generate_ledger

__all__ = [
    "cents",
    "compare_uk",
    "compare_us",
    "explain_hifo_mismatch",
    "generate_ledger",
    "ours_us",
    "run_bittytax",
    "run_rp2",
]
