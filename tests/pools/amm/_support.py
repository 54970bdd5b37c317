"""Shared helpers and hypothesis strategies for the pools.amm tests."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import settings
from hypothesis import strategies as st

D = Decimal
PROPERTY = settings(max_examples=100, deadline=None)
SLOW_PROPERTY = settings(max_examples=40, deadline=None)


def close(a: Decimal, b: Decimal, rel: str = "1e-40", abs_: str = "1e-50") -> bool:
    with localcontext() as ctx:
        ctx.prec = 80
        return abs(a - b) <= max(D(abs_), D(rel) * max(abs(a), abs(b)))


# Price ratios from 1e-3 to 1e3, as exact decimals.
ratios = st.integers(min_value=1, max_value=10**6).map(lambda k: D(k) / D(1000))
moderate_ratios = st.integers(min_value=50, max_value=20_000).map(lambda k: D(k) / D(1000))
amplifications = st.sampled_from([D("0.001"), D("0.5"), D(1), D(10), D(100), D(2000), D(10**6)])
n_coins = st.integers(min_value=2, max_value=5)

weights_strategy = st.integers(min_value=1, max_value=99).map(lambda k: [D(k) / D(100), D(100 - k) / D(100)])
range_strategy = st.tuples(
    st.integers(min_value=1, max_value=999).map(lambda k: D(k) / D(1000)),
    st.integers(min_value=1001, max_value=100_000).map(lambda k: D(k) / D(1000)),
)
TINY = D("1e-40")
