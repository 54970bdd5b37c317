"""Run rp2 and BittyTax on a ledger (each in a subprocess) and compare their totals with ours.

``python -m benchmarks.tax_crosscheck`` runs ``main``; see the package docstring
for the by-design differences the comparison accounts for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

from portfolios.tax.engine import LegIn, TaxReport, TaxSettings, TxIn, compute

from .ledger import cents, generate_ledger
from .to_bittytax import ledger_to_bittytax_csv
from .to_rp2 import ledger_to_rp2

REPO = Path(__file__).resolve().parents[4]
WORKER = "tests.portfolios.tax.crosscheck.worker"

# --------------------------------------------------------------------------- running


def _run_worker(kind: str, payload: dict, timeout: float = 1800) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"yl-{kind}-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "in.json").write_text(json.dumps(payload))
        env = dict(os.environ)
        env["HOME"] = tmp
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        env["TQDM_DISABLE"] = "1"
        proc = subprocess.run(
            [sys.executable, "-m", WORKER, kind, str(tmp_path / "in.json"), str(tmp_path / "out.json")],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(
                f"{kind} worker failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
            )
        return json.loads((tmp_path / "out.json").read_text())


def run_rp2(txs: list[TxIn], method: str, fiat: str = "USD") -> dict:
    return _run_worker("rp2", {"records": ledger_to_rp2(txs, fiat), "method": method})


def run_bittytax(txs: list[TxIn], full_precision: bool = True) -> dict:
    return _run_worker("bittytax", {"csv": ledger_to_bittytax_csv(txs), "full_precision": full_precision})


def ours_us(report: TaxReport) -> dict[str, dict[str, Decimal]]:
    """Our per-year totals, with the short/long split also recomputed under
    rp2's 365-day rule; ``rule_differs`` counts disposals classified differently."""
    out: dict[str, dict[str, Decimal]] = {}
    for year, t in report.totals.items():
        out[year] = {
            "proceeds": t.proceeds,
            "cost": t.cost_basis,
            "gain": t.gain,
            "short_ours": t.gain_short,
            "long_ours": t.gain_long,
            "income": t.income_total,
            "short": Decimal(0),
            "long": Decimal(0),
            "rule_differs": Decimal(0),
        }
    for d in report.disposals:
        assert d.disposed_at is not None and d.acquired_at is not None  # US lots keep their times
        rp2_long = (d.disposed_at - d.acquired_at).days >= 365
        out[d.tax_year]["long" if rp2_long else "short"] += d.gain
        if rp2_long != (d.term == "long"):
            out[d.tax_year]["rule_differs"] += 1
    return out


def compare_us(txs: list[TxIn], method: str, rp2_method: str | None = None) -> list[str]:
    """Problems found (empty list = agreement to the cent).  ``rp2_method``
    (default: the same) exists so a test can prove a mismatch is caught."""
    report = compute(txs, TaxSettings(method=method, jurisdiction="us", lp_treatment="disposal"))
    ours = ours_us(report)
    theirs = run_rp2(txs, rp2_method or method)["totals"]
    problems = []
    for year in sorted(set(ours) | set(theirs)):
        mine = ours.get(year, {})
        other = {k: Decimal(v) for k, v in theirs.get(year, {}).items()}
        for key in ("proceeds", "cost", "gain", "short", "long", "income"):
            a = cents(mine.get(key, Decimal(0)))
            b = cents(other.get(key, Decimal(0)))
            if a != b:
                problems.append(f"{method} {year} {key}: ours {a} rp2 {b}")
    return problems


def explain_hifo_mismatch(txs: list[TxIn], fiat: str = "USD") -> dict[str, dict]:
    """Where rp2's HIFO and ours part ways, say who broke the HIFO rule.

    Both engines get exactly rp2's per-asset input (ours replays it as plain
    buys/sells/fees), so their lot selections are identical up to a first
    divergence.  There we report both chosen lots with their unit cost and the
    quantity left in them after the shared history.  ``rp2_skipped_a_dearer_lot``
    means rp2 took a cheaper lot while ours - still holding quantity - cost more:
    rp2 broke HIFO (it loses the remainder of a partially used lot; it can later
    even fail with "Total in-transaction crypto value < total taxable crypto
    value" while the running balance is positive).
    """
    records = ledger_to_rp2(txs, fiat)
    theirs = _run_worker("rp2", {"records": records, "method": "hifo", "lots": True})["selections"]
    findings: dict[str, dict] = {}
    for asset in sorted(theirs):
        recs = [r for r in records if r["asset"] == asset]
        unit = {r["timestamp"]: Decimal(r["spot_price"]) for r in recs if r["side"] == "in"}
        size = {r["timestamp"]: Decimal(r["crypto_in"]) for r in recs if r["side"] == "in"}
        replay = []
        for i, r in enumerate(recs):
            moment = datetime.fromisoformat(r["timestamp"])
            if r["side"] == "in":
                cost = Decimal(r["fiat_in_no_fee"]) + Decimal(r["fiat_fee"])
                replay.append(
                    TxIn(f"r{i}", moment, "buy", (LegIn(fiat, -cost), LegIn(asset, Decimal(r["crypto_in"]), cost)))
                )
            elif r["type"] == "FEE":
                legs: tuple[LegIn, ...] = (LegIn(asset, -Decimal(r["crypto_fee"]), Decimal(r["fiat_fee"])),)
                replay.append(TxIn(f"r{i}", moment, "fee", legs))
            else:
                legs = (LegIn(asset, -Decimal(r["crypto_out_no_fee"])), LegIn(fiat, Decimal(r["fiat_out_no_fee"])))
                replay.append(TxIn(f"r{i}", moment, "sell", legs))
        ours = [
            (cast(datetime, d.disposed_at).isoformat(), cast(datetime, d.acquired_at).isoformat(), d.quantity)
            for d in compute(replay, TaxSettings(method="hifo", fiat_currency=fiat)).disposals
        ]
        rp2 = [(e, lot, Decimal(q)) for e, lot, q in theirs[asset]]
        for i, (a, b) in enumerate(zip(ours, rp2, strict=False)):
            if a != b:
                used: dict[str, Decimal] = {}
                for _, lot, q in ours[:i]:
                    used[lot] = used.get(lot, Decimal(0)) + q
                ours_lot, rp2_lot = a[1], b[1]
                left = size[ours_lot] - used.get(ours_lot, Decimal(0))
                findings[asset] = {
                    "row": i,
                    "event": a[0],
                    "ours_lot": ours_lot,
                    "ours_unit_cost": unit[ours_lot],
                    "ours_lot_left": left,
                    "rp2_lot": rp2_lot,
                    "rp2_unit_cost": unit[rp2_lot],
                    "rp2_skipped_a_dearer_lot": left > 0 and unit[ours_lot] > unit[rp2_lot],
                }
                break
    return findings


