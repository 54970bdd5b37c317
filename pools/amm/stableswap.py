"""StableSwap pools (Curve) with the whitepaper amplification ``A``, and the constant-sum
limit (A -> infinity)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext

from pools.amm.numbers import (
    CTX,
    ONE,
    TWO,
    ZERO,
    ConvergenceError,
    InvalidParameter,
    Number,
    int_arg,
    positive_arg,
)

#: Relative tolerance on the marginal price reached by the stableswap price solvers.
STABLESWAP_PRICE_TOLERANCE = Decimal("1e-30")
#: Relative tolerance on D (and on the solver variable) for the Newton iterations.
_NEWTON_TOLERANCE = Decimal("1e-45")
_MAX_ITERATIONS = 256


def n_coins_arg(n_coins: object) -> int:
    n = int_arg(n_coins, "n_coins")
    if n < 2:
        raise InvalidParameter("n_coins", "at least two coins are required")
    return n


def amplification_arg(amplification: object) -> Decimal:
    if amplification is None:
        raise InvalidParameter("amplification", "required for the stableswap model")
    return positive_arg(amplification, "amplification")


def stableswap_amplification_from_onchain(onchain_a: Number, n_coins: int) -> Decimal:
    """Convert a Curve contract's ``A()`` to the whitepaper ``A`` used here.

    Curve's Vyper pools compute ``Ann = A_contract * N_COINS`` where the whitepaper has
    ``A * n ** n``, so ``A_contract = A * n ** (n - 1)`` and ``A = A_contract / n ** (n - 1)``.
    (Newer pools expose ``A_precise()``, which is ``A()`` times ``A_PRECISION``; divide first.)
    """
    a = positive_arg(onchain_a, "amplification")
    n = n_coins_arg(n_coins)
    with localcontext(CTX):
        return a / Decimal(n ** (n - 1))


def _ann(amp: Decimal, n: int) -> Decimal:
    return amp * Decimal(n**n)


def _balances(balances: object, field: str = "balances") -> list[Decimal]:
    if isinstance(balances, str | bytes) or not isinstance(balances, Iterable):
        raise InvalidParameter(field, "must be a sequence of numbers")
    xs = [positive_arg(b, field) for b in balances]
    if len(xs) < 2:
        raise InvalidParameter(field, "at least two coins are required")
    return xs


def _stableswap_d(xs: Sequence[Decimal], amp: Decimal) -> Decimal:
    n = len(xs)
    nd = Decimal(n)
    ann = _ann(amp, n)
    s = sum(xs, ZERO)
    d = s
    for _ in range(_MAX_ITERATIONS):
        d_p = d
        for x in xs:
            d_p = d_p * d / (x * nd)
        d_prev = d
        d = (ann * s + d_p * nd) * d / ((ann - ONE) * d + (nd + ONE) * d_p)
        if abs(d - d_prev) <= d * _NEWTON_TOLERANCE:
            return d
    raise ConvergenceError("stableswap invariant D did not converge")


def stableswap_invariant(balances: Sequence[Number], amplification: Number) -> Decimal:
    """StableSwap invariant ``D`` by Newton's iteration (Curve's ``get_D``, on real numbers).

    Convention (Curve whitepaper / docs.curve.finance): with ``n`` coins of balances ``x_i``,
    ``A * n**n * sum(x_i) + D = A * D * n**n + D**(n+1) / (n**n * prod(x_i))``. ``amplification``
    is this whitepaper ``A``; a contract's ``A()`` equals ``A * n ** (n - 1)`` (see
    :func:`stableswap_amplification_from_onchain`). ``D`` equals the sum of balances for a
    balanced pool. Converges to a relative change below 1e-45; raises :class:`ConvergenceError`
    otherwise.
    """
    xs = _balances(balances)
    amp = amplification_arg(amplification)
    with localcontext(CTX):
        return _stableswap_d(xs, amp)


def _stableswap_y(xs: Sequence[Decimal], j: int, d: Decimal, amp: Decimal) -> Decimal:
    n = len(xs)
    nd = Decimal(n)
    ann = _ann(amp, n)
    c = d
    s_ = ZERO
    for k, x in enumerate(xs):
        if k == j:
            continue
        s_ += x
        c = c * d / (x * nd)
    c = c * d / (ann * nd)
    b = s_ + d / ann - d
    # y**2 + b*y - c = 0 (Curve iterates Newton on this quadratic); take the positive root, in a
    # cancellation-free form.
    root = (b * b + 4 * c).sqrt()
    if b >= 0:
        return TWO * c / (b + root)
    return (root - b) / TWO


def stableswap_y(balances: Sequence[Number], j: int, d: Number, amplification: Number) -> Decimal:
    """Balance of coin ``j`` that keeps the invariant ``d`` given the other balances (``get_y``).

    ``balances[j]`` is ignored. Solves Curve's quadratic
    ``y**2 + (S' + D/Ann - D) * y = D**(n+1) / (n**n * prod' * Ann)`` in closed form, where
    ``S'``/``prod'`` run over the other coins and ``Ann = A * n**n``.
    """
    xs = _balances(balances)
    j = int_arg(j, "j")
    if not 0 <= j < len(xs):
        raise InvalidParameter("j", "coin index out of range")
    dd = positive_arg(d, "d")
    amp = amplification_arg(amplification)
    with localcontext(CTX):
        return _stableswap_y(xs, j, dd, amp)


def _stableswap_partials(xs: Sequence[Decimal], d: Decimal, amp: Decimal) -> list[Decimal]:
    n = len(xs)
    ann = _ann(amp, n)
    prod = ONE
    for x in xs:
        prod *= x
    k = d ** (n + 1) / (Decimal(n**n) * prod)
    return [ann + k / x for x in xs]


def stableswap_marginal_price(
    balances: Sequence[Number], amplification: Number, i: int = 0, j: int = 1, d: Number | None = None
) -> Decimal:
    """Marginal price of coin ``i`` in units of coin ``j``: ``-dx_j/dx_i`` along the invariant.

    Implicit differentiation of ``F = Ann*sum(x) + D(1-Ann) - D**(n+1)/(n**n prod(x))`` at
    constant D gives ``-dx_j/dx_i = F_i / F_j`` with ``F_k = Ann + D**(n+1)/(n**n prod(x) x_k)``.
    It is the (positive) amount of coin ``j`` received per unit of coin ``i`` sold, to first
    order. ``d`` defaults to the invariant of ``balances``.
    """
    xs = _balances(balances)
    amp = amplification_arg(amplification)
    i = int_arg(i, "i")
    j = int_arg(j, "j")
    if not (0 <= i < len(xs) and 0 <= j < len(xs)):
        raise InvalidParameter("i" if not 0 <= i < len(xs) else "j", "coin index out of range")
    with localcontext(CTX):
        dd = _stableswap_d(xs, amp) if d is None else positive_arg(d, "d")
        partials = _stableswap_partials(xs, dd, amp)
        return partials[i] / partials[j]


def _symmetric_state(y: Decimal, n: int, d: Decimal, ann: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Coin-0 balance ``x0``, constant ``K`` and price of coin 0 when the other n-1 coins hold ``y``.

    For fixed ``y`` the invariant is the quadratic ``Ann x0**2 + c1 x0 - K' = 0`` with
    ``c1 = Ann (n-1) y + D (1 - Ann)`` and ``K' = D**(n+1) / (n**n y**(n-1))``.
    """
    nd = Decimal(n)
    k_prime = d ** (n + 1) / (Decimal(n**n) * y ** (n - 1))
    c1 = ann * (nd - ONE) * y + d * (ONE - ann)
    root = (c1 * c1 + 4 * ann * k_prime).sqrt()
    x0 = TWO * k_prime / (c1 + root) if c1 >= 0 else (root - c1) / (TWO * ann)
    k = k_prime / x0
    price = (ann + k / x0) / (ann + k / y)
    return x0, k, price


