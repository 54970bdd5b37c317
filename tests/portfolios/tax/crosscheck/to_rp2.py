"""Our ledger as rp2's input (US), and the rp2 run inside the worker subprocess."""

from __future__ import annotations

import time
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import cast

from portfolios.tax.engine import LegIn, TxIn

from .mapping import iso as _iso
from .mapping import plain as _s
from .mapping import shape as _shape
from .mapping import value as _value

# --------------------------------------------------------------------------- rp2


RP2_EARN = {
    "staking": "STAKING",
    "interest": "INTEREST",
    "airdrop": "AIRDROP",
    "mining": "MINING",
    "liquidity_mining": "INCOME",
    "lp_fees": "INCOME",
    "other": "INCOME",
}


def ledger_to_rp2(txs: list[TxIn], fiat: str = "USD") -> list[dict]:
    """rp2 in/out transactions as plain dicts (strings for every number)."""
    records: list[dict] = []
    transit: dict[str, Decimal] = {}

    def buy(asset, moment, qty, cost_no_fee, fee, kind="BUY"):
        unit = (cost_no_fee + fee) / qty
        records.append(
            {"side": "in", "asset": asset, "timestamp": _iso(moment), "type": kind, "spot_price": _s(unit),
             "crypto_in": _s(qty), "fiat_in_no_fee": _s(cost_no_fee), "fiat_fee": _s(fee)}
        )  # fmt: skip

    def sell(asset, moment, qty, net_proceeds):
        records.append(
            {"side": "out", "asset": asset, "timestamp": _iso(moment), "type": "SELL",
             "spot_price": _s(net_proceeds / qty), "crypto_out_no_fee": _s(qty), "crypto_fee": "0",
             "fiat_out_no_fee": _s(net_proceeds)}
        )  # fmt: skip

    def fee(leg: LegIn, moment):
        qty = -leg.quantity
        records.append(
            {"side": "out", "asset": leg.asset, "timestamp": _iso(moment, 1), "type": "FEE",
             "spot_price": _s(_value(leg) / qty), "crypto_out_no_fee": "0", "crypto_fee": _s(qty),
             "fiat_fee": _s(_value(leg))}
        )  # fmt: skip

    for tx in txs:
        sh = _shape(tx, fiat)
        t = tx.occurred_at
        if tx.kind in ("buy", "sell", "swap", "lp_deposit", "lp_withdraw"):
            if sh.fiat_out:  # buy
                (leg,) = sh.principal_in
                buy(leg.asset, t, leg.quantity, sh.fiat_out, sh.fee_value)
            elif sh.fiat_in:  # sell
                (leg,) = sh.principal_out
                sell(leg.asset, t, -leg.quantity, sh.fiat_in - sh.fee_value)
            else:  # swap (and LP under lp_treatment="disposal"): valued at what comes in
                (out_leg,) = sh.principal_out
                (in_leg,) = sh.principal_in
                value = _value(in_leg)
                sell(out_leg.asset, t, -out_leg.quantity, value - sh.fee_value)
                buy(in_leg.asset, t, in_leg.quantity, value, Decimal(0))
        elif tx.kind == "reward":
            (leg,) = sh.principal_in
            buy(leg.asset, t, leg.quantity, leg.fiat_value, Decimal(0), RP2_EARN[tx.income_type or ""])
        elif tx.kind == "transfer_out":
            for leg in sh.principal_out:
                transit[leg.asset] = transit.get(leg.asset, Decimal(0)) - leg.quantity
        elif tx.kind == "transfer_in":
            for leg in sh.principal_in:
                pending = transit.get(leg.asset, Decimal(0))
                matched = min(pending, leg.quantity)
                transit[leg.asset] = pending - matched
                rest = leg.quantity - matched
                if rest:
                    buy(leg.asset, t, rest, _value(leg) * rest / leg.quantity, Decimal(0))
        if sh.fee_token is not None:
            fee(sh.fee_token, t)
    return records