def compare_uk(txs: list[TxIn]) -> tuple[list[str], dict]:
    settings = TaxSettings.uk(lp_treatment="disposal")
    report = compute(txs, settings)
    theirs = run_bittytax(txs, full_precision=True)["totals"]
    problems = []
    for year in sorted(set(report.totals) | set(theirs)):
        t = report.totals.get(year)
        other = theirs.get(year)
        if t is None or other is None:
            if (t and (t.disposal_count or t.income_total)) or (other and Decimal(other["gain"])):
                problems.append(f"uk {year}: present on one side only")
            continue
        checks = {
            "gain": (t.gain, Decimal(other["gain"])),
            "proceeds (gross)": (t.proceeds + t.disposal_fees, Decimal(other["proceeds"])),
            "cost + fees": (t.cost_basis + t.disposal_fees, Decimal(other["cost"]) + Decimal(other["fees"])),
            "income": (t.income_total, Decimal(other["income"])),
        }
        for key, (a, b) in checks.items():
            if cents(a) != cents(b):
                problems.append(f"uk {year} {key}: ours {cents(a)} BittyTax {cents(b)}")
    return problems, {"ours": report, "bittytax": theirs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cross-check the tax engine against rp2 and BittyTax.")
    parser.add_argument("--transactions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    failures = 0
    explained = 0
    us_ledger = generate_ledger(args.transactions, args.seed, fiat="USD")
    print(f"US ledger: {len(us_ledger)} transactions, seed {args.seed}")
    for method in ("fifo", "lifo", "hifo"):
        method_failures = 0
        report = compute(us_ledger, TaxSettings(method=method, lp_treatment="disposal"))
        ours = ours_us(report)
        theirs = run_rp2(us_ledger, method)["totals"]
        for year in sorted(ours):
            o = ours[year]
            r = {k: Decimal(v) for k, v in theirs.get(year, {}).items()}
            line = [f"{method} {year}"]
            for key in ("proceeds", "cost", "gain", "short", "long", "income"):
                a, b = cents(o[key]), cents(r.get(key, Decimal(0)))
                mark = "=" if a == b else "!="
                method_failures += a != b
                line.append(f"{key} {a} {mark} {b}")
            line.append(
                f"(our own split: short {cents(o['short_ours'])} long {cents(o['long_ours'])}; "
                f"{int(o['rule_differs'])} disposals classified differently by the anniversary rule)"
            )
            print("  " + " | ".join(line))
        findings = explain_hifo_mismatch(us_ledger) if method == "hifo" and method_failures else {}
        if findings and all(f["rp2_skipped_a_dearer_lot"] for f in findings.values()):
            explained += method_failures
        else:
            failures += method_failures
        for asset, f in findings.items():
            verdict = "rp2 broke HIFO" if f["rp2_skipped_a_dearer_lot"] else "UNEXPLAINED"
            print(
                f"  hifo {asset}: first different lot at {f['event']}: ours {f['ours_lot']} "
                f"(unit {f['ours_unit_cost']:.4f}, {f['ours_lot_left']} left) vs rp2 {f['rp2_lot']} "
                f"(unit {f['rp2_unit_cost']:.4f}) -> {verdict}"
            )
    uk_ledger = generate_ledger(args.transactions, args.seed, fiat="GBP", years=2.0)
    print(f"UK ledger: {len(uk_ledger)} transactions, seed {args.seed}")
    problems, detail = compare_uk(uk_ledger)
    rounded = run_bittytax(uk_ledger, full_precision=False)["totals"]
    for year, t in detail["ours"].totals.items():
        other = detail["bittytax"].get(year, {})
        print(
            f"  uk {year}: gain ours {cents(t.gain)} BittyTax {cents(Decimal(other.get('gain', '0')))} "
            f"(BittyTax penny-rounded per event: {rounded.get(year, {}).get('gain')}) | income ours "
            f"{cents(t.income_total)} BittyTax {cents(Decimal(other.get('income', '0')))} | rules {other.get('rules')}"
        )
    for problem in problems:
        print("  MISMATCH", problem)
    failures += len(problems)
    if explained:
        print(f"{explained} HIFO differences, all explained by rp2 skipping a dearer, partly used lot (rp2's bug)")
    print("AGREE to the cent" if not failures else f"{failures} unexplained mismatches")
    return 1 if failures else 0
