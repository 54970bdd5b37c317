"""Shared fixtures: ETH/USDC tokens with prices, pools of each kind, a portfolio."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pools.models import Pool
from tests.portfolios.factories import (
    ChainFactory,
    PoolFactory,
    PortfolioFactory,
    ProtocolFactory,
    TokenFactory,
    TokenPriceFactory,
)

D = Decimal
DEPOSIT_AT = datetime(2025, 6, 1, 12, tzinfo=UTC)
WITHDRAW_AT = datetime(2025, 9, 1, 12, tzinfo=UTC)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def chain(db):
    return ChainFactory()


@pytest.fixture
def eth(chain):
    return TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH", last_price_usd=D("3000"),
                        last_price_at=at("2025-10-01"))


@pytest.fixture
def usdc(chain):
    return TokenFactory(chain=chain, symbol="USDC", price_symbol="USDC", is_stablecoin=True, last_price_usd=D("1"),
                        last_price_at=at("2025-10-01"))


@pytest.fixture
def crv(chain):
    return TokenFactory(chain=chain, symbol="CRV", price_symbol="CRV", last_price_usd=D("0.5"),
                        last_price_at=at("2025-10-01"))


@pytest.fixture
def prices(eth, usdc, crv):
    """ETH 2000 on 2025-06-01, 3000 on 2025-09-01; USDC 1; CRV 0.8 then 0.5."""
    rows = {
        eth: [("2025-06-01", "2000"), ("2025-09-01", "3000"), ("2025-10-01", "3000")],
        usdc: [("2025-06-01", "1"), ("2025-09-01", "1"), ("2025-10-01", "1")],
        crv: [("2025-06-01", "0.8"), ("2025-07-01", "0.6"), ("2025-10-01", "0.5")],
    }
    for token, points in rows.items():
        for day, price in points:
            TokenPriceFactory(token=token, timestamp=at(day), price_usd=D(price))
    return rows


@pytest.fixture
def protocol(db):
    return ProtocolFactory(slug="uniswap-v2", name="Uniswap V2")


def _pool(kind, symbol, tokens, chain, protocol, **extra):
    pool = PoolFactory(kind=kind, symbol=symbol, chain=chain, protocol=protocol, **extra)
    for i, token in enumerate(tokens):
        pool.underlying_links.create(token=token, position=i)
    return pool


@pytest.fixture
def amm_pool(chain, protocol, eth, usdc):
    return _pool(Pool.Kind.AMM, "WETH-USDC", [eth, usdc], chain, protocol, apy=D("12"), apy_base=D("10"),
                 apy_reward=D("2"))


@pytest.fixture
def v3_pool(chain, eth, usdc):
    return _pool(Pool.Kind.CONCENTRATED, "WETH-USDC", [usdc, eth], chain,
                 ProtocolFactory(slug="uniswap-v3", name="Uniswap V3"), apy=D("20"), apy_base=D("20"),
                 apy_reward=D("0"), meta="0.05%")


@pytest.fixture
def staking_pool(chain, eth):
    return _pool(Pool.Kind.STAKING, "ETH", [eth], chain, ProtocolFactory(slug="lido", name="Lido"), apy=D("3.5"),
                 apy_base=D("3"), apy_reward=D("0.5"), exposure="single", il_risk=False)


@pytest.fixture
def portfolio(owner):
    return PortfolioFactory(owner=owner, name="Main")
