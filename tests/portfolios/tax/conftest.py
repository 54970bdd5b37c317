"""Fixtures of the tax report tests: the hand-worked ledger of ``handworked.py``
in the database, with its tokens and prices, and an eager build."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolios.models import Portfolio, Transaction
from portfolios.tax.services import tax_report_request
from tests.pools.factories import ChainFactory, TokenFactory, TokenPriceFactory

from .handworked import LEDGER, at, record

D = Decimal


@pytest.fixture
def tokens(db):
    chain = ChainFactory()
    eth = TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH", last_price_usd=D("3600"))
    crv = TokenFactory(chain=chain, symbol="CRV", price_symbol="CRV", last_price_usd=D("0.5"))
    usdc = TokenFactory(chain=chain, symbol="USDC", price_symbol="USDC", is_stablecoin=True, last_price_usd=D("1"))
    TokenPriceFactory(token=eth, timestamp=at("2024-12-30T00:00"), price_usd=D("3300"))
    TokenPriceFactory(token=eth, timestamp=at("2024-12-31T00:00"), price_usd=D("3400"))
    TokenPriceFactory(token=eth, timestamp=at("2025-01-01T00:00"), price_usd=D("3500"))
    TokenPriceFactory(token=usdc, timestamp=at("2024-12-20T00:00"), price_usd=D("1"))
    TokenPriceFactory(token=crv, timestamp=at("2025-01-05T00:00"), price_usd=D("0.7"))  # after the year end
    return {"ETH": eth, "CRV": crv, "USDC": usdc}


@pytest.fixture
def ecb_rates(db):
    """The ECB's published rates of the ledgers' years (from the bundled history file)."""
    from pools.services.fx import fx_history_load

    fx_history_load(since=date(2020, 1, 1), until=date(2026, 6, 30),
                    currencies=["USD", "GBP", "JPY", "CHF", "SEK"])


@pytest.fixture
def portfolio(owner):
    return Portfolio.objects.create(owner=owner, name="Main")


@pytest.fixture
def ledger(portfolio, tokens) -> list[Transaction]:
    return [record(portfolio, when, kind, income_type, legs, tokens) for when, kind, income_type, legs in LEDGER]


@pytest.fixture
def build(django_capture_on_commit_callbacks):
    """Request a report and run its build the way a commit would (eager task)."""

    def _build(owner, **kwargs):
        kwargs.setdefault("year", 2024)
        with django_capture_on_commit_callbacks(execute=True):
            report, _ = tax_report_request(owner=owner, **kwargs)
        report.refresh_from_db()
        return report

    return _build
