"""The database benchmark at a tiny size, so it keeps working (its timings are printed by
``python -m benchmarks.bench_wallet_sync_db``, not asserted here)."""

import pytest

from benchmarks.bench_wallet_sync_db import run
from tests.portfolios.wallets.rig import AnvilNode

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def test_the_db_benchmark_writes_every_transfer_and_position_it_built():
    with AnvilNode(chain_id=31340) as node:
        result = run(node, transfers=40, v2=2, v3=2, pages=10, batch_size=7, repeat=1, n_tokens=3, n_others=2)
    # 40 plain transfers + one mint of each token to the wallet; the LP transfers are absorbed into
    # 2 v2 deposits and 2 v3 deposits.
    assert result["transactions"] == 40 + 3 + 2 + 2
    assert result["positions"] == 4 and result["mismatches"] == 0
    assert result["events"] == result["transactions"]