def rp2_worker(payload: dict) -> dict:
    """Runs inside the subprocess: build rp2 objects and compute per asset."""
    import logging
    from importlib import import_module

    from prezzemolo.avl_tree import AVLTree
    from rp2.abstract_country import AbstractCountry
    from rp2.accounting_engine import AccountingEngine
    from rp2.configuration import Configuration
    from rp2.entry_types import TransactionType
    from rp2.gain_loss import GainLoss
    from rp2.in_transaction import InTransaction
    from rp2.input_data import InputData
    from rp2.logger import LOGGER
    from rp2.out_transaction import OutTransaction
    from rp2.plugin.country.us import US
    from rp2.rp2_decimal import RP2Decimal
    from rp2.tax_engine import compute_tax
    from rp2.transaction_set import TransactionSet

    LOGGER.setLevel(logging.ERROR)  # rp2 warns when spot_price x qty != fiat amount, which we do on purpose
    records = payload["records"]
    assets = sorted({r["asset"] for r in records})
    ini = Path("crosscheck.ini")
    ini.write_text(
        "[general]\n"
        f"assets = {', '.join(assets)}\nexchanges = ledger\nholders = me\n"
        "[in_header]\ntimestamp = 0\nasset = 1\nexchange = 2\nholder = 3\ntransaction_type = 4\nspot_price = 5\n"
        "crypto_in = 6\nfiat_fee = 7\nfiat_in_no_fee = 8\nfiat_in_with_fee = 9\nnotes = 10\n"
        "[out_header]\ntimestamp = 0\nasset = 1\nexchange = 2\nholder = 3\ntransaction_type = 4\nspot_price = 5\n"
        "crypto_out_no_fee = 6\ncrypto_fee = 7\nfiat_out_no_fee = 8\nfiat_fee = 9\nnotes = 10\n"
        "[intra_header]\ntimestamp = 0\nasset = 1\nfrom_exchange = 2\nfrom_holder = 3\nto_exchange = 4\n"
        "to_holder = 5\nspot_price = 6\ncrypto_sent = 7\ncrypto_received = 8\nnotes = 9\n"
    )
    country: AbstractCountry = US()
    configuration = Configuration(str(ini), country)
    method_module = import_module(f"rp2.plugin.accounting_method.{payload['method']}")
    years_2_methods: AVLTree = AVLTree()
    years_2_methods.insert_node(1970, method_module.AccountingMethod())
    engine = AccountingEngine(years_2_methods)
    d = RP2Decimal
    started = time.perf_counter()
    started_cpu = time.process_time()
    totals: dict[str, dict[str, Decimal]] = {}
    selections: dict[str, list] = {}
    built = time.perf_counter()
    build_seconds = 0.0
    for asset in assets:
        t0 = time.perf_counter()
        ins = TransactionSet(configuration, "IN", asset)
        outs = TransactionSet(configuration, "OUT", asset)
        intra = TransactionSet(configuration, "INTRA", asset)
        for row, r in enumerate(records, start=1):
            if r["asset"] != asset:
                continue
            if r["side"] == "in":
                fee = d(r["fiat_fee"])
                ins.add_entry(
                    InTransaction(
                        configuration, r["timestamp"], asset, "ledger", "me", r["type"], d(r["spot_price"]),
                        d(r["crypto_in"]), fiat_in_no_fee=d(r["fiat_in_no_fee"]),
                        fiat_fee=fee if fee else None, row=row,
                    )
                )  # fmt: skip
            elif r["type"] == "FEE":
                outs.add_entry(
                    OutTransaction(
                        configuration, r["timestamp"], asset, "ledger", "me", "FEE", d(r["spot_price"]),
                        d("0"), d(r["crypto_fee"]), fiat_fee=d(r["fiat_fee"]), row=row,
                    )
                )  # fmt: skip
            else:
                outs.add_entry(
                    OutTransaction(
                        configuration, r["timestamp"], asset, "ledger", "me", "SELL", d(r["spot_price"]),
                        d(r["crypto_out_no_fee"]), d("0"), fiat_out_no_fee=d(r["fiat_out_no_fee"]), row=row,
                    )
                )  # fmt: skip
        input_data = InputData(asset, ins, outs, intra)
        build_seconds += time.perf_counter() - t0
        computed = compute_tax(configuration, engine, input_data)
        # rp2 types a GainLossSet's items as AbstractEntry; they are GainLoss records.
        gains = cast(list[GainLoss], list(computed.gain_loss_set))
        if payload.get("lots"):
            selections[asset] = [
                [g.taxable_event.timestamp.isoformat(), g.acquired_lot.timestamp.isoformat(), str(g.crypto_amount)]
                for g in gains
                if g.acquired_lot is not None
            ]
        for gain_loss in gains:
            event = gain_loss.taxable_event
            year = str(event.timestamp.astimezone(UTC).year)
            bucket = totals.setdefault(
                year, {k: Decimal(0) for k in ("proceeds", "cost", "gain", "short", "long", "income")}
            )
            if event.is_earning():
                bucket["income"] += Decimal(gain_loss.taxable_event_fiat_amount_with_fee_fraction)
                continue
            proceeds = Decimal(gain_loss.taxable_event_fiat_amount_with_fee_fraction)
            cost = Decimal(gain_loss.fiat_cost_basis)
            bucket["proceeds"] += proceeds
            bucket["cost"] += cost
            bucket["gain"] += proceeds - cost
            bucket["long" if gain_loss.is_long_term_capital_gains() else "short"] += proceeds - cost
    elapsed = time.perf_counter() - started
    elapsed_cpu = time.process_time() - started_cpu
    del built
    _ = TransactionType
    return {
        "selections": selections,
        "totals": {y: {k: str(v) for k, v in b.items()} for y, b in totals.items()},
        "seconds_total": elapsed,
        "cpu_seconds_total": elapsed_cpu,
        "seconds_building_inputs": build_seconds,
    }
