"""The slice of the Solidity ABI the wallet decoders need, on plain bytes and ints.

Static types only (32-byte words): ``uint``/``int`` of any width, ``address``,
``bool``; plus ``string`` results (and the ``bytes32`` symbols of old tokens).
Addresses are lower-case ``0x`` strings everywhere in ``wallets.chain``;
checksummed input is accepted and lowered (the checksum itself is verified by
the chain-config tests, not here: EIP-55 needs Keccak, which the stdlib lacks).

Event topics and call selectors are Keccak-256 hashes written out as constants;
``tests/portfolios/wallets/test_abi.py`` recomputes every one of them.
"""

from __future__ import annotations

import re

WORD = 32
UINT256_MAX = 2**256 - 1
UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "00" * 20

# Event topics (topic 0): keccak256 of the canonical signature.
# Transfer(address,address,uint256)
TOPIC_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# Uniswap v2 pair: Mint(address,uint256,uint256), Burn(address,uint256,uint256,address), Sync(uint112,uint112).
TOPIC_V2_MINT = "0x4c209b5fc8ad50758f13e2e1088ba56a560dff690a1c6fef26394f4c03821c4f"
TOPIC_V2_BURN = "0xdccd412f0b1252819cb1fd330b93224ca42612892bb3f4f789976e6d81936496"
TOPIC_V2_SYNC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
# NonfungiblePositionManager: IncreaseLiquidity / DecreaseLiquidity(uint256,uint128,uint256,uint256),
# Collect(uint256,address,uint256,uint256).
TOPIC_V3_INCREASE = "0x3067048beee31b25b2f1681f88dac838c8bba36af25bfb2b7cf7473a5847e35f"
TOPIC_V3_DECREASE = "0x26f6a048ee9138f2c0ce266f322cb99228e8d619ae2bff30c67f8dcf9d2377b4"
TOPIC_V3_COLLECT = "0x40d0efd1a53d60ecbf40971b9daf7dc90178c3aadc7aab1765632738fa8b8f01"
# ERC-4626: Deposit(address,address,uint256,uint256), Withdraw(address,address,address,uint256,uint256).
TOPIC_4626_DEPOSIT = "0xdcbc1c05240f31ff3ad067ef1ee35ce4997762752e3a095284754544f4c709d7"
TOPIC_4626_WITHDRAW = "0xfbde797d201c681b91056529119e0b02407c7bb96a4a2c75c01fc9667232c8db"

# Call selectors: the first 4 bytes of keccak256 of the signature.
SEL_BALANCE_OF = "0x70a08231"  # balanceOf(address)
SEL_DECIMALS = "0x313ce567"  # decimals()
SEL_SYMBOL = "0x95d89b41"  # symbol()
SEL_TOTAL_SUPPLY = "0x18160ddd"  # totalSupply()
SEL_TOKEN0 = "0x0dfe1681"  # token0()
SEL_TOKEN1 = "0xd21220a7"  # token1()
SEL_FACTORY = "0xc45a0155"  # factory()
SEL_GET_RESERVES = "0x0902f1ac"  # getReserves()
SEL_POSITIONS = "0x99fbab88"  # positions(uint256)
SEL_COLLECT = "0xfc6f7865"  # collect((uint256,address,uint128,uint128))
SEL_GET_POOL = "0x1698ee82"  # getPool(address,address,uint24)
SEL_OWNER_OF = "0x6352211e"  # ownerOf(uint256)
SEL_ASSET = "0x38d52e0f"  # asset()
SEL_CONVERT_TO_ASSETS = "0x07a2d13a"  # convertToAssets(uint256)

_HEX = re.compile(r"0x[0-9a-fA-F]*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class AbiError(ValueError):
    """Bytes that do not have the shape the ABI promises."""


def hex_to_bytes(value: str) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
        raise AbiError(f"not an even-length 0x hex string: {value!r:.80}")
    return bytes.fromhex(value[2:])


def to_hex(data: bytes) -> str:
    return "0x" + data.hex()


def quantity(value: str | int) -> int:
    """A JSON-RPC quantity (``"0x1a"``) as an int."""
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value.startswith("0x"):
        raise AbiError(f"not a hex quantity: {value!r:.80}")
    return int(value, 16)


def address(value: str) -> str:
    """Validate a 20-byte hex address and return it lower-case."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise AbiError(f"not a 20-byte 0x address: {value!r:.80}")
    return value.strip().lower()


# ---- decoding -------------------------------------------------------------


def word(data: bytes, index: int) -> bytes:
    start = index * WORD
    if start + WORD > len(data):
        raise AbiError(f"word {index} is past the end of {len(data)} bytes")
    return data[start : start + WORD]


def uint_at(data: bytes, index: int, bits: int = 256) -> int:
    value = int.from_bytes(word(data, index), "big")
    if value >> bits:
        raise AbiError(f"word {index} does not fit uint{bits}")
    return value


def int_at(data: bytes, index: int, bits: int = 256) -> int:
    """A signed integer (two's complement, sign-extended to 256 bits)."""
    value = int.from_bytes(word(data, index), "big", signed=True)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise AbiError(f"word {index} does not fit int{bits}")
    return value


def address_at(data: bytes, index: int) -> str:
    raw = word(data, index)
    if any(raw[:12]):
        raise AbiError(f"word {index} is not an address (high bytes set)")
    return "0x" + raw[12:].hex()


def topic_address(topic: str) -> str:
    return address_at(hex_to_bytes(topic), 0)


def topic_uint(topic: str) -> int:
    return uint_at(hex_to_bytes(topic), 0)


def decode_string(data: bytes) -> str:
    """A ``string`` return value, or the ``bytes32`` some old tokens return
    for ``symbol()`` (MKR, SAI). Invalid UTF-8 is replaced, never raised."""
    if len(data) == WORD:
        return data.rstrip(b"\0").decode("utf-8", "replace")
    offset = uint_at(data, 0)
    if offset % WORD or offset + WORD > len(data):
        raise AbiError("string offset out of range")
    length = int.from_bytes(data[offset : offset + WORD], "big")
    start = offset + WORD
    if start + length > len(data):
        raise AbiError("string runs past the end of the data")
    return data[start : start + length].decode("utf-8", "replace")


# ---- encoding -------------------------------------------------------------


def encode_uint(value: int, bits: int = 256) -> bytes:
    if not 0 <= value < 2**bits:
        raise AbiError(f"{value} does not fit uint{bits}")
    return value.to_bytes(WORD, "big")


def encode_int(value: int, bits: int = 256) -> bytes:
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise AbiError(f"{value} does not fit int{bits}")
    return value.to_bytes(WORD, "big", signed=True)


def encode_address(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(address(value)[2:])


def address_topic(value: str) -> str:
    """An address as an indexed-event topic (left-padded to 32 bytes)."""
    return to_hex(encode_address(value))


def uint_topic(value: int) -> str:
    return to_hex(encode_uint(value))


def call_data(selector: str, *words: bytes) -> str:
    """Calldata for a function with static arguments, already encoded as words."""
    if len(selector) != 10:
        raise AbiError(f"selector must be 4 bytes: {selector!r}")
    return selector + b"".join(words).hex()
