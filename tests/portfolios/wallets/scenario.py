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


def play(node: AnvilNode) -> Scenario:
    w3 = node.web3()
    deployer, alice, bob, trader = list(w3.eth.accounts)[:4]
    protocols = deploy_protocols(w3)
    start_block = w3.eth.block_number + 1
    steps: dict[str, Step] = {}

    def tx(name: str, fn: Any, sender: str, value: int = 0) -> Step:
        receipt = send(fn, sender, value)
        steps[name] = Step(name, receipt.blockNumber, receipt.transactionHash.to_0x_hex(), receipt)
        return steps[name]

    a = deploy(w3, "ERC20PresetMinterPauser", "Token A", "TKA")
    b = deploy(w3, "ERC20PresetMinterPauser", "Token B", "TKB")
    token0, token1 = sorted([a, b], key=lambda c: int(c.address, 16))
    t0, t1 = token0.address, token1.address
    rebasing = deploy(w3, "RebasingToken")
    vault = deploy(w3, "TestVault", t0)
    v2, npm, router = protocols.v2_router, protocols.position_manager, protocols.swap_router
    for token in (token0, token1):
        for who in (alice, trader):
            send(token.functions.mint(who, 1_000_000 * E18), deployer)
            for spender in (v2, npm, router, vault):
                send(token.functions.approve(spender.address, 2**256 - 1), who)

    # Uniswap v2: token/token and token/ETH deposits, a trader's swap.
    tx("v2_add", v2.functions.addLiquidity(t0, t1, 10_000 * E18, 20_000 * E18, 0, 0, alice, DEADLINE), alice)
    pair = at(w3, "UniswapV2Pair", protocols.v2_factory.functions.getPair(t0, t1).call())
    lp_minted = pair.functions.balanceOf(alice).call()
    tx("v2_add_eth", v2.functions.addLiquidityETH(t0, 1_000 * E18, 0, 0, alice, DEADLINE), alice, value=5 * E18)
    eth_pair = at(w3, "UniswapV2Pair", protocols.v2_factory.functions.getPair(t0, protocols.weth.address).call())
    tx("v2_swap", v2.functions.swapExactTokensForTokens(V2_SWAP_IN, 0, [t0, t1], trader, DEADLINE), trader)

    # Uniswap v3: a pool at price 1, Alice's position #1 alone in range.
    send(npm.functions.createAndInitializePoolIfNecessary(t0, t1, FEE_TIER, sqrt_price_x96(1)), deployer)
    v3_pool = at(w3, "UniswapV3Pool", protocols.v3_factory.functions.getPool(t0, t1, FEE_TIER).call())
    mint = (t0, t1, FEE_TIER, TICK_LOWER, TICK_UPPER, 10_000 * E18, 10_000 * E18, 0, 0, alice, DEADLINE)
    token_id = npm.functions.mint(mint).call({"from": alice})[0]
    tx("v3_mint", npm.functions.mint(mint), alice)
    liquidity_1 = npm.functions.positions(token_id).call()[7]
    for round_no in (1, 2):
        for i, (r, zero_for_one, amount_in) in enumerate(V3_SWAPS):
            if r == round_no:
                tin, tout = (t0, t1) if zero_for_one else (t1, t0)
                params = (tin, tout, FEE_TIER, trader, DEADLINE, amount_in, 0, 0)
                tx(f"v3_swap_{i}", router.functions.exactInputSingle(params), trader)
        collect_all = (token_id, alice, MAX_U128, MAX_U128)
        if round_no == 1:
            tx("v3_collect_fees", npm.functions.collect(collect_all), alice)
        else:
            calls = [
                npm.encode_abi("decreaseLiquidity", [(token_id, liquidity_1 // 2, 0, 0, DEADLINE)]),
                npm.encode_abi("collect", [collect_all]),
            ]
            tx("v3_decrease_collect", npm.functions.multicall(calls), alice)
    mint2 = (t0, t1, FEE_TIER, TICK_LOWER_2, TICK_UPPER_2, 500 * E18, 500 * E18, 0, 0, alice, DEADLINE)
    token_id_2 = npm.functions.mint(mint2).call({"from": alice})[0]
    tx("v3_mint_2", npm.functions.mint(mint2), alice)
    tx("v3_give", npm.functions.safeTransferFrom(alice, bob, token_id), alice)

    # Back to v2: remove half of the token/token liquidity.
    send(pair.functions.approve(v2.address, 2**256 - 1), alice)
    tx("v2_remove", v2.functions.removeLiquidity(t0, t1, lp_minted // 2, 0, 0, alice, DEADLINE), alice)

    # A rebasing token: 100 to Alice, 50 to Bob, Alice sends Bob 10, then +10 % for everyone.
    tx("rebasing_mint_alice", rebasing.functions.mint(alice, 100 * E18), deployer)
    send(rebasing.functions.mint(bob, 50 * E18), deployer)
    tx("rebasing_transfer", rebasing.functions.transfer(bob, 10 * E18), alice)
    tx("rebase", rebasing.functions.rebase(REBASE_TO), deployer)

    # An ERC-4626 vault: Alice deposits, the vault earns (a donation of its asset).
    tx("vault_deposit", vault.functions.deposit(VAULT_DEPOSIT, alice), alice)
    tx("vault_yield", token0.functions.transfer(vault.address, VAULT_DONATION), trader)

    return Scenario(
        node, w3, protocols, deployer.lower(), alice.lower(), bob.lower(), trader.lower(), token0, token1, pair,
        eth_pair, v3_pool, rebasing, vault, token_id, token_id_2, lp_minted, start_block, steps, liquidity_1,
    )  # fmt: skip
