"""Chains as data: ``manage.py chains_load``, the shipped mainnets, the admin's checks and
the environment's RPC URLs and explorer keys (never stored)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portfolios.wallets.admin import ChainForm
from portfolios.wallets.chain.config import DEFAULT_PATH
from portfolios.wallets.checksum import AddressError, parse_address, to_checksum
from portfolios.wallets.models import Chain
from portfolios.wallets.services.chains import chain_config, chain_explorer_key

pytestmark = pytest.mark.django_db
V3_MANAGER = "0xc36442b4a4522e871399cd717abdd847ab11fe88"


def test_the_shipped_mainnets_are_loaded_with_their_public_contracts():
    shipped = json.loads(DEFAULT_PATH.read_text())["chains"]
    assert Chain.objects.count() == len(shipped) == 7
    ethereum = Chain.objects.get(chain_id=1)
    assert ethereum.uniswap_v3[0]["position_manager"] == V3_MANAGER


def test_chains_load_updates_by_chain_id_and_reports_counts(tmp_path):
    doc = json.loads(DEFAULT_PATH.read_text())
    doc["chains"] = [c for c in doc["chains"] if c["chain_id"] == 1]
    doc["chains"][0]["confirmations"] = 99
    doc["chains"].append({**doc["chains"][0], "chain_id": 31337, "slug": "local", "name": "Local"})
    path = tmp_path / "chains.json"
    path.write_text(json.dumps(doc))
    out = StringIO()
    call_command("chains_load", str(path), stdout=out)
    assert "1 chain(s) created, 1 updated" in out.getvalue()
    assert Chain.objects.get(chain_id=1).confirmations == 99
    assert Chain.objects.get(chain_id=31337).slug == "local"


def test_a_bad_file_lists_every_problem_and_loads_nothing(tmp_path):
    doc = json.loads(DEFAULT_PATH.read_text())
    doc["chains"][0]["confirmations"] = -1
    doc["chains"][1]["rpc_urls"] = ["ftp://nope"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    before = list(Chain.objects.values_list("chain_id", "confirmations"))
    with pytest.raises(CommandError) as exc:
        call_command("chains_load", str(path))
    assert "chains[0].confirmations" in str(exc.value) and "chains[1].rpc_urls[0]" in str(exc.value)
    assert list(Chain.objects.values_list("chain_id", "confirmations")) == before


def test_rpc_urls_and_explorer_keys_come_from_the_environment(monkeypatch):
    chain = Chain.objects.get(chain_id=1)
    assert chain_config(chain).rpc_urls == tuple(chain.rpc_urls)
    monkeypatch.setenv("WALLETS_RPC_URLS_ETHEREUM", "https://a.example/key1, https://b.example")
    assert chain_config(chain).rpc_urls == ("https://a.example/key1", "https://b.example")
    assert chain_explorer_key(chain) == ""
    monkeypatch.setenv("WALLETS_EXPLORER_KEY", "shared")
    assert chain_explorer_key(chain) == "shared"
    monkeypatch.setenv("WALLETS_EXPLORER_KEY_ETHEREUM", "own")
    assert chain_explorer_key(chain) == "own"
    chain.refresh_from_db()
    assert "key1" not in json.dumps(chain.rpc_urls)  # never stored


def test_the_admin_form_refuses_what_a_chains_file_would_refuse():
    chain = Chain.objects.get(chain_id=1)
    data = {f: getattr(chain, f) for f in ChainForm.Meta.fields}
    data.update(rpc_urls=json.dumps(chain.rpc_urls), uniswap_v2=json.dumps(chain.uniswap_v2),
                uniswap_v3=json.dumps(chain.uniswap_v3), tokens=json.dumps(chain.tokens),
                rebasing_tokens=json.dumps(chain.rebasing_tokens))  # fmt: skip
    assert ChainForm(data, instance=chain).is_valid()
    data["uniswap_v3"] = json.dumps([{"name": "x", "factory": "0x12", "position_manager": V3_MANAGER}])
    form = ChainForm(data, instance=chain)
    assert not form.is_valid()
    assert "uniswap_v3[0].factory" in str(form.errors)


def test_addresses_are_checksummed_per_eip_55():
    # The EIP-55 specification's own examples.
    for example in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"):
        assert to_checksum(example.lower()) == example
        assert parse_address(example) == example.lower()
    with pytest.raises(AddressError):
        parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
