"""pools.naming: chain slugs, protocol names, addresses and price ids (pure: no database)."""

from __future__ import annotations

import pytest

from pools.naming import (
    chain_display_name,
    chain_slug,
    normalize_address,
    pool_display_name,
    price_symbol_for,
    protocol_name,
    token_price_id,
    token_symbol_equivalents,
)

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.mark.parametrize(("name", "slug"), [
    ("Ethereum", "ethereum"),
    (" Polygon zkEVM ", "polygonzkevm"),
    ("Op_bnb", "opbnb"),  # DeFiLlama spells opBNB two ways in the same payload
    ("Opbnb", "opbnb"),
    ("op-BNB", "opbnb"),
    ("BNB Chain", "bsc"),  # known aliases
    ("zkSync Era", "zksync"),
])
def test_every_spelling_of_a_chain_gives_one_slug(name, slug):
    assert chain_slug(name) == slug


@pytest.mark.parametrize(("name", "shown"), [("Op_bnb", "opBNB"), ("Opbnb", "opBNB"), ("Ethereum", "Ethereum"),
                                              ("Zksync", "zkSync Era"), ("Some New Chain", "Some New Chain")])
def test_chains_are_shown_under_one_name(name, shown):
    assert chain_display_name(name) == shown


@pytest.mark.parametrize(("query", "symbols"), [
    ("ETH", ("ETH", "WETH")), ("weth", ("ETH", "WETH")), ("bnb", ("BNB", "WBNB")), ("AVAX", ("AVAX", "WAVAX")),
    ("matic", ("MATIC", "POL", "WMATIC", "WPOL")), ("POL", ("MATIC", "POL", "WMATIC", "WPOL")),
    ("USDC", ("USDC",)), (" ", ()),
])
def test_a_native_coin_and_its_wrapped_token_are_one_search(query, symbols):
    assert token_symbol_equivalents(query) == symbols


@pytest.mark.parametrize(("symbol", "meta", "address", "name"), [
    ("USDC-WETH", "0.05%", "", "USDC-WETH 0.05\u00a0% · Uniswap V3 · Ethereum"),
    ("WETH-USDC", "CL200 - 0.3%", "", "WETH-USDC CL200 0.3\u00a0% · Uniswap V3 · Ethereum"),
    ("USDC-WETH", "", "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640",
     "USDC-WETH pool 0x88e6…5640 · Uniswap V3 · Ethereum"),  # no meta: the contract tells them apart
    ("USDC-WETH", "", "", "USDC-WETH · Uniswap V3 · Ethereum"),
])
def test_a_pool_is_named_with_its_fee_tier_or_meta(symbol, meta, address, name):
    assert pool_display_name(symbol, meta, "Uniswap V3", "Ethereum", address) == name


@pytest.mark.parametrize(("slug", "name"), [
    ("uniswap-v3", "Uniswap V3"),  # from the table of known names
    ("curve-dex", "Curve DEX"),  # the table keeps the house spelling
    ("balancer-v2", "Balancer V2"),  # built: a version suffix is upper-cased
    ("aave-v3", "Aave V3"),
    ("lido", "Lido"),
    ("velodrome-vault", "Velodrome Vault"),  # "vault" starts with v but is not a version
])
def test_protocol_names_come_from_the_table_or_the_slug(slug, name):
    assert protocol_name(slug) == name


def test_evm_addresses_are_lower_cased_and_others_kept():
    assert normalize_address(" 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2 ") == WETH
    assert normalize_address("0XABC") == "0xabc"
    solana = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert normalize_address(solana) == solana


@pytest.mark.parametrize(("chain", "address", "price_id"), [
    ("Ethereum", WETH, f"ethereum:{WETH}"),
    ("Avalanche", "0xabc", "avax:0xabc"),  # DeFiLlama's coins prefix differs from the chain slug
    ("Gnosis", "0xabc", "xdai:0xabc"),
    ("Arbitrum", "0x0000000000000000000000000000000000000000", "coingecko:ethereum"),  # native ETH
    ("BSC", "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "coingecko:binancecoin"),
    ("Polygon", "0x0000000000000000000000000000000000000000", ""),  # native coin we do not map
    ("Op_bnb", "0xabc", "op_bnb:0xabc"),  # either spelling
    ("Opbnb", "0xabc", "op_bnb:0xabc"),
    ("Unknown Chain", "0xabc", ""),
    ("Ethereum", "", ""),
])
def test_token_price_ids_follow_the_coins_api(chain, address, price_id):
    assert token_price_id(chain, address) == price_id


@pytest.mark.parametrize(("symbol", "series"), [("weth", "ETH"), (" WBTC ", "BTC"), ("USDC", "USDC"),
                                                 ("ETHFI", ""), ("", "")])
def test_price_symbols_name_a_series_of_the_bundled_price_file(symbol, series):
    assert price_symbol_for(symbol) == series
