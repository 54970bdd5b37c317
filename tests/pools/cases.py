"""Table of filter and ordering cases shared by the explorer and API tests (fixture: ``catalogue``)."""

FILTER_CASES = [
    ({}, ["steth", "usdc-usdt", "weth-usdc", "usdc-weth-v2", "aero-weth"]),
    ({"chain": "base"}, ["usdc-weth-v2", "aero-weth"]),
    ({"protocol": "curve-dex"}, ["steth", "usdc-usdt", "usdc-weth-v2"]),
    ({"kind": "concentrated"}, ["weth-usdc", "aero-weth"]),
    ({"stablecoin": "true"}, ["usdc-usdt"]),
    ({"no_il_risk": "true"}, ["steth", "usdc-usdt"]),
    ({"single_exposure": "true"}, ["steth"]),
    ({"min_tvl": "1000000"}, ["steth", "usdc-usdt", "weth-usdc", "usdc-weth-v2"]),
    ({"apy_min": "3", "apy_max": "20"}, ["usdc-usdt", "weth-usdc"]),
    ({"token": "usdc"}, ["usdc-usdt", "weth-usdc", "usdc-weth-v2"]),
    ({"token": "ETH"}, ["weth-usdc", "aero-weth", "usdc-weth-v2"]),  # a native coin finds its wrapped token
    ({"token": "WET"}, []),  # an exact symbol, not a substring
    ({"chain": "ethereum", "token": "weth"}, ["weth-usdc"]),
    ({"stablecoin": "", "no_il_risk": "false"}, ["steth", "usdc-usdt", "weth-usdc", "usdc-weth-v2", "aero-weth"]),
]

# DRF's convention: "key" ascending, "-key" descending; unknown values last either way,
# ties broken by id in the same direction.
ORDER_CASES = [
    ("-tvl", ["steth", "usdc-usdt", "weth-usdc", "usdc-weth-v2", "aero-weth"]),
    ("tvl", ["aero-weth", "usdc-weth-v2", "weth-usdc", "usdc-usdt", "steth"]),
    ("-apy", ["aero-weth", "weth-usdc", "usdc-usdt", "steth", "usdc-weth-v2"]),  # unknown APY last
    ("apy", ["steth", "usdc-usdt", "weth-usdc", "aero-weth", "usdc-weth-v2"]),  # ... in both directions
    ("-apy_base", ["weth-usdc", "aero-weth", "steth", "usdc-usdt", "usdc-weth-v2"]),
    ("apy_base", ["usdc-usdt", "steth", "aero-weth", "weth-usdc", "usdc-weth-v2"]),
    # equal values (two unknown reward APYs) are ordered by id in the sort's direction
    ("-apy_reward", ["aero-weth", "usdc-usdt", "steth", "usdc-weth-v2", "weth-usdc"]),
    ("apy_reward", ["steth", "usdc-usdt", "aero-weth", "weth-usdc", "usdc-weth-v2"]),
    ("-apy_mean_30d", ["weth-usdc", "usdc-usdt", "steth", "usdc-weth-v2", "aero-weth"]),
    ("apy_mean_30d", ["steth", "usdc-usdt", "weth-usdc", "aero-weth", "usdc-weth-v2"]),
    ("risk", ["usdc-usdt", "steth", "weth-usdc", "aero-weth", "usdc-weth-v2"]),
    ("-risk", ["aero-weth", "weth-usdc", "steth", "usdc-usdt", "usdc-weth-v2"]),
]
