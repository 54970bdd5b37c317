"""The shipped chains file and the validator's error messages."""

import copy
import json

import pytest
from eth_utils import is_checksum_address

from portfolios.wallets.chain.config import DEFAULT_PATH, ChainConfigError, load_chains, parse_chains

RAW = json.loads(DEFAULT_PATH.read_text())


def _addresses(obj):
    """Every mixed-case address string in the raw file (keys and values)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _addresses(k)
            yield from _addresses(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _addresses(v)
    elif isinstance(obj, str) and obj.startswith("0x") and len(obj) == 42:
        yield obj


def test_the_shipped_file_loads_the_seven_mainnets():
    chains = {c.slug: c for c in load_chains()}
    assert {c.chain_id for c in chains.values()} == {1, 42161, 10, 8453, 137, 56, 43114}
    eth = chains["ethereum"]
    assert "0xc36442b4a4522e871399cd717abdd847ab11fe88" in eth.position_managers
    assert "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f" in eth.v2_factories
    assert eth.tokens["0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"].price_id == "coingecko:usd-coin"
    assert "0xae7ab96520de3a18e5e111b5eaab095312d7fe84" in eth.rebasing_tokens
    assert eth.explorer_tx_url("0xabc") == "https://etherscan.io/tx/0xabc"
    for chain in chains.values():
        assert chain.wrapped_native in chain.tokens, chain.slug
        assert chain.rpc_urls and chain.uniswap_v2 and chain.uniswap_v3


def test_every_address_in_the_shipped_file_carries_a_valid_eip55_checksum():
    """A typo in a hand-copied address breaks its checksum (or it would be all one case)."""
    addresses = list(_addresses(RAW))
    assert len(addresses) > 60
    for a in addresses:
        assert is_checksum_address(a), a  # all-lower-case is refused too: the file keeps the checksummed form


def test_every_problem_is_reported_with_its_path():
    bad = copy.deepcopy(RAW)
    bad["chains"][0]["uniswap_v3"][0]["factory"] = "0x1234"
    bad["chains"][1]["max_log_range"] = 0
    bad["chains"][2]["tokens"]["0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85"]["price_id"] = "usd coin"
    bad["chains"][3]["chain_id"] = 1
    del bad["chains"][4]["rpc_urls"]
    bad["chains"][5]["colour"] = "yellow"
    with pytest.raises(ChainConfigError) as err:
        parse_chains(bad, "chains.json")
    problems = err.value.problems
    assert any(p.startswith("chains[0].uniswap_v3[0].factory: not a 20-byte 0x address") for p in problems)
    assert "chains[1].max_log_range: 0 is outside 1..10000000" in problems
    assert any(
        p.startswith("chains[2].tokens[0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85].price_id: not a price id")
        for p in problems
    )
    assert "chains[3].chain_id: 1 appears twice" in problems
    assert "chains[4].rpc_urls: missing" in problems
    assert "chains[5].colour: unknown key" in problems
    assert str(err.value).startswith("chains.json: ")


def test_a_wrong_format_version_or_a_non_object_is_refused():
    with pytest.raises(ChainConfigError, match=r"\$\.format: expected 1"):
        parse_chains({"format": 2, "chains": []})
    with pytest.raises(ChainConfigError, match="expected an object"):
        parse_chains([])


def test_invalid_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "chains.json"
    path.write_text('{"format": 1,\n "chains": [}')
    with pytest.raises(ChainConfigError, match=r"chains\.json: line 2 column"):
        load_chains(path)


def test_types_are_checked_booleans_are_not_numbers():
    bad = copy.deepcopy(RAW)
    bad["chains"][0]["confirmations"] = True
    with pytest.raises(ChainConfigError, match=r"chains\[0\]\.confirmations: expected int, got bool"):
        parse_chains(bad)
