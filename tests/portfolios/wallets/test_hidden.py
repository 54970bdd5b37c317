"""Issue 12 on the real local chain: a token airdropped to the wallet is synced, hidden by the user,
and then counts nowhere (holdings, tax inputs); a second sync neither duplicates nor unhides it,
and the reconciliation stays clean (the chain still has the tokens, and so do the records)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from web3 import Web3

from portfolios.models import Portfolio, Transaction
from portfolios.selectors import portfolio_summary
from portfolios.services.transactions import transaction_update
from portfolios.tax.inputs import tax_ledger_load
from portfolios.wallets.models import Chain, Reconciliation, WalletSync
from tests.portfolios.wallets.rig import deploy, send
from tests.portfolios.wallets.test_sync import make_chain, make_wallet, run_sync

pytestmark = [pytest.mark.chain, pytest.mark.django_db]
E18 = 10**18
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


def test_a_hidden_airdrop_stays_hidden_single_and_reconciled_across_syncs(chain_state, owner, client):
    s = chain_state
    w3, deployer = s.w3, s.w3.eth.accounts[0]
    spam = deploy(w3, "ERC20PresetMinterPauser", "Free Money", "SPAM")
    send(spam.functions.mint(deployer, 1_000 * E18), deployer)
    send(spam.functions.transfer(Web3.to_checksum_address(s.alice), 1_000 * E18), deployer)  # the airdrop
    s.node.rpc("anvil_mine", hex(5))
    Chain.objects.update(active=False)
    chain = make_chain(s)
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    alice = make_wallet(s.alice, chain, portfolio=portfolio)
    first_run, _ = run_sync(alice, chain)

    (drop,) = Transaction.objects.filter(portfolio=portfolio, legs__token__address=spam.address.lower())
    assert drop.kind == "transfer_in" and drop.is_synced
    asset = drop.legs.get().asset
    assert asset in {h.asset for h in portfolio_summary(portfolio=portfolio).holdings}
    assert str(drop.pk) in {tx.ref for tx in _ledger(owner)}

    transaction_update(transaction=drop, hidden=True)
    assert asset not in {h.asset for h in portfolio_summary(portfolio=portfolio).holdings}
    refs = {tx.ref for tx in _ledger(owner)}
    assert str(drop.pk) not in refs and refs  # the rest of the wallet still counts

    before = Transaction.objects.filter(portfolio=portfolio).count()
    second_run, result = run_sync(alice, chain)
    assert result.created == 0 and Transaction.objects.filter(portfolio=portfolio).count() == before
    drop.refresh_from_db()
    assert drop.hidden is True
    assert Transaction.objects.filter(portfolio=portfolio, external_ref=drop.external_ref).count() == 1
    for run in (first_run, second_run):
        lines = Reconciliation.objects.filter(sync=run)
        assert lines.get(token=spam.address.lower()).ok
        assert all(r.ok for r in lines.exclude(token=s.rebasing.address.lower()))  # rebasing: measured as income
    assert WalletSync.objects.filter(wallet=alice).count() == 2

    client.force_login(owner)
    page = client.get(reverse("wallets:detail", args=[alice.pk])).content.decode()
    assert "1 synced record of this wallet is hidden" in page


def _ledger(owner):
    return tax_ledger_load(owner_id=owner.pk, portfolio_id=None, until=UNTIL).transactions
