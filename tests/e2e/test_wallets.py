"""The wallet journey in a real browser: add a wallet with the form, watch the queued
sync's progress (static/wallets/wallets.js polling the status resource under the strict
CSP), see the page reload with the reconciliation and the synced transactions."""

import re

import pytest

from portfolios.models import Portfolio
from portfolios.wallets.models import Chain, Wallet, WalletSync
from portfolios.wallets.services import wallets as wallet_services
from portfolios.wallets.services.runner import wallet_sync_run
from tests.factories import UserFactory
from tests.portfolios.wallets.conftest import anvil_node, scenario  # noqa: F401 - the session node and scenario
from tests.portfolios.wallets.test_sync import make_chain

pytestmark = [pytest.mark.e2e, pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_a_user_adds_a_wallet_and_watches_its_sync_finish(page, live_server, scenario, shot, monkeypatch):  # noqa: F811
    Chain.objects.update(active=False)
    chain = make_chain(scenario)
    user = UserFactory(email="lp@example.com")
    portfolio = Portfolio.objects.create(owner=user, name="Main")
    # The sync is run by the test below (as a worker would), not by the request that queues it.
    monkeypatch.setattr(wallet_services.sync_wallet_task, "delay_on_commit", lambda **kwargs: None)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("lp@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))

    page.goto(f"/portfolios/{portfolio.pk}/")
    page.get_by_role("link", name="Wallets").first.click()
    page.wait_for_url(re.compile(rf"/wallets/portfolio/{portfolio.pk}/$"))
    page.get_by_label("Address").fill("0xnot-an-address")
    page.get_by_role("button", name="Add and sync").click()
    assert page.get_by_text("0x followed by 40 hexadecimal digits").count() >= 1
    page.get_by_label("Address").fill(scenario.alice)
    page.get_by_label("Label").fill("Alice")
    page.get_by_label(chain.name).check()
    page.get_by_role("button", name="Add and sync").click()
    page.wait_for_url(re.compile(r"/wallets/\d+/$"))
    assert page.locator("#sync-status").get_attribute("data-finished") == "0"
    assert "Queued" in page.locator("#sync-status").inner_text()
    shot("wallet-queued")

    wallet = Wallet.objects.get(portfolio=portfolio)
    run = WalletSync.objects.get(wallet=wallet)
    wallet_sync_run(sync_id=run.pk)  # what the worker does; the page notices by polling and reloads
    page.locator('#sync-status[data-finished="1"]').wait_for(timeout=20000)
    assert "Done" in page.locator("#sync-status").inner_text()
    assert page.get_by_text("matches").count() >= 5
    assert page.get_by_text(str(scenario.end_block), exact=True).count() >= 1
    shot("wallet-done")
    page.get_by_role("link", name=re.compile("All transactions of Main")).click()
    assert page.get_by_text("synced", exact=True).count() > 10
    assert page.js_errors == []
