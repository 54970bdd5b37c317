"""Benchmark the tax engine on a seeded 100,000-transaction ledger, against rp2.

    .venv/bin/python -m benchmarks.bench_tax [--transactions 100000] [--seed 11] [--repeat 3] [--skip-rp2]
        [--lp-treatment disposal|nontaxable] [--methods fifo,hifo]

The ledger (``tests.portfolios.tax.crosscheck.generate_ledger``) spans 2021-01 to
2025-06 over six assets: buys, sells, swaps, rewards, gas-only fees, fiat and
token fees, own-wallet transfers, single-asset LP moves.

Timed: ``compute(ledger, settings, tax_year="2024")`` - a year's report, which
must process the whole history up to the end of 2024 (about 90% of the
ledger) - for FIFO and HIFO (``--methods``), best of ``--repeat`` runs (time.perf_counter, in
this process, ledger already built; target < 2 s on a 2-core machine).  Also
timed once: every year of the ledger.  ``--methods`` picks other methods
(``lifo``, ``average``; ``uk`` runs the UK rules on tax year 2024/25 with the
ledger's USD amounts).  LP moves are disposals by default, as rp2 sees them;
``--lp-treatment nontaxable`` (the engine's default) carries the cost basis
through them instead, re-denominating lots on every withdrawal.

rp2 runs in a subprocess (see tests/portfolios/tax/crosscheck/); its time is measured inside
that process around rp2's own work: building its transaction sets plus
``compute_tax`` for every asset over the whole ledger (it has no single-year
mode), excluding interpreter start-up and reading our JSON.  The ratio
compares it with our all-years time, which does the same amount of work.
rp2's HIFO fails on this ledger ("Total in-transaction crypto value < total
taxable crypto value") because it loses partly used lots - see
``explain_hifo_mismatch`` in the cross-check - so only its FIFO time is a
like-for-like number; the failure is printed, not hidden.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

from portfolios.tax.engine import TaxSettings, compute
from tests.portfolios.tax.crosscheck import cents, generate_ledger, run_rp2

ASSETS = ("BTC", "ETH", "SOL", "LINK", "AVAX", "DOT")


def best_of(repeat: int, fn) -> tuple[float, float, Any]:
    """Best wall-clock (perf_counter) and best CPU time (process_time) of ``repeat`` runs."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tax engine benchmark")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--year", default="2024")
    parser.add_argument("--skip-rp2", action="store_true")
    parser.add_argument("--rp2-methods", default="fifo,hifo")
    parser.add_argument("--lp-treatment", default="disposal", choices=["disposal", "nontaxable"])
    parser.add_argument("--methods", default="fifo,hifo")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f}")
    started = time.perf_counter()
    ledger = generate_ledger(args.transactions, args.seed, years=4.25, assets=ASSETS, fiat="USD")
    print(
        f"ledger: {len(ledger)} transactions, {ledger[0].occurred_at:%Y-%m-%d} .. {ledger[-1].occurred_at:%Y-%m-%d}, "
        f"{len(ASSETS)} assets (+2 LP tokens); generated in {time.perf_counter() - started:.2f} s"
    )
    ours_all: dict[str, tuple[float, float]] = {}
    print(f"LP treatment: {args.lp_treatment}")
    for method in [m for m in args.methods.split(",") if m]:
        uk = method == "uk"
        settings = TaxSettings(method=method, jurisdiction="uk" if uk else "us", lp_treatment=args.lp_treatment)
        year = f"{args.year}/{(int(args.year) + 1) % 100:02d}" if uk else args.year
        seconds, cpu, report = best_of(
            args.repeat, lambda settings=settings, year=year: compute(ledger, settings, tax_year=year)
        )
        totals = report.year(year)
        verdict = "OK" if seconds < 2 else "SLOW"
        print(
            f"engine {method.upper()} {year} report: {seconds:.3f} s wall, {cpu:.3f} s CPU, best of "
            f"{args.repeat} [{verdict} < 2 s]  ({totals.disposal_count} disposal rows, gain {cents(totals.gain)}, "
            f"income {cents(totals.income_total)})"
        )
        wall, cpu, full = best_of(1, lambda settings=settings: compute(ledger, settings))
        ours_all[method] = (wall, cpu)
        print(f"engine {method.upper()} all years ({', '.join(full.tax_years)}): {wall:.3f} s wall, {cpu:.3f} s CPU")

    if args.skip_rp2:
        return 0
    if args.lp_treatment != "disposal":
        print("note: rp2 sees the LP moves as trades (lp_treatment 'disposal'); the ratios are only indicative")
    for method in [m for m in args.rp2_methods.split(",") if m and m in ours_all]:
        try:
            result = run_rp2(ledger, method)
        except RuntimeError as exc:  # rp2 failed: report it instead of a number
            print(f"rp2 {method.upper()} failed: {str(exc).strip().splitlines()[-1]}")
            continue
        wall, cpu = result["seconds_total"], result["cpu_seconds_total"]
        our_wall, our_cpu = ours_all[method]
        print(
            f"rp2 {method.upper()} all years: {wall:.1f} s wall, {cpu:.1f} s CPU (building its inputs "
            f"{result['seconds_building_inputs']:.1f} s wall); ratio rp2/engine = {wall / our_wall:.0f}x wall, "
            f"{cpu / our_cpu:.0f}x CPU"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
