"""StableSwap pools (pools.amm.stableswap): Curve's invariant, solvers and properties."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pools import amm
from pools.amm import (
    ConvergenceError,
    stableswap,
)
from tests.pools.amm._support import (
    PROPERTY,
    SLOW_PROPERTY,
    TINY,
    D,
    amplifications,
    close,
    moderate_ratios,
    n_coins,
    ratios,
)


def curve_get_d(balances: list[int], onchain_a: int) -> int:
    """Curve's integer get_D as in its Vyper pools (Ann = A() * N_COINS), written for this test."""
    n = len(balances)
    s = sum(balances)
    d = s
    ann = onchain_a * n
    for _ in range(255):
        d_p = d
        for x in balances:
            d_p = d_p * d // (x * n)
        previous = d
        d = (ann * s + d_p * n) * d // ((ann - 1) * d + (n + 1) * d_p)
        if abs(d - previous) <= 1:
            return d
    raise AssertionError("no convergence")


def invariant_residual(balances: list[Decimal], amp: Decimal, d: Decimal) -> Decimal:
    """Whitepaper: A n^n sum(x) + D - A D n^n - D^(n+1) / (n^n prod(x)), relative to D."""
    with localcontext() as ctx:
        ctx.prec = 80
        n = len(balances)
        prod = D(1)
        for x in balances:
            prod *= x
        nn = D(n**n)
        lhs = amp * nn * sum(balances, D(0)) + d
        rhs = amp * d * nn + d ** (n + 1) / (nn * prod)
        return abs(lhs - rhs) / d


def test_stableswap_invariant_of_a_balanced_pool_is_the_sum_of_balances():
    assert close(amm.stableswap_invariant([D(100), D(100), D(100)], D(50)), D(300), rel="1e-50")


@pytest.mark.parametrize(
    ("balances", "onchain_a"),
    [
        ([1000, 1200, 800], 2000),
        ([5, 1_000_000], 100),
        ([123456, 654321], 1),
        ([10, 20, 30, 40], 500),
    ],
)
def test_stableswap_invariant_satisfies_the_whitepaper_equation_and_matches_curve(balances, onchain_a):
    n = len(balances)
    amp = amm.stableswap_amplification_from_onchain(onchain_a, n)
    xs = [D(b) for b in balances]
    d = amm.stableswap_invariant(xs, amp)
    assert invariant_residual(xs, amp, d) <= D("1e-45")
    # Curve's own integer algorithm on 18-decimal balances agrees to ~1e-17 relative.
    d_int = curve_get_d([b * 10**18 for b in balances], onchain_a)
    assert abs(D(d_int) / D(10**18) / d - 1) <= D("1e-15")


def test_stableswap_y_restores_the_invariant():
    balances = [D(1000), D(1500), D(700)]
    amp = D(85)
    d = amm.stableswap_invariant(balances, amp)
    moved = [D(1100), D(1500), D(700)]
    y = amm.stableswap_y(moved, 2, d, amp)
    assert y < D(700)
    assert close(amm.stableswap_invariant([D(1100), D(1500), y], amp), d, rel="1e-45")


@given(
    balances=st.lists(st.integers(min_value=1, max_value=10**6).map(D), min_size=2, max_size=4),
    amp=amplifications,
    data=st.data(),
)
@PROPERTY
def test_small_swap_at_the_marginal_price_conserves_value(balances, amp, data):
    n = len(balances)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda k: k != i))
    d = amm.stableswap_invariant(balances, amp)
    price = amm.stableswap_marginal_price(balances, amp, i, j)
    dx = balances[i] * D("1e-20")
    moved = list(balances)
    moved[i] += dx
    with localcontext() as ctx:
        ctx.prec = 60
        dy = balances[j] - amm.stableswap_y(moved, j, d, amp)
        # Selling dx of coin i returns dy = price * dx to first order: the pool's value at the
        # marginal price is unchanged up to a second-order term (relative error ~ dx / balance).
        assert abs(dy / (price * dx) - 1) <= D("1e-12")


