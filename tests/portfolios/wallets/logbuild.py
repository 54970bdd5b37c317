"""Build event logs for unit tests with an encoder that is not ours (eth_abi, from web3.py).

Topics come from eth_utils' Keccak of the written-out signature, so a wrong
constant in ``wallets.chain.abi`` cannot agree with these logs by accident.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from portfolios.wallets.chain.logs import LogId, RawLog

ZERO = "0x" + "00" * 20


def sig(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def topic(kind: str, value) -> str:
    return "0x" + encode([kind], [value]).hex()


def addr(n: int) -> str:
    """A deterministic lower-case address for tests."""
    return "0x" + f"{n:040x}"


class TxLogs:
    """Logs of one transaction, numbered in order."""

    def __init__(self, tx: str = "0x" + "ab" * 32, block: int = 100, first_index: int = 0):
        self.tx, self.block, self.index = tx, block, first_index
        self.logs: list[RawLog] = []

    def emit(
        self, contract: str, signature: str, indexed: list[tuple[str, object]], data: list[tuple[str, object]]
    ) -> RawLog:
        topics = (sig(signature), *(topic(k, v) for k, v in indexed))
        body = encode([k for k, _ in data], [v for _, v in data]) if data else b""
        log = RawLog(LogId(self.block, self.tx, self.index), contract, topics, body)
        self.index += 1
        self.logs.append(log)
        return log

    def transfer(self, token: str, sender: str, recipient: str, amount: int) -> RawLog:
        return self.emit(
            token,
            "Transfer(address,address,uint256)",
            [("address", sender), ("address", recipient)],
            [("uint256", amount)],
        )

    def nft_transfer(self, contract: str, sender: str, recipient: str, token_id: int) -> RawLog:
        return self.emit(
            contract,
            "Transfer(address,address,uint256)",
            [("address", sender), ("address", recipient), ("uint256", token_id)],
            [],
        )

    def v2_sync(self, pair: str, r0: int, r1: int) -> RawLog:
        return self.emit(pair, "Sync(uint112,uint112)", [], [("uint112", r0), ("uint112", r1)])

    def v2_mint(self, pair: str, sender: str, a0: int, a1: int) -> RawLog:
        return self.emit(
            pair, "Mint(address,uint256,uint256)", [("address", sender)], [("uint256", a0), ("uint256", a1)]
        )

    def v2_burn(self, pair: str, sender: str, a0: int, a1: int, to: str) -> RawLog:
        return self.emit(
            pair,
            "Burn(address,uint256,uint256,address)",
            [("address", sender), ("address", to)],
            [("uint256", a0), ("uint256", a1)],
        )

    def v3(self, manager: str, kind: str, token_id: int, *values) -> RawLog:
        if kind == "Collect":
            recipient, a0, a1 = values
            return self.emit(
                manager,
                "Collect(uint256,address,uint256,uint256)",
                [("uint256", token_id)],
                [("address", recipient), ("uint256", a0), ("uint256", a1)],
            )
        liquidity, a0, a1 = values
        return self.emit(
            manager,
            f"{kind}Liquidity(uint256,uint128,uint256,uint256)",
            [("uint256", token_id)],
            [("uint128", liquidity), ("uint256", a0), ("uint256", a1)],
        )
