"""The dashboard's summary cache (selectors.portfolio_summary_now): keyed on the portfolio's
ledger version, which every write renews in its own database transaction, so a change shows
on the very next read and an unchanged portfolio is served without reading its ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import Portfolio
from portfolios.selectors import portfolio_summary, portfolio_summary_now, user_summary
from portfolios.services.legs import LegInput
from portfolios.services.portfolios import portfolio_update
from portfolios.services.positions import position_close, position_delete, position_open
from portfolios.services.transactions import transaction_delete, transaction_record, transaction_update
from tests.portfolios.conftest import DEPOSIT_AT
from tests.portfolios.factories import PortfolioFactory

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]
D = Decimal


def fresh(portfolio: Portfolio) -> Portfolio:
    """The portfolio as a request reads it (its ledger version from the database)."""
    return Portfolio.objects.select_related("owner").get(pk=portfolio.pk)


def buy(portfolio, eth, quantity="1", usd="2000"):
    return transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(token=eth, quantity=D(quantity), fiat_value=D(usd)), LegInput(asset="USD", quantity=-D(usd))],
    )


def test_an_unchanged_portfolio_is_served_from_the_cache_without_a_query(portfolio, prices, eth):
    buy(portfolio, eth)
    first = portfolio_summary_now(portfolio=fresh(portfolio))
    reread = fresh(portfolio)
    with CaptureQueriesContext(connection) as ctx:
        again = portfolio_summary_now(portfolio=reread)
    assert len(ctx.captured_queries) == 0
    assert again == first  # the whole summary, every position and holding, survives the round trip
    # 1 ETH held at the latest stored price (3,000 USD on 2025-10-01, the prices fixture).
    assert again.value == D("3000")


def test_without_the_cache_the_ledger_is_read_every_time(portfolio, prices, eth, settings):
    settings.PORTFOLIO_SUMMARY_CACHE_SECONDS = 0
    buy(portfolio, eth)
    portfolio_summary_now(portfolio=fresh(portfolio))
    reread = fresh(portfolio)
    with CaptureQueriesContext(connection) as ctx:
        portfolio_summary_now(portfolio=reread)
    assert len(ctx.captured_queries) > 0


def test_a_recorded_transaction_shows_on_the_next_read(portfolio, prices, eth):
    buy(portfolio, eth)
    assert portfolio_summary_now(portfolio=fresh(portfolio)).value == D("3000")
    buy(portfolio, eth, quantity="2", usd="4000")
    # 3 ETH at 3,000: the cached 3,000 is not served.
    assert portfolio_summary_now(portfolio=fresh(portfolio)).value == D("9000")


def test_edits_and_deletes_renew_the_version_and_the_figures(portfolio, prices, eth):
    txn = buy(portfolio, eth)
    versions = [fresh(portfolio).ledger_version]
    assert portfolio_summary_now(portfolio=fresh(portfolio)).value == D("3000")

    transaction_update(transaction=txn, description="first buy")
    versions.append(fresh(portfolio).ledger_version)

    transaction_update(
        transaction=txn,
        legs=[LegInput(token=eth, quantity=D("0.5"), fiat_value=D("1000")), LegInput(asset="USD", quantity=D("-1000"))],
    )
    versions.append(fresh(portfolio).ledger_version)
    assert portfolio_summary_now(portfolio=fresh(portfolio)).value == D("1500")

    transaction_delete(transaction=txn)
    versions.append(fresh(portfolio).ledger_version)
    assert portfolio_summary_now(portfolio=fresh(portfolio)).value == D("0")

    portfolio_update(portfolio=fresh(portfolio), name="Renamed")
    versions.append(fresh(portfolio).ledger_version)
    assert portfolio_summary_now(portfolio=fresh(portfolio)).name == "Renamed"
    assert len(set(versions)) == len(versions)


def test_position_writes_renew_the_version(portfolio, prices, eth, usdc, amm_pool):
    before = fresh(portfolio).ledger_version
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    opened = fresh(portfolio).ledger_version
    summary = portfolio_summary_now(portfolio=fresh(portfolio))
    assert [a.position_id for a in summary.positions] == [position.pk]
    assert summary.deposited == D("4000")  # 1 ETH at 2,000 + 2,000 USDC on 2025-06-01

    position_close(position=position, closed_at=DEPOSIT_AT + timedelta(days=30))
    closed = fresh(portfolio).ledger_version
    assert not portfolio_summary_now(portfolio=fresh(portfolio)).positions[0].is_open

    position_delete(position=position)
    deleted = fresh(portfolio).ledger_version
    assert portfolio_summary_now(portfolio=fresh(portfolio)).positions == ()
    assert len({before, opened, closed, deleted}) == 4


def test_cached_figures_equal_a_fresh_computation(portfolio, prices, eth):
    buy(portfolio, eth)
    cached = portfolio_summary_now(portfolio=fresh(portfolio))
    cached = portfolio_summary_now(portfolio=fresh(portfolio))  # the stored copy
    computed = portfolio_summary(portfolio=fresh(portfolio), as_of=cached.as_of)
    assert cached == computed


def test_one_portfolio_changing_leaves_the_others_cached(owner, prices, eth):
    a = PortfolioFactory(owner=owner, name="A")
    b = PortfolioFactory(owner=owner, name="B")
    buy(a, eth)
    buy(b, eth, quantity="2", usd="4000")
    assert user_summary(user=owner).total.value == D("9000")
    buy(a, eth)
    with CaptureQueriesContext(connection) as ctx:
        total = user_summary(user=owner)
    assert [s.value for s in total.portfolios] == [D("6000"), D("6000")]
    assert total.total.value == D("12000")
    # B came from the cache: only A's ledger was read (its transactions once, not B's).
    txn_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "portfolios_transaction"' in q["sql"]]
    assert txn_reads and all(f"= {b.pk}" not in sql and f", {b.pk}" not in sql for sql in txn_reads)


def test_another_users_summary_is_never_served(owner, stranger, prices, eth):
    mine = PortfolioFactory(owner=owner, name="Main")
    theirs = PortfolioFactory(owner=stranger, name="Main")
    buy(mine, eth)
    assert user_summary(user=owner).total.value == D("3000")
    assert user_summary(user=stranger).total.value == D("0")
    assert portfolio_summary_now(portfolio=fresh(theirs)).value == D("0")


def test_the_revaluation_a_write_enqueues_leaves_the_new_summary_cached(
    portfolio, prices, eth, django_capture_on_commit_callbacks
):
    from portfolios.selectors import portfolio_dashboard_now

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        buy(portfolio, eth, quantity="2", usd="4000")
    assert callbacks  # the revaluation ran (eagerly) once the write committed
    reread = fresh(portfolio)
    assert reread.value == D("6000") and reread.valued_at is not None
    with CaptureQueriesContext(connection) as ctx:
        figures = portfolio_dashboard_now(portfolio=reread)
    assert len(ctx.captured_queries) == 0  # ready before the first view
    assert figures.summary.value == D("6000") and figures.digest.open_count == 0
    assert figures.summary.as_of == reread.valued_at
