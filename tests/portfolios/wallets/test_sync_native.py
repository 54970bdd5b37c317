"""Native coin and gas through an Etherscan-v2-style explorer. The local node has no
explorer, so a stand-in answers ``txlist`` from the node itself (blocks and receipts,
read with web3.py): the rows are the chain's facts, only the HTTP endpoint is ours."""

from decimal import Decimal

import httpx
import pytest

from portfolios.ledger import TxKind
from portfolios.models import Transaction
from portfolios.wallets.chain.explorer import ExplorerClient
from portfolios.wallets.models import Chain
from tests.portfolios.wallets.test_sync import E18, make_chain, make_wallet, run_sync

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def explorer_rows(scenario, address):
    w3, rows = scenario.w3, []
    for number in range(0, scenario.end_block + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block.transactions:
            sender, to = tx["from"].lower(), (tx["to"] or "").lower()
            if address not in (sender, to):
                continue
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            rows.append({
                "blockNumber": str(number), "timeStamp": str(block.timestamp), "hash": tx["hash"].to_0x_hex(),
                "from": sender, "to": to, "value": str(tx["value"]), "gasUsed": str(receipt.gasUsed),
                "gasPrice": str(receipt.effectiveGasPrice), "isError": "0" if receipt.status == 1 else "1",
            })  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def alice_rows(scenario):
    return explorer_rows(scenario, scenario.alice)


def stand_in(rows):
    def handler(request):
        params = request.url.params
        lo, hi = int(params["startblock"]), int(params["endblock"])
        if params["action"] == "txlistinternal":
            return httpx.Response(200, json={"status": "0", "message": "No transactions found", "result": []})
        picked = [r for r in rows if lo <= int(r["blockNumber"]) <= hi]
        return httpx.Response(200, json={"status": "1", "message": "OK", "result": picked})

    return ExplorerClient("https://explorer.example/api", 31337, "test-key",
                          client=httpx.Client(transport=httpx.MockTransport(handler)))  # fmt: skip


def test_gas_of_every_transaction_the_wallet_sent_is_a_fee_and_router_eth_is_not_counted_twice(scenario, alice_rows):
    Chain.objects.update(active=False)
    chain = make_chain(scenario)
    wallet = make_wallet(scenario.alice, chain)
    run_sync(wallet, chain, explorer=stand_in(alice_rows))
    fees = Transaction.objects.filter(kind=TxKind.FEE, description__startswith="Gas")
    paid = sum(int(r["gasUsed"]) * int(r["gasPrice"]) for r in alice_rows if r["from"] == scenario.alice)
    assert paid > 0
    recorded = sum(-leg.quantity for t in fees for leg in t.legs.all())
    assert recorded == Decimal(paid) / E18
    assert all(leg.is_fee and leg.asset == "ETH" for t in fees for leg in t.legs.all())
    sent = {r["hash"] for r in alice_rows if r["from"] == scenario.alice}
    assert set(fees.values_list("external_ref", flat=True)) == sent
    # addLiquidityETH paid 5 ETH to the router: one LP deposit leg, no separate ETH transfer.
    eth_out = Transaction.objects.filter(kind=TxKind.TRANSFER_OUT, legs__asset="ETH")
    assert not eth_out.filter(external_ref=scenario.step("v2_add_eth").tx_hash).exists()
    # Idempotent with the explorer too.
    before = Transaction.objects.count()
    _, again = run_sync(wallet, chain, explorer=stand_in(alice_rows))
    assert again.created == 0 and Transaction.objects.count() == before
