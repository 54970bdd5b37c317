"""The ABI slice: every hard-coded hash recomputed, encode/decode round trips."""

import pytest
from eth_abi import decode, encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.wallets.chain import abi

PROPERTY = settings(max_examples=200, deadline=None)

EVENTS = {
    "TOPIC_TRANSFER": "Transfer(address,address,uint256)",
    "TOPIC_V2_MINT": "Mint(address,uint256,uint256)",
    "TOPIC_V2_BURN": "Burn(address,uint256,uint256,address)",
    "TOPIC_V2_SYNC": "Sync(uint112,uint112)",
    "TOPIC_V3_INCREASE": "IncreaseLiquidity(uint256,uint128,uint256,uint256)",
    "TOPIC_V3_DECREASE": "DecreaseLiquidity(uint256,uint128,uint256,uint256)",
    "TOPIC_V3_COLLECT": "Collect(uint256,address,uint256,uint256)",
    "TOPIC_4626_DEPOSIT": "Deposit(address,address,uint256,uint256)",
    "TOPIC_4626_WITHDRAW": "Withdraw(address,address,address,uint256,uint256)",
}
SELECTORS = {
    "SEL_BALANCE_OF": "balanceOf(address)",
    "SEL_DECIMALS": "decimals()",
    "SEL_SYMBOL": "symbol()",
    "SEL_TOTAL_SUPPLY": "totalSupply()",
    "SEL_TOKEN0": "token0()",
    "SEL_TOKEN1": "token1()",
    "SEL_FACTORY": "factory()",
    "SEL_GET_RESERVES": "getReserves()",
    "SEL_POSITIONS": "positions(uint256)",
    "SEL_COLLECT": "collect((uint256,address,uint128,uint128))",
    "SEL_GET_POOL": "getPool(address,address,uint24)",
    "SEL_OWNER_OF": "ownerOf(uint256)",
    "SEL_ASSET": "asset()",
    "SEL_CONVERT_TO_ASSETS": "convertToAssets(uint256)",
}


@pytest.mark.parametrize("name,signature", EVENTS.items())
def test_event_topic_is_the_keccak_of_its_signature(name, signature):
    assert getattr(abi, name) == "0x" + keccak(text=signature).hex()


@pytest.mark.parametrize("name,signature", SELECTORS.items())
def test_selector_is_the_first_four_bytes_of_the_keccak(name, signature):
    assert getattr(abi, name) == "0x" + keccak(text=signature)[:4].hex()


addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@PROPERTY
@given(st.integers(0, abi.UINT256_MAX), st.integers(-(2**23), 2**23 - 1), addresses)
def test_our_decoder_reads_what_eth_abi_encodes(u, tick, who):
    data = encode(["uint256", "int24", "address"], [u, tick, who])
    assert abi.uint_at(data, 0) == u
    assert abi.int_at(data, 1, 24) == tick
    assert abi.address_at(data, 2) == who


@PROPERTY
@given(st.integers(0, abi.UINT256_MAX), st.integers(-(2**255), 2**255 - 1), addresses)
def test_eth_abi_reads_what_our_encoder_writes(u, i, who):
    data = abi.encode_uint(u) + abi.encode_int(i) + abi.encode_address(who)
    assert decode(["uint256", "int256", "address"], data) == (u, i, who)


@PROPERTY
@given(st.text(max_size=80))
def test_strings_round_trip_through_eth_abi(text):
    assert abi.decode_string(encode(["string"], [text])) == text


def test_bytes32_symbols_of_old_tokens_are_read_as_text():
    assert abi.decode_string(b"MKR".ljust(32, b"\0")) == "MKR"


def test_values_too_wide_for_their_type_are_rejected():
    with pytest.raises(abi.AbiError):
        abi.int_at(encode(["int256"], [2**23]), 0, 24)
    with pytest.raises(abi.AbiError):
        abi.uint_at(encode(["uint256"], [2**128]), 0, 128)
    with pytest.raises(abi.AbiError):
        abi.address_at(encode(["uint256"], [2**160]), 0)
    with pytest.raises(abi.AbiError):
        abi.encode_uint(-1)


@pytest.mark.parametrize("bad", ["", "0x123", "0x" + "g" * 40, "0x" + "1" * 41, None, 5])
def test_malformed_addresses_are_refused(bad):
    with pytest.raises(abi.AbiError):
        abi.address(bad)


def test_checksummed_addresses_are_lowered():
    assert abi.address("0xC36442b4a4522E871399CD717aBDD847Ab11FE88") == "0xc36442b4a4522e871399cd717abdd847ab11fe88"


def test_call_data_matches_eth_abi_encoding_of_the_arguments():
    who = "0x" + "12" * 20
    expected = "0x70a08231" + encode(["address"], [who]).hex()
    assert abi.call_data(abi.SEL_BALANCE_OF, abi.encode_address(who)) == expected
