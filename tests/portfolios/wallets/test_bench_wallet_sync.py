"""The benchmark's builder and reads at a tiny size, so the benchmark keeps working
(its timings are printed by ``python -m benchmarks.bench_wallet_sync``, not asserted here)."""

import pytest

from benchmarks.bench_wallet_sync import run
from tests.portfolios.wallets.rig import AnvilNode

pytestmark = pytest.mark.chain


def test_the_benchmark_reads_every_transfer_and_position_it_built():
    with AnvilNode(chain_id=31339) as node:
        result = run(node, transfers=60, v2=2, v3=3, pages=10, batch_size=7, repeat=1, n_tokens=3, n_others=2)
    # 60 plain transfers + 3 per v2 deposit (two tokens in, LP out) + 2 per v3 mint + one mint of each token.
    assert result["transfers"] == 60 + 2 * 3 + 3 * 2 + 3
    assert (result["lp_events"], result["positions"]) == (2, 3)
    assert result["pages"] > 1 and result["calls"] >= 4 * result["pages"]  # four log filters, every page
