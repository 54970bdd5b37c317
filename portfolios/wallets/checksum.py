"""EIP-55 mixed-case checksummed addresses (what wallets and explorers show)."""

from __future__ import annotations

import re

from Crypto.Hash import keccak

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class AddressError(ValueError):
    pass


def to_checksum(address: str) -> str:
    """``0xabc…`` (any case) -> its EIP-55 form."""
    if not _HEX_ADDRESS.fullmatch(address or ""):
        raise AddressError(f"{address!r} is not an address (0x and 40 hexadecimal digits)")
    plain = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=plain.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(plain, digest[:40], strict=True))


def parse_address(text: str) -> str:
    """A user-typed address, lower-case. All-lower or all-upper input is accepted as is;
    mixed case must be a correct checksum (a typo in one letter is caught)."""
    text = (text or "").strip()
    if not _HEX_ADDRESS.fullmatch(text):
        raise AddressError("Enter an address: 0x followed by 40 hexadecimal digits.")
    body = text[2:]
    if body != body.lower() and body != body.upper() and to_checksum(text) != text:
        raise AddressError("This address's upper/lower case does not match its checksum: check it for a typo.")
    return text.lower()
