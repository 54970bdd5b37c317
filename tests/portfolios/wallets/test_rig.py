"""The rig itself: a clear failure without the npm packages, and no node left behind."""

import os

import httpx
import pytest

from tests.portfolios.wallets import rig


def test_without_node_modules_the_rig_fails_and_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(rig, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(rig, "ROOT", tmp_path)
    with pytest.raises(rig.RigError, match=r"anvil binary .* Run `make node`"):
        rig.anvil_binary()
    with pytest.raises(rig.RigError, match="make node"):
        rig.compile_test_contracts()


@pytest.mark.chain
def test_stopping_the_node_ends_its_process_and_frees_its_port():
    node = rig.AnvilNode(chain_id=31340).start()
    pid, url = node.process.pid, node.url
    assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).json()["result"] == hex(31340)
    node.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2)
