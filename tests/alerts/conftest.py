"""Alerts fixtures: the portfolios fixtures (tokens with prices, pools, a portfolio) and rule helpers."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alerts.models import AlertRule
from tests.portfolios.conftest import amm_pool, chain, crv, eth, portfolio, prices, protocol, usdc, v3_pool  # noqa: F401

D = Decimal
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def make_rule(owner):
    def make(pool, condition, threshold=None, user=None, **extra) -> AlertRule:
        return AlertRule.objects.create(user=user or owner, pool=pool, condition=condition,
                                        threshold=None if threshold is None else D(str(threshold)), **extra)

    return make
