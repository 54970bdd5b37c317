"""Our ledger as BittyTax's CSV (UK), and the BittyTax run inside the worker subprocess."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path

from portfolios.tax.engine import TxIn

from .mapping import iso as _iso
from .mapping import plain as _s
from .mapping import shape as _shape
from .mapping import value as _value

# --------------------------------------------------------------------------- BittyTax

BITTYTAX_CONF = """local_currency: 'GBP'
local_timezone: 'Europe/London'
date_is_day_first: False
fiat_list: ['GBP', 'EUR', 'USD']
crypto_list: ['BTC', 'ETH']
trade_asset_type: 2
trade_allowable_cost_type: 1
transaction_fee_allowable_cost: True
audit_hide_empty: False
show_empty_wallets: False
transfers_include: False
transfer_fee_disposal: True
transfer_fee_allowable_cost: False
fiat_income: False
lost_buyback: True
large_data: False
legacy_report: False
data_source_select: {}
data_source_fiat: ['BittyTaxAPI']
data_source_crypto: ['CryptoCompare', 'CoinGecko']
"""

BT_INCOME = {
    "staking": "Staking",
    "interest": "Interest",
    "mining": "Mining",
    "airdrop": "Income",
    "liquidity_mining": "Income",
    "lp_fees": "Income",
    "other": "Income",
}


def ledger_to_bittytax_csv(txs: list[TxIn], fiat: str = "GBP") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["Type", "Buy Quantity", "Buy Asset", "Buy Value", "Sell Quantity", "Sell Asset", "Sell Value",
         "Fee Quantity", "Fee Asset", "Fee Value", "Wallet", "Timestamp", "Note"]
    )  # fmt: skip
    transit: dict[str, Decimal] = {}

    def row(kind, buy=None, sell=None, fee=None, moment=None, note=""):
        b = buy or ("", "", "")
        s = sell or ("", "", "")
        f = fee or ("", "", "")
        writer.writerow([kind, *map(str, b), *map(str, s), *map(str, f), "ledger", _iso(moment), note])

    for tx in txs:
        sh = _shape(tx, fiat)
        t = tx.occurred_at
        fee = None
        if sh.fee_token is not None:
            fee = (_s(-sh.fee_token.quantity), sh.fee_token.asset, _s(_value(sh.fee_token)))
        elif sh.fee_fiat:
            fee = (_s(sh.fee_fiat), fiat, _s(sh.fee_fiat))
        if tx.kind in ("buy", "sell", "swap", "lp_deposit", "lp_withdraw"):
            if sh.fiat_out:
                (leg,) = sh.principal_in
                row(
                    "Trade",
                    (_s(leg.quantity), leg.asset, _s(sh.fiat_out)),
                    (_s(sh.fiat_out), fiat, _s(sh.fiat_out)),
                    fee,
                    t,
                    tx.ref,
                )
            elif sh.fiat_in:
                (leg,) = sh.principal_out
                row(
                    "Trade",
                    (_s(sh.fiat_in), fiat, _s(sh.fiat_in)),
                    (_s(-leg.quantity), leg.asset, _s(sh.fiat_in)),
                    fee,
                    t,
                    tx.ref,
                )
            else:
                (out_leg,) = sh.principal_out
                (in_leg,) = sh.principal_in
                value = _s(_value(in_leg))
                row(
                    "Trade",
                    (_s(in_leg.quantity), in_leg.asset, value),
                    (_s(-out_leg.quantity), out_leg.asset, value),
                    fee,
                    t,
                    tx.ref,
                )
        elif tx.kind == "reward":
            (leg,) = sh.principal_in
            row(BT_INCOME[tx.income_type or ""], (_s(leg.quantity), leg.asset, _s(_value(leg))), None, None, t, tx.ref)
        elif tx.kind == "fee":
            assert sh.fee_token is not None  # a generated fee transaction pays in a token
            leg = sh.fee_token
            row("Spend", None, (_s(-leg.quantity), leg.asset, _s(_value(leg))), None, t, tx.ref)
        elif tx.kind == "transfer_out":
            (leg,) = sh.principal_out
            transit[leg.asset] = transit.get(leg.asset, Decimal(0)) - leg.quantity
            row("Withdrawal", None, (_s(-leg.quantity), leg.asset, ""), fee, t, tx.ref)
        elif tx.kind == "transfer_in":
            (leg,) = sh.principal_in
            pending = transit.get(leg.asset, Decimal(0))
            matched = min(pending, leg.quantity)
            transit[leg.asset] = pending - matched
            if matched:
                row("Deposit", (_s(matched), leg.asset, ""), None, None, t, tx.ref)
            rest = leg.quantity - matched
            if rest:
                row(
                    "Gift-Received",
                    (_s(rest), leg.asset, _s(_value(leg) * rest / leg.quantity)),
                    None,
                    None,
                    t,
                    tx.ref,
                )
    return out.getvalue()


def bittytax_worker(payload: dict) -> dict:
    """Runs inside the subprocess with HOME pointing at a temp dir."""
    home = Path(os.environ["HOME"])
    (home / ".bittytax").mkdir(parents=True, exist_ok=True)
    (home / ".bittytax" / "bittytax.conf").write_text(BITTYTAX_CONF)
    os.environ["BITTYTAX_TERMINAL"] = ""
    from bittytax import tax_event
    from bittytax.bt_types import DisposalType, TaxRules
    from bittytax.import_records import ImportRecords
    from bittytax.tax import TaxCalculator
    from bittytax.tax_event import TaxEventCapitalGains, TaxEventIncome
    from bittytax.transactions import TransactionHistory

    if payload.get("full_precision"):
        tax_event.PRECISION = Decimal("1E-15")  # no per-event penny rounding (see module docstring)
    importer = ImportRecords()
    Path("ledger.csv").write_text(payload["csv"], encoding="utf-8")
    with open("ledger.csv", newline="", encoding="utf-8") as handle:
        importer.import_csv(handle)
    if importer.failure_cnt:
        raise SystemExit(f"BittyTax rejected {importer.failure_cnt} rows")
    records = importer.get_records()

    class OfflinePrices:  # every value is in the CSV; BittyTax must never look a price up
        def get_value(self, asset, timestamp, quantity):
            raise RuntimeError(f"BittyTax wanted a price for {quantity} {asset} at {timestamp}")

    history = TransactionHistory(records, OfflinePrices())  # type: ignore[arg-type]
    tax = TaxCalculator(history.transactions, TaxRules.UK_INDIVIDUAL)
    tax.pool_same_day()
    tax.match_sell(DisposalType.SAME_DAY)
    tax.match_buyback(DisposalType.BED_AND_BREAKFAST)
    tax.process_section104(True)
    tax.process_income()
    totals = {}
    for year, events in tax.tax_events.items():
        b = {k: Decimal(0) for k in ("proceeds", "cost", "fees", "gain", "income")}
        rules: dict[str, int] = {}
        for te in events:
            if isinstance(te, TaxEventCapitalGains):
                b["proceeds"] += te.proceeds
                b["cost"] += te.cost
                b["fees"] += te.fees
                b["gain"] += te.gain
                rules[te.disposal_type.value] = rules.get(te.disposal_type.value, 0) + 1
            elif isinstance(te, TaxEventIncome):
                b["income"] += te.amount
        label = f"{year - 1}/{year % 100:02d}"
        totals[label] = {k: str(v) for k, v in b.items()} | {"rules": rules}
    return {"totals": totals}
