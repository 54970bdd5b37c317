"""The issue's scenario played on a real node, with what each step did on record.

Alice (the synced wallet) provides liquidity on Uniswap v2 (token/token and
token/ETH through the router) and v3 (one position, alone in range so that
every swap fee is hers), a trader swaps both ways, Alice collects fees only,
then decreases-and-collects in one multicall, gives position #1 to Bob, keeps
position #2, removes half her v2 liquidity, holds a rebasing token through a
rebase and an ERC-4626 vault share through a donation to the vault.

Facts recorded here are inputs (amounts sent, parameters) and receipts; the
tests compare what the reader decodes against them and against the chain's
own state (``balanceOf``, ``getReserves``, ``positions``) at the right block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract

from tests.portfolios.wallets.rig import AnvilNode, Protocols, at, deploy, deploy_protocols, send, sqrt_price_x96

E18 = 10**18
MAX_U128 = 2**128 - 1
DEADLINE = 2**40
FEE_TIER = 3000  # 0.3 %
TICK_LOWER, TICK_UPPER = -600, 600  # position #1 (tick spacing 60 at 0.3 %)
TICK_LOWER_2, TICK_UPPER_2 = -1200, 1200  # position #2, minted after the last swap
# Swaps through the v3 pool: (round, token in is token0?, amount in). Round 1 is
# collected fee-only, round 2 by the decrease-and-collect multicall.
V3_SWAPS = [(1, True, 100 * E18), (1, False, 150 * E18), (2, True, 200 * E18), (2, False, 50 * E18)]
V2_SWAP_IN = 1_000 * E18
REBASE_FROM, REBASE_TO = 150 * E18, 165 * E18  # rebasing token: total pooled before/after (+10 %)
VAULT_DEPOSIT, VAULT_DONATION = 1_000 * E18, 100 * E18


@dataclass
class Step:
    name: str
    block: int
    tx_hash: str
    receipt: Any


@dataclass
class Scenario:
    node: AnvilNode
    w3: Web3
    protocols: Protocols
    deployer: str
    alice: str
    bob: str
    trader: str
    token0: Contract  # the v3/v2 pair's token0 (lower address)
    token1: Contract
    pair: Contract  # v2 token0/token1
    eth_pair: Contract  # v2 token0/WETH
    v3_pool: Contract
    rebasing: Contract
    vault: Contract
    token_id: int  # position #1: fees collected, decreased, then given to Bob
    token_id_2: int  # position #2: stays with Alice
    lp_minted: int
    start_block: int
    steps: dict[str, Step] = field(default_factory=dict)
    v3_liquidity_1: int = 0

    def step(self, name: str) -> Step:
        return self.steps[name]

    @property
    def end_block(self) -> int:
        return self.w3.eth.block_number

    def chain_config(self, **kwargs: Any) -> dict[str, Any]:
        config = self.protocols.chain_config(self.node.chain_id, self.node.url, **kwargs)
        config["rebasing_tokens"] = [self.rebasing.address]
        return config


def _record(s: Scenario, name: str, receipt: Any) -> Step:
    step = Step(name, receipt.blockNumber, "0x" + receipt.transactionHash.hex().removeprefix("0x"), receipt)
    s.steps[name] = step
    return step


def play(node: AnvilNode) -> Scenario:
    w3 = node.web3()
    deployer, alice, bob, trader = w3.eth.accounts[:4]
    protocols = deploy_protocols(w3)
    start_block = w3.eth.block_number + 1
    a = deploy(w3, "ERC20PresetMinterPauser", "Token A", "TKA")
    b = deploy(w3, "ERC20PresetMinterPauser", "Token B", "TKB")
    token0, token1 = sorted([a, b], key=lambda c: int(c.address, 16))
    rebasing = deploy(w3, "RebasingToken")
    vault = deploy(w3, "TestVault", token0.address)
    for token in (token0, token1):
        for who in (alice, trader):
            send(token.functions.mint(who, 1_000_000 * E18), deployer)
            for spender in (protocols.v2_router, protocols.position_manager, protocols.swap_router, vault):
                send(token.functions.approve(spender.address, 2**256 - 1), who)
    v2, npm, router = protocols.v2_router, protocols.position_manager, protocols.swap_router

    s = Scenario(node, w3, protocols, deployer.lower(), alice.lower(), bob.lower(), trader.lower(), token0, token1,
                 pair=None, eth_pair=None, v3_pool=None, rebasing=rebasing, vault=vault, token_id=0, token_id_2=0,
                 lp_minted=0, start_block=start_block)  # type: ignore[arg-type]  # fmt: skip

    # Uniswap v2: token/token and token/ETH deposits, a trader's swap.
    _record(s, "v2_add", send(v2.functions.addLiquidity(token0.address, token1.address, 10_000 * E18,
                                                         20_000 * E18, 0, 0, alice, DEADLINE), alice))  # fmt: skip
    s.pair = at(w3, "UniswapV2Pair", protocols.v2_factory.functions.getPair(token0.address, token1.address).call())
    s.lp_minted = s.pair.functions.balanceOf(alice).call()
    _record(s, "v2_add_eth", send(v2.functions.addLiquidityETH(token0.address, 1_000 * E18, 0, 0, alice, DEADLINE),
                                  alice, value=5 * E18))  # fmt: skip
    s.eth_pair = at(w3, "UniswapV2Pair", protocols.v2_factory.functions.getPair(token0.address,
                                                                                protocols.weth.address).call())  # fmt: skip
    _record(s, "v2_swap", send(v2.functions.swapExactTokensForTokens(V2_SWAP_IN, 0, [token0.address, token1.address],
                                                                     trader, DEADLINE), trader))  # fmt: skip

    # Uniswap v3: a pool at price 1, Alice's position #1 alone in range.
    send(npm.functions.createAndInitializePoolIfNecessary(token0.address, token1.address, FEE_TIER,
                                                          sqrt_price_x96(1)), deployer)  # fmt: skip
    s.v3_pool = at(w3, "UniswapV3Pool",
                   protocols.v3_factory.functions.getPool(token0.address, token1.address, FEE_TIER).call())  # fmt: skip
    mint = (token0.address, token1.address, FEE_TIER, TICK_LOWER, TICK_UPPER, 10_000 * E18, 10_000 * E18, 0, 0,
            alice, DEADLINE)  # fmt: skip
    s.token_id = npm.functions.mint(mint).call({"from": alice})[0]
    _record(s, "v3_mint", send(npm.functions.mint(mint), alice))
    s.v3_liquidity_1 = npm.functions.positions(s.token_id).call()[7]

    for round_no in (1, 2):
        for i, (r, zero_for_one, amount_in) in enumerate(V3_SWAPS):
            if r != round_no:
                continue
            tin, tout = (token0, token1) if zero_for_one else (token1, token0)
            params = (tin.address, tout.address, FEE_TIER, trader, DEADLINE, amount_in, 0, 0)
            _record(s, f"v3_swap_{i}", send(router.functions.exactInputSingle(params), trader))
        if round_no == 1:
            _record(s, "v3_collect_fees", send(npm.functions.collect((s.token_id, alice, MAX_U128, MAX_U128)), alice))
        else:
            half = s.v3_liquidity_1 // 2
            calls = [
                npm.encode_abi("decreaseLiquidity", [(s.token_id, half, 0, 0, DEADLINE)]),
                npm.encode_abi("collect", [(s.token_id, alice, MAX_U128, MAX_U128)]),
            ]
            _record(s, "v3_decrease_collect", send(npm.functions.multicall(calls), alice))

    mint2 = (token0.address, token1.address, FEE_TIER, TICK_LOWER_2, TICK_UPPER_2, 500 * E18, 500 * E18, 0, 0,
             alice, DEADLINE)  # fmt: skip
    s.token_id_2 = npm.functions.mint(mint2).call({"from": alice})[0]
    _record(s, "v3_mint_2", send(npm.functions.mint(mint2), alice))
    _record(s, "v3_give", send(npm.functions.safeTransferFrom(alice, bob, s.token_id), alice))

    # Back to v2: remove half of the token/token liquidity.
    send(s.pair.functions.approve(v2.address, 2**256 - 1), alice)
    _record(s, "v2_remove", send(v2.functions.removeLiquidity(token0.address, token1.address, s.lp_minted // 2, 0, 0,
                                                              alice, DEADLINE), alice))  # fmt: skip

    # A rebasing token: 100 to Alice, 50 to Bob, Alice sends Bob 10, then +10 % for everyone.
    _record(s, "rebasing_mint_alice", send(rebasing.functions.mint(alice, 100 * E18), deployer))
    send(rebasing.functions.mint(bob, 50 * E18), deployer)
    _record(s, "rebasing_transfer", send(rebasing.functions.transfer(bob, 10 * E18), alice))
    _record(s, "rebase", send(rebasing.functions.rebase(REBASE_TO), deployer))

    # An ERC-4626 vault: Alice deposits, the vault earns (a donation of its asset).
    _record(s, "vault_deposit", send(vault.functions.deposit(VAULT_DEPOSIT, alice), alice))
    _record(s, "vault_yield", send(token0.functions.transfer(vault.address, VAULT_DONATION), trader))
    return s