def test_stableswap_marginal_price_is_one_in_a_balanced_pool():
    assert close(amm.stableswap_marginal_price([D(10), D(10)], D(100)), D(1), rel="1e-50")
    assert amm.stableswap_marginal_price([D(20), D(5)], D(100)) < 1  # the abundant coin is cheap


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("ratio", ["0.2", "0.999", "1.001", "3"])
@pytest.mark.parametrize("amp", ["0.01", "1", "100", "100000"])
def test_stableswap_solvers_reach_the_external_price(n, ratio, amp):
    r, a = D(ratio), D(amp)
    lp, hodl, balances = amm.stableswap_value_after_price_move(r, a, n)
    assert abs(amm.stableswap_marginal_price(balances, a, 0, 1) / r - 1) <= amm.STABLESWAP_PRICE_TOLERANCE
    assert close(amm.stableswap_invariant(balances, a), D(n), rel="1e-40")
    # The general n-price solver agrees with the symmetric one.
    general = amm.stableswap_balances_at_prices([D(1)] * n, a, [r] + [D(1)] * (n - 1))
    for g, s in zip(general, balances, strict=True):
        assert close(g, s, rel="1e-28")
    assert close(lp, (r * balances[0] + sum(balances[1:], D(0))) / n)
    assert close(hodl, (r + n - 1) / n, rel="1e-55")


def test_stableswap_general_solver_handles_uneven_prices():
    amp = D(200)
    prices = [D(1), D(2), D("0.5")]
    balances = amm.stableswap_balances_at_prices([D(100), D(200), D(300)], amp, prices)
    for k in (1, 2):
        ratio = amm.stableswap_marginal_price(balances, amp, k, 0)
        assert abs(ratio / (prices[k] / prices[0]) - 1) <= D("1e-30")
    assert close(amm.stableswap_invariant(balances, amp), amm.stableswap_invariant([100, 200, 300], amp), rel="1e-40")


def test_stableswap_curve_is_warm_started_but_identical_to_single_points():
    ratios_ = [D(k) / D(10) for k in range(1, 40)]
    curve = amm.il_curve("stableswap", ratios_, amplification=D(500), n_coins=3)
    for r, point in zip(ratios_, curve, strict=True):
        single = amm.impermanent_loss_for("stableswap", r, amplification=D(500), n_coins=3)
        assert close(point.impermanent_loss, single.impermanent_loss, rel="1e-25", abs_="1e-28")


def test_stableswap_solver_failure_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(stableswap, "_MAX_ITERATIONS", 1)
    with pytest.raises(ConvergenceError, match="tolerance"):
        amm.stableswap_impermanent_loss(D(3), D(100))


@given(r=ratios, amp=amplifications, n=n_coins)
@SLOW_PROPERTY
def test_stableswap_loss_is_never_positive(r, amp, n):
    assert amm.impermanent_loss_for("stableswap", r, amplification=amp, n_coins=n).impermanent_loss <= TINY


@given(r=moderate_ratios.filter(lambda r: abs(r - 1) >= D("0.05")), n=st.integers(min_value=2, max_value=3))
@SLOW_PROPERTY
def test_stableswap_tends_to_constant_sum_as_amplification_grows(r, n):
    target = amm.constant_sum_impermanent_loss(r, n)
    distances = [
        abs(amm.impermanent_loss_for("stableswap", r, amplification=a, n_coins=n).impermanent_loss - target)
        for a in (D(10), D(10**4), D(10**8), D(10**12))
    ]
    assert distances == sorted(distances, reverse=True)
    assert distances[-1] <= abs(target) * D("1e-3")


@given(r=ratios)
@PROPERTY
def test_stableswap_tends_to_constant_product_as_amplification_vanishes(r):
    target = amm.constant_product_impermanent_loss(r)
    near = amm.impermanent_loss_for("stableswap", r, amplification=D("1e-12")).impermanent_loss
    nearer = amm.impermanent_loss_for("stableswap", r, amplification=D("1e-20")).impermanent_loss
    assert abs(near - target) <= D("1e-9")
    assert abs(nearer - target) <= D("1e-17")
