"""Micro-benchmarks for pools.amm.

Run with ``.venv/bin/python -m benchmarks.bench_amm``. Prints calls per second for the stableswap
solver and the Uniswap v3 conversions, and the time to compute a 200-point impermanent-loss curve
for each model (target: well under 50 ms each).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial

from pools import amm

D = Decimal
CURVE_TARGET_MS = 50.0


def calls_per_second(fn: Callable[[], object], min_seconds: float = 0.3) -> float:
    """Run ``fn`` in growing batches until ``min_seconds`` have elapsed; return calls per second."""
    fn()  # warm up
    batch, calls, elapsed = 1, 0, 0.0
    while elapsed < min_seconds:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed += time.perf_counter() - start
        calls += batch
        batch *= 2
    return calls / elapsed


def best_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    balances = [D(1_000_000), D(1_250_000), D(800_000)]
    amp = D(200)
    d = amm.stableswap_invariant(balances, amp)
    moved = [D(1_010_000), D(1_250_000), D(800_000)]
    sqrt_a = amm.get_sqrt_ratio_at_tick(-60_000)
    sqrt_b = amm.get_sqrt_ratio_at_tick(60_000)
    sqrt_p = amm.get_sqrt_ratio_at_tick(12_345)
    liquidity = amm.get_liquidity_for_amounts_x96(sqrt_p, sqrt_a, sqrt_b, 10**18, 2_000 * 10**6)
    real_p, real_a, real_b = D("1.0123"), D("0.9"), D("1.2")

    rows: list[tuple[str, Callable[[], object]]] = [
        ("stableswap D (3 coins, Newton)", lambda: amm.stableswap_invariant(balances, amp)),
        ("stableswap y (3 coins)", lambda: amm.stableswap_y(moved, 2, d, amp)),
        ("stableswap IL, cold solve (A=100, r=1.3)", lambda: amm.stableswap_impermanent_loss(D("1.3"), D(100))),
        ("stableswap IL, cold solve (A=2000, 3 coins)", lambda: amm.stableswap_impermanent_loss(D("0.7"), D(2000), 3)),
        (
            "stableswap balances at prices (general)",
            lambda: amm.stableswap_balances_at_prices(balances, amp, [1, 1, 1]),
        ),
        ("getSqrtRatioAtTick", lambda: amm.get_sqrt_ratio_at_tick(-123_456)),
        ("getTickAtSqrtRatio", lambda: amm.get_tick_at_sqrt_ratio(sqrt_p)),
        (
            "getLiquidityForAmounts (Q96 int)",
            lambda: amm.get_liquidity_for_amounts_x96(sqrt_p, sqrt_a, sqrt_b, 10**18, 2_000 * 10**6),
        ),
        (
            "getAmountsForLiquidity (Q96 int)",
            lambda: amm.get_amounts_for_liquidity_x96(sqrt_p, sqrt_a, sqrt_b, liquidity),
        ),
        (
            "get_liquidity_for_amounts (Decimal)",
            lambda: amm.get_liquidity_for_amounts(real_p, real_a, real_b, D(100), D(200)),
        ),
        ("get_amounts_for_liquidity (Decimal)", lambda: amm.get_amounts_for_liquidity(real_p, real_a, real_b, D(1000))),
        ("tick_to_price (Decimal)", lambda: amm.tick_to_price(-201_234)),
        ("price_to_tick (Decimal)", lambda: amm.price_to_tick(D("3456.789"))),
    ]

    print(f"Python {sys.version.split()[0]}  —  pools.amm micro-benchmarks")
    print()
    print(f"{'operation':<48} {'calls/s':>12}")
    print("-" * 61)
    for name, fn in rows:
        print(f"{name:<48} {calls_per_second(fn):>12,.0f}")

    ratios = [D(k) / D(40) for k in range(1, 201)]  # 0.025 .. 5.0
    curves: list[tuple[str, str, dict[str, object]]] = [
        ("constant_product", "", {}),
        ("weighted", "80/20", {"weights": [D("0.8"), D("0.2")]}),
        ("weighted", "3 tokens", {"weights": [D("0.5"), D("0.25"), D("0.25")]}),
        ("concentrated", "[0.5, 2]", {"lower": D("0.5"), "upper": D(2)}),
        ("stableswap", "A=100", {"amplification": D(100)}),
        ("stableswap", "A=2000, 3 coins", {"amplification": D(2000), "n_coins": 3}),
        ("stableswap", "A=1e6", {"amplification": D(10**6)}),
        # The two heaviest curves the Learn calculator page offers (its test no longer times them).
        ("weighted", "4 tokens", {"weights": [D("0.25")] * 4}),
        ("stableswap", "A=1e6, 8 coins", {"amplification": D(10**6), "n_coins": 8}),
    ]
    print()
    print(f"{'200-point IL curve':<48} {'ms (best of 5)':>14}")
    print("-" * 63)
    slow = []
    for model, label, params in curves:
        ms = best_ms(partial(amm.il_curve, model, ratios, **params))
        name = f"{model} {label}".strip()
        flag = "" if ms < CURVE_TARGET_MS else "  (over target)"
        if flag:
            slow.append(name)
        print(f"{name:<48} {ms:>14.2f}{flag}")
    print()
    print(
        f"target: each curve under {CURVE_TARGET_MS:.0f} ms — " + ("met" if not slow else f"missed: {', '.join(slow)}")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
