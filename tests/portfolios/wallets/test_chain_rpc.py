"""The adapter against real nodes: a strict endpoint in front of anvil, a second
chain, and pairs from factories the chain config does not list."""

import json

import httpx
import pytest
from web3 import Web3

from pools.sources.http import RetryPolicy
from portfolios.wallets.chain.config import parse_chains
from portfolios.wallets.chain.reader import WalletReader
from portfolios.wallets.chain.rpc import RpcClient
from portfolios.wallets.chain.uniswap_v2 import LpDeposit
from tests.portfolios.wallets.conftest import SECOND_CHAIN_ID, local_chain_config
from tests.portfolios.wallets.rig import deploy, deploy_protocols, send

pytestmark = pytest.mark.chain


class StrictEndpoint(httpx.BaseTransport):
    """The real node behind the limits of a public RPC: ``eth_getLogs`` over
    ``max_range`` blocks is refused in Alchemy's words, and every third HTTP
    request is answered 429. Everything else reaches anvil unchanged."""

    def __init__(self, max_range: int):
        self.max_range, self.requests = max_range, 0
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests % 3 == 0:
            return httpx.Response(429, headers={"Retry-After": "0"}, text="Too Many Requests")
        calls = json.loads(request.content)
        refused, passed = [], []
        for call in calls:
            if call["method"] == "eth_getLogs":
                f = call["params"][0]
                if int(f["toBlock"], 16) - int(f["fromBlock"], 16) + 1 > self.max_range:
                    refused.append(
                        {
                            "jsonrpc": "2.0",
                            "id": call["id"],
                            "error": {
                                "code": -32602,
                                "message": "Log response size exceeded. Based on your parameters, this "
                                "block range should work: [0x0, 0x3]",
                            },
                        }
                    )
                    continue
            passed.append(call)
        answers = []
        if passed:
            forwarded = httpx.Request(
                "POST", request.url, content=json.dumps(passed), headers={"Content-Type": "application/json"}
            )
            response = self.inner.handle_request(forwarded)
            response.read()
            answers = response.json()
        return httpx.Response(200, json=refused + answers)


def _summary(read):
    fees = {key: h.fees for key, h in read.positions.items()}
    return read.transfers, read.nft_transfers, read.lp_events, read.vault_events, fees, read.block_times


def test_a_strict_rate_limited_endpoint_yields_the_same_read_as_the_node_itself(scenario, scenario_config):
    with RpcClient([scenario.node.url]) as direct:
        expected = WalletReader(direct, scenario_config).read(scenario.alice)
    endpoint = StrictEndpoint(max_range=4)
    strict = RpcClient(
        [scenario.node.url],
        batch_size=7,
        max_log_range=1000,
        policy=RetryPolicy(retries=5, backoff=0, sleep=lambda s: None),
        client=httpx.Client(transport=endpoint),
    )
    got = WalletReader(strict, scenario_config).read(scenario.alice)
    assert _summary(got) == _summary(expected)
    assert strict.max_log_range <= 4 and strict.stats.range_splits > 0 and strict.stats.retries > 0
    assert len(expected.transfers) > 20 and expected.lp_events and expected.positions


def test_two_chains_are_read_apart_each_with_its_own_chain_id(scenario, second_anvil_node):
    w3 = second_anvil_node.web3()
    protocols = deploy_protocols(w3)
    token = deploy(w3, "ERC20PresetMinterPauser", "Other chain token", "OCT")
    alice = Web3.to_checksum_address(scenario.alice)
    receipt = send(token.functions.mint(alice, 7 * 10**18), w3.eth.accounts[0])
    config = parse_chains({"format": 1, "chains": [protocols.chain_config(SECOND_CHAIN_ID, second_anvil_node.url)]})[0]
    with RpcClient([second_anvil_node.url]) as rpc:
        assert rpc.chain_id() == config.chain_id == SECOND_CHAIN_ID
        read = WalletReader(rpc, config).read(scenario.alice)
    assert read.chain_id == SECOND_CHAIN_ID
    assert [(t.token, t.amount, t.at.tx_hash) for t in read.transfers] == [
        (token.address.lower(), 7 * 10**18, receipt.transactionHash.to_0x_hex())
    ]
    with RpcClient([scenario.node.url]) as rpc:
        assert rpc.chain_id() == scenario.node.chain_id != SECOND_CHAIN_ID
        first = WalletReader(rpc, local_chain_config(scenario)).read(scenario.alice)
    # Same deployer, same nonce: the same contract address exists on both chains (tokens are keyed by chain).
    assert receipt.transactionHash.to_0x_hex() not in {t.at.tx_hash for t in first.transfers}
    assert first.flows().get(token.address.lower()) != 7 * 10**18 and first.lp_events


def test_liquidity_in_a_pair_of_an_unlisted_factory_stays_a_plain_transfer(chain_state, rpc):
    s = chain_state
    w3, deployer, alice = s.w3, s.w3.eth.accounts[0], Web3.to_checksum_address(s.alice)
    other_factory = deploy(w3, "UniswapV2Factory", deployer)
    other_router = deploy(w3, "UniswapV2Router02", other_factory.address, s.protocols.weth.address)
    for token in (s.token0, s.token1):
        send(token.functions.approve(other_router.address, 2**256 - 1), alice)
    start = w3.eth.block_number + 1
    receipt = send(
        other_router.functions.addLiquidity(s.token0.address, s.token1.address, 10**18, 10**18, 0, 0, alice, 2**40),
        alice,
    )
    pair = other_factory.functions.getPair(s.token0.address, s.token1.address).call().lower()

    unlisted = WalletReader(rpc, local_chain_config(s)).read(s.alice, from_block=start)
    assert unlisted.lp_events == [] and unlisted.flows()[pair] > 0

    listed_config = s.chain_config()
    listed_config["uniswap_v2"].append({"name": "Fork", "factory": other_factory.address})
    listed = WalletReader(rpc, parse_chains({"format": 1, "chains": [listed_config]})[0]).read(
        s.alice, from_block=start
    )
    (deposit,) = listed.lp_events
    assert isinstance(deposit, LpDeposit) and deposit.pair == pair
    assert deposit.at.tx_hash == receipt.transactionHash.to_0x_hex()
    assert listed.pairs[pair].protocol == "Fork"
