"""The real-node rig: anvil from npm, the real Uniswap/OpenZeppelin contracts, web3.py.

Reusable outside pytest (the benchmark uses it):

    with AnvilNode(chain_id=31337) as node:
        w3 = node.web3()
        protocols = deploy_protocols(w3)

Everything comes from ``node_modules`` (``make node`` = ``npm ci --ignore-scripts``):
the anvil binary from ``@foundry-rs/anvil``'s platform package, started
directly (not through the node.js wrapper) so stopping it stops the node;
compiled artifacts from ``@uniswap/*`` and ``@openzeppelin/contracts``; and
``solc`` (solc-js) to compile the two test contracts in ``contracts/``, cached
under ``node_modules/.cache`` by a hash of their inputs.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3
from web3.contract import Contract

ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "node_modules"
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
GENESIS = datetime(2025, 1, 1, tzinfo=UTC)
BLOCK_INTERVAL = 12  # seconds between blocks: block n is at GENESIS + 12 n

ARTIFACTS = {
    "WETH9": "@uniswap/v2-periphery/build/WETH9.json",
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "@uniswap/v2-periphery/build/UniswapV2Router02.json",
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    ),
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "ERC20PresetMinterPauser": "@openzeppelin/contracts/build/contracts/ERC20PresetMinterPauser.json",
}
COMPILED = {"RebasingToken": "RebasingToken.sol", "TestVault": "TestVault.sol"}


class RigError(RuntimeError):
    """The rig cannot run (anvil or the npm packages missing, the node not starting)."""


def _missing(what: str) -> RigError:
    return RigError(
        f"{what} is missing: the wallet tests need the npm packages of package-lock.json. "
        "Run `make node` (npm ci --ignore-scripts; Node.js 20 and npm required)."
    )


def anvil_binary() -> Path:
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), platform.system())
    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    name = "anvil.exe" if system == "win32" else "anvil"
    path = NODE_MODULES / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / name
    if not path.is_file():
        raise _missing(f"the anvil binary ({path.relative_to(ROOT)})")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the node gets SIGTERM if the test process dies, even by SIGKILL (no orphans)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class AnvilNode:
    """One anvil process on a free loopback port, with a fixed chain id and genesis time."""

    def __init__(
        self,
        *,
        chain_id: int = 31337,
        genesis: datetime = GENESIS,
        accounts: int = 10,
        extra_args: tuple[str, ...] = (),
    ):
        self.chain_id, self.genesis, self.accounts, self.extra_args = chain_id, genesis, accounts, extra_args
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.gettempdir()) / f"yl-anvil-{chain_id}-{os.getpid()}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> AnvilNode:
        binary = anvil_binary()
        self.port = free_port()
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--timestamp",
            str(int(self.genesis.timestamp())),
            "--accounts",
            str(self.accounts),
            "--balance",
            "1000000",
            "--gas-limit",
            "100000000",
            "--code-size-limit",
            "49152",
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RigError(f"anvil exited with {self.process.returncode}: {self._log_tail()}")
            try:
                answer = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1)
                if int(answer.json()["result"], 16) == self.chain_id:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.05)
        else:
            self.stop()
            raise RigError(f"anvil did not answer on {self.url} within {timeout}s: {self._log_tail()}")
        self.rpc("anvil_setBlockTimestampInterval", BLOCK_INTERVAL)
        return self

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def rpc(self, method: str, *params: Any) -> Any:
        answer = httpx.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=60
        ).json()
        if "error" in answer:
            raise RigError(f"{method}: {answer['error']}")
        return answer["result"]

    def web3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 120}))

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", snapshot_id):
            raise RigError(f"evm_revert({snapshot_id}) failed")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- contracts ----------------------------------------------------------------


def _artifact(name: str) -> tuple[list[Any], str]:
    if name in COMPILED:
        contract = compile_test_contracts()[name]
        return contract["abi"], "0x" + contract["evm"]["bytecode"]["object"]
    path = NODE_MODULES / ARTIFACTS[name]
    if not path.is_file():
        raise _missing(f"the {name} artifact ({ARTIFACTS[name]})")
    data = json.loads(path.read_text())
    bytecode = data.get("bytecode") or data["evm"]["bytecode"]["object"]
    return data["abi"], bytecode if bytecode.startswith("0x") else "0x" + bytecode


def compile_test_contracts() -> dict[str, Any]:
    """Compile ``contracts/*.sol`` with npm's solc (cached by a hash of every input)."""
    solc_js = NODE_MODULES / "solc" / "solc.js"
    if not solc_js.is_file():
        raise _missing("solc (solc-js)")
    sources = {name: {"content": (CONTRACTS_DIR / name).read_text()} for name in sorted(set(COMPILED.values()))}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "paris",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    oz_version = json.loads((NODE_MODULES / "@openzeppelin/contracts/package.json").read_text())["version"]
    solc_version = json.loads((NODE_MODULES / "solc/package.json").read_text())["version"]
    key = hashlib.sha256(json.dumps([request, oz_version, solc_version], sort_keys=True).encode()).hexdigest()[:16]
    cache = NODE_MODULES / ".cache" / "yieldledger-contracts" / f"{key}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    run = subprocess.run(
        ["node", str(solc_js), "--standard-json", "--base-path", str(ROOT), "--include-path", str(NODE_MODULES)],
        input=json.dumps(request).encode(),
        capture_output=True,
        check=False,
        timeout=300,
    )
    text = run.stdout.decode()
    if run.returncode or "{" not in text:
        raise RigError(f"solc failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    output = json.loads(text[text.index("{") :])  # solc-js may print a notice line first
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RigError("solc: " + "\n".join(errors))
    contracts = {name: output["contracts"][source][name] for name, source in COMPILED.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(contracts))
    return contracts


def deploy(w3: Web3, name: str, *args: Any, sender: str | None = None) -> Contract:
    abi, bytecode = _artifact(name)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).transact({"from": sender or w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    address = receipt["contractAddress"]
    if receipt["status"] != 1 or address is None:
        raise RigError(f"deploying {name} reverted")
    return w3.eth.contract(address=address, abi=abi)


def at(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=_artifact(name)[0])


def send(fn: Any, sender: str, value: int = 0) -> Any:
    """Transact and wait; raise if the transaction reverted. Returns the receipt."""
    w3 = fn.w3
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "value": value}))
    if receipt.status != 1:
        raise RigError(f"{fn.fn_name} reverted")
    return receipt


@dataclass(frozen=True)
class Protocols:
    """The real Uniswap v2 and v3 deployed on the node."""

    weth: Contract
    v2_factory: Contract
    v2_router: Contract
    v3_factory: Contract
    position_manager: Contract
    swap_router: Contract

    def chain_config(
        self, chain_id: int, url: str, *, max_log_range: int = 10_000, confirmations: int = 0, batch_size: int = 50
    ) -> dict[str, Any]:
        """A chains.json entry for this local chain: configured exactly like a mainnet."""
        return {
            "chain_id": chain_id,
            "slug": f"anvil-{chain_id}",
            "name": f"Local anvil {chain_id}",
            "native": {"symbol": "ETH", "price_id": "coingecko:ethereum"},
            "rpc_urls": [url],
            "max_log_range": max_log_range,
            "confirmations": confirmations,
            "batch_size": batch_size,
            "wrapped_native": self.weth.address,
            "uniswap_v2": [{"name": "Uniswap V2", "factory": self.v2_factory.address}],
            "uniswap_v3": [
                {
                    "name": "Uniswap V3",
                    "factory": self.v3_factory.address,
                    "position_manager": self.position_manager.address,
                }
            ],
            "tokens": {self.weth.address: {"symbol": "WETH", "price_id": "coingecko:ethereum"}},
        }


def deploy_protocols(w3: Web3) -> Protocols:
    weth = deploy(w3, "WETH9")
    v2_factory = deploy(w3, "UniswapV2Factory", w3.eth.accounts[0])
    v2_router = deploy(w3, "UniswapV2Router02", v2_factory.address, weth.address)
    v3_factory = deploy(w3, "UniswapV3Factory")
    # No token descriptor: tokenURI is the only user of it, and nothing here reads it.
    npm = deploy(w3, "NonfungiblePositionManager", v3_factory.address, weth.address, "0x" + "00" * 20)
    swap_router = deploy(w3, "SwapRouter", v3_factory.address, weth.address)
    return Protocols(weth, v2_factory, v2_router, v3_factory, npm, swap_router)


def sqrt_price_x96(price: int | float) -> int:
    """sqrtPriceX96 for a whole-number (or simple) token1/token0 price."""
    from decimal import Decimal, getcontext

    getcontext().prec = 80
    return int(Decimal(price).sqrt() * (Decimal(2) ** 96))
