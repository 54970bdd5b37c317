"""Synced transactions feed the tax engine with the wallet they happened in, and the
user's "lots per wallet from" preference reaches the engine's settings."""

from datetime import UTC, date, datetime

import pytest

from portfolios.models import Portfolio, Transaction
from portfolios.tax.build import _settings_of
from portfolios.tax.inputs import tax_ledger_load
from portfolios.tax.services import tax_report_request
from portfolios.wallets.models import Chain
from tests.portfolios.wallets.test_sync import make_chain, make_wallet, run_sync

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def test_the_tax_ledger_carries_each_synced_transactions_wallet(scenario, owner):
    Chain.objects.update(active=False)
    chain = make_chain(scenario)
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    alice = make_wallet(scenario.alice, chain, portfolio=portfolio)
    bob = make_wallet(scenario.bob, chain, portfolio=portfolio)
    run_sync(alice, chain)
    run_sync(bob, chain)
    ledger = tax_ledger_load(owner_id=owner.pk, portfolio_id=None, until=datetime(2100, 1, 1, tzinfo=UTC))
    by_ref = {tx.ref: tx for tx in ledger.transactions}
    expected = dict(Transaction.objects.filter(portfolio=portfolio).values_list("pk", "wallet_address"))
    assert set(expected.values()) == {scenario.alice, scenario.bob}
    assert {ref: tx.wallet for ref, tx in by_ref.items()} == {str(pk): w for pk, w in expected.items()}
    # The move of the rebasing token from Alice to Bob: out of Alice's wallet, into Bob's.
    step = scenario.step("rebasing_transfer")
    moves = Transaction.objects.filter(portfolio=portfolio, external_ref=step.tx_hash)
    assert {(t.kind, t.wallet_address) for t in moves} == {
        ("transfer_out", scenario.alice),
        ("transfer_in", scenario.bob),
    }


def test_the_lots_per_wallet_preference_reaches_the_engine_settings(owner):
    owner.lots_per_wallet_from = date(2025, 1, 1)
    owner.save()
    report, _ = tax_report_request(owner=owner, year=2025)
    assert report.lots_per_wallet_from == date(2025, 1, 1)
    assert _settings_of(report).lots_per_wallet_from == date(2025, 1, 1)
    owner.lots_per_wallet_from = None
    owner.save()
    pooled, _ = tax_report_request(owner=owner, year=2025)
    assert pooled.pk != report.pk and pooled.inputs_hash != report.inputs_hash  # a different report
    assert _settings_of(pooled).lots_per_wallet_from is None


def test_uk_pooling_ignores_the_preference(owner):
    owner.lots_per_wallet_from = date(2025, 1, 1)
    owner.tax_jurisdiction, owner.cost_basis_method = "uk", "uk"
    owner.save()
    report, _ = tax_report_request(owner=owner, year=2025)
    assert report.method == "uk" and report.lots_per_wallet_from is None
