"""pools.naming: chain slugs, protocol names, addresses and price ids (pure: no database)."""

from __future__ import annotations

import pytest

from pools.naming import chain_slug, normalize_address, price_symbol_for, protocol_name, token_price_id

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.mark.parametrize(("name", "slug"), [("Ethereum", "ethereum"), (" Polygon zkEVM ", "polygon-zkevm"),
                                             ("op_bnb", "op_bnb")])
def test_chain_slug_is_lower_case_with_dashes(name, slug):
    assert chain_slug(name) == slug


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
    ("Unknown Chain", "0xabc", ""),
    ("Ethereum", "", ""),
])
def test_token_price_ids_follow_the_coins_api(chain, address, price_id):
    assert token_price_id(chain, address) == price_id


@pytest.mark.parametrize(("symbol", "series"), [("weth", "ETH"), (" WBTC ", "BTC"), ("USDC", "USDC"),
                                                 ("ETHFI", ""), ("", "")])
def test_price_symbols_name_a_series_of_the_bundled_price_file(symbol, series):
    assert price_symbol_for(symbol) == series