def solve_symmetric(r: Decimal, n: int, amp: Decimal, start: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """Pool with all n balances 1 (D = n) after coin 0's price moves to ``r``: ``(x0, y)``.

    ``price(y)`` increases strictly with ``y`` on ``(0, inf)``; Newton's method with the analytic
    derivative runs inside a bracket ``(lo, hi)`` that every evaluation narrows; a step that leaves
    the bracket, or is not at most half the previous one, is replaced by doubling (no upper bound
    yet), halving (no lower bound yet) or a (geometric) bisection.
    """
    if r == 1:
        return ONE, ONE
    if n == 2 and r > 1 and start is None:
        # Two coins are symmetric: the state at r is the state at 1/r with the coins swapped, and
        # the r < 1 side converges in fewer iterations from the constant-product start.
        x0, y = solve_symmetric(ONE / r, n, amp)
        return y, x0
    nd = Decimal(n)
    n1 = nd - ONE
    ann = _ann(amp, n)
    d = nd
    tol = STABLESWAP_PRICE_TOLERANCE
    lo = ZERO
    hi: Decimal | None = None
    last_step: Decimal | None = None
    if start is not None:
        y = start  # warm start, e.g. the previous point of a curve
    else:
        # Constant-product start (prod(x) constant): y = r ** (1/n).
        y = r.sqrt() if n == 2 else _pow(r, ONE / nd)
    for _ in range(_MAX_ITERATIONS):
        x0, k, p = _symmetric_state(y, n, d, ann)
        if abs(p / r - ONE) <= tol:
            return x0, y
        if p < r:
            lo = y
        else:
            hi = y
        # d(price)/dy: x0' = -(n-1)/price, K' = K (-x0'/x0 - (n-1)/y), price = N/M.
        m = ann + k / y
        num = ann + k / x0
        dx0 = -n1 / p
        dk = k * (-dx0 / x0 - n1 / y)
        dnum = dk / x0 - k * dx0 / (x0 * x0)
        dm = dk / y - k / (y * y)
        dp = (dnum * m - num * dm) / (m * m)
        y_next = y - (p - r) / dp if dp > 0 else ZERO
        if hi is None:
            # No upper bound yet: at most double (a Newton step from the flat middle of a
            # high-A curve would land absurdly far out in the steep region).
            if y_next <= lo or y_next > y * TWO:
                y_next = y * TWO
        else:
            step = abs(y_next - y)
            # Bisect when Newton leaves the bracket or its steps stop halving (the slow one-sided
            # approach on the steep side of a high-A curve); quadratic convergence is unaffected.
            if not lo < y_next < hi or (last_step is not None and step > last_step / TWO):
                if lo == 0:
                    y_next = hi / TWO
                else:
                    y_next = (lo * hi).sqrt() if hi > lo * TWO else (lo + hi) / TWO
                last_step = None
            else:
                last_step = step
        if y_next == y:
            break
        y = y_next
    raise ConvergenceError(f"stableswap price solver did not reach relative tolerance {tol} (A={amp}, n={n}, r={r})")


def stableswap_value_after_price_move(
    price_ratio: Number, amplification: Number, n_coins: int = 2
) -> tuple[Decimal, Decimal, list[Decimal]]:
    """``(value_lp, value_hodl, balances)`` after coin 0's price moves by ``price_ratio``.

    The pool starts balanced (all coins worth 1, balance 1 each, value normalised to 1). Coin 0's
    external price becomes ``r`` while the others stay at 1; arbitrage moves the pool to the
    balances where the marginal price of coin 0 in any other coin equals ``r`` (the other coins
    stay equal by symmetry). The price is matched to a relative tolerance of
    :data:`STABLESWAP_PRICE_TOLERANCE` (1e-30) by a bracketed Newton iteration; failure raises
    :class:`ConvergenceError`. ``balances`` are those of a pool that started with one unit of
    each coin (initial value ``n``; ``value_lp`` and ``value_hodl`` are divided by ``n``).
    """
    r = positive_arg(price_ratio, "price_ratio")
    amp = amplification_arg(amplification)
    n = n_coins_arg(n_coins)
    with localcontext(CTX):
        x0, y = solve_symmetric(r, n, amp)
        nd = Decimal(n)
        value_lp = (r * x0 + (nd - ONE) * y) / nd
        value_hodl = (r + nd - ONE) / nd
        return value_lp, value_hodl, [x0] + [y] * (n - 1)


def stableswap_impermanent_loss(price_ratio: Number, amplification: Number, n_coins: int = 2) -> Decimal:
    """IL of a balanced stableswap position when coin 0's price moves by ``price_ratio``."""
    lp, hodl, _ = stableswap_value_after_price_move(price_ratio, amplification, n_coins)
    with localcontext(CTX):
        return lp / hodl - ONE


def stableswap_balances_at_prices(
    balances: Sequence[Number], amplification: Number, prices: Sequence[Number]
) -> list[Decimal]:
    """Balances (same invariant D) at which the pool's marginal prices equal ``prices``.

    General n-coin arbitrage solver. At equilibrium ``F_i = Ann + K/x_i = lambda * p_i`` with
    ``K = D**(n+1)/(n**n prod x)``; hence ``x_i = K/(lambda p_i - Ann)`` and
    ``K = D * (prod(lambda p_i - Ann) / n**n) ** (1/(n+1))``; the remaining invariant equation
    ``Ann sum(x_i) - K + D (1 - Ann) = 0`` is solved for ``lambda`` by bracketed Newton. The
    resulting price ratios match ``prices`` to :data:`STABLESWAP_PRICE_TOLERANCE` relative, or
    :class:`ConvergenceError` is raised.
    """
    xs = _balances(balances)
    amp = amplification_arg(amplification)
    ps = _balances(prices, "prices")
    if len(ps) != len(xs):
        raise InvalidParameter("prices", f"expected {len(xs)} prices, got {len(ps)}")
    with localcontext(CTX):
        d = _stableswap_d(xs, amp)
        result = _solve_general(d, amp, ps)
        partials = _stableswap_partials(result, d, amp)
        for k in range(1, len(ps)):
            if abs((partials[k] / partials[0]) / (ps[k] / ps[0]) - ONE) > STABLESWAP_PRICE_TOLERANCE:
                raise ConvergenceError("stableswap price solver did not reach its tolerance")
        return result


def _solve_general(d: Decimal, amp: Decimal, ps: Sequence[Decimal]) -> list[Decimal]:
    n = len(ps)
    nd = Decimal(n)
    ann = _ann(amp, n)
    p_min = min(ps)
    # lambda = Ann/p_min + delta with delta > 0; work in delta to avoid cancellation.
    gaps = [ann * (p / p_min - ONE) for p in ps]  # lambda*p_i - Ann = gap_i + p_i*delta
    n_pow = Decimal(n**n)
    inv_np1 = ONE / (nd + ONE)

    def evaluate(delta: Decimal) -> tuple[Decimal, Decimal, list[Decimal]]:
        terms = [g + p * delta for g, p in zip(gaps, ps, strict=True)]
        prod = ONE
        for t in terms:
            prod *= t
        k = d * ((prod / n_pow).ln() * inv_np1).exp()
        xs = [k / t for t in terms]
        g = ann * sum(xs, ZERO) - k + d * (ONE - ann)
        dk = k * inv_np1 * sum((p / t for p, t in zip(ps, terms, strict=True)), ZERO)
        dg = ann * sum(((dk - x * p) / t for x, p, t in zip(xs, ps, terms, strict=True)), ZERO) - dk
        return g, dg, xs

    delta = (ann + nd) / p_min  # exact for the balanced case with equal prices, a fine start
    g, dg, xs = evaluate(delta)
    lo = hi = delta
    if g > 0:
        while g > 0:
            lo = hi
            hi = hi * TWO
            g, dg, xs = evaluate(hi)
            if hi > Decimal("1e60"):
                raise ConvergenceError("stableswap price solver could not bracket lambda")
        delta = hi
    elif g < 0:
        while g < 0:
            hi = lo
            lo = lo / TWO
            g, dg, xs = evaluate(lo)
            if lo < Decimal("1e-60"):
                raise ConvergenceError("stableswap price solver could not bracket lambda")
        delta = lo
    for _ in range(_MAX_ITERATIONS):
        if g == 0:
            return xs
        if g > 0:
            lo = delta
        else:
            hi = delta
        step = g / dg if dg != 0 else ZERO
        nxt = delta - step
        if not lo < nxt < hi or step == 0:
            nxt = (lo * hi).sqrt()
        if abs(nxt - delta) <= delta * _NEWTON_TOLERANCE:
            _, _, xs = evaluate(nxt)
            return xs
        delta = nxt
        g, dg, xs = evaluate(delta)
    raise ConvergenceError("stableswap price solver did not converge")


def _pow(base: Decimal, exponent: Decimal) -> Decimal:
    """``base ** exponent`` for base > 0 via ln/exp (call inside the module context)."""
    if exponent == 0 or base == 1:
        return ONE
    if exponent == exponent.to_integral_value():
        return base ** int(exponent)
    return (base.ln() * exponent).exp()


def constant_sum_impermanent_loss(price_ratio: Number, n_coins: int = 2) -> Decimal:
    """IL of an ``n``-coin constant-sum pool (the A -> infinity limit of stableswap).

    Token 0's price moves by ``r``, the others keep price 1; arbitrage drains the dearer side,
    so ``value_lp = n * min(r, 1)`` against ``value_hodl = r + n - 1``.
    """
    r = positive_arg(price_ratio, "price_ratio")
    n = n_coins_arg(n_coins)
    with localcontext(CTX):
        return Decimal(n) * min(r, ONE) / (r + Decimal(n - 1)) - ONE
