"""LP receipts are named for people in reports (issue 11 item 3)."""

import pytest

from portfolios.tax.naming import pair_label, receipt_name


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"position_id": 12, "kind": "concentrated_lp", "pool_symbol": "WETH-USDC", "protocol": "uniswap-v3"},
     "LP ETH/USDC v3 range #12"),
    ({"position_id": 3, "kind": "lp", "pool_symbol": "WETH-USDC", "protocol": "Uniswap V2"}, "LP ETH/USDC v2 #3"),
    ({"position_id": 7, "kind": "liquid_staking", "pool_symbol": "STETH", "protocol": "lido"}, "Staked STETH #7"),
    ({"position_id": 9, "kind": "lending", "pool_symbol": "USDC", "protocol": "aave-v3"}, "Lent USDC v3 #9"),
    ({"position_id": 5, "kind": "farm", "label": "My CRV farm"}, "LP My CRV farm #5"),
    ({"position_id": 4}, "LP #4"),
    ({"position_id": 8, "pool_symbol": "DAI-USDC-USDT", "protocol": "curve-dex"}, "LP DAI/USDC/USDT #8"),
])
def test_receipt_names_read_as_a_person_would_write_them(kwargs, name):
    assert receipt_name(**kwargs) == name


def test_a_version_is_only_taken_from_a_separate_word():
    assert receipt_name(position_id=1, pool_symbol="A-B", protocol="dev3lopers") == "LP A/B #1"
    assert pair_label("WBTC / WETH") == "BTC/ETH"
