"""Wallet-sync tests. Pure decoder tests need nothing; tests marked ``chain`` use
the anvil rig (:mod:`tests.portfolios.wallets.rig`) through the fixtures below.

The node and the played scenario are session-scoped (started once, stopped at
the end of the session); ``chain_state`` wraps a test that writes to the chain
in ``evm_snapshot``/``evm_revert`` so the next test sees the scenario as played.
A missing anvil fails these tests with the reason (``make node``), never skips them.
"""

import pytest

from portfolios.wallets.chain.config import ChainConfig, parse_chains
from portfolios.wallets.chain.reader import WalletReader
from portfolios.wallets.chain.rpc import RpcClient
from tests.portfolios.wallets.rig import AnvilNode
from tests.portfolios.wallets.scenario import Scenario, play

CHAIN_ID, SECOND_CHAIN_ID = 31337, 31338


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.fixture(scope="session")
def anvil_node():
    node = AnvilNode(chain_id=CHAIN_ID).start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def second_anvil_node():
    """Another chain (another chain id) for tests that need two."""
    node = AnvilNode(chain_id=SECOND_CHAIN_ID).start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def scenario(anvil_node) -> Scenario:
    return play(anvil_node)


@pytest.fixture
def chain_state(scenario):
    """The scenario, restored after the test (for tests that send transactions)."""
    snapshot = scenario.node.snapshot()
    yield scenario
    scenario.node.revert(snapshot)


def local_chain_config(scenario: Scenario, **kwargs) -> ChainConfig:
    """The local chain, configured through the same file format as a mainnet."""
    return parse_chains({"format": 1, "chains": [scenario.chain_config(**kwargs)]}, "anvil")[0]


@pytest.fixture(scope="session")
def scenario_config(scenario) -> ChainConfig:
    return local_chain_config(scenario)


@pytest.fixture
def rpc(scenario):
    with RpcClient([scenario.node.url]) as client:
        yield client


@pytest.fixture
def reader(rpc, scenario_config) -> WalletReader:
    return WalletReader(rpc, scenario_config)
