"""Portfolios rows for tests (pools rows come from tests.pools.factories)."""

from datetime import UTC, datetime
from decimal import Decimal

import factory

from portfolios.ledger import TxKind
from portfolios.models import Leg, Portfolio, PortfolioSnapshot, Position, Transaction
from tests.factories import UserFactory
from tests.pools.factories import (
    ChainFactory,
    PoolFactory,
    PoolSnapshotFactory,
    ProtocolFactory,
    TokenFactory,
    TokenPriceFactory,
)

__all__ = [
    "ChainFactory",
    "LegFactory",
    "PoolFactory",
    "PoolSnapshotFactory",
    "PortfolioFactory",
    "PortfolioSnapshotFactory",
    "PositionFactory",
    "ProtocolFactory",
    "TokenFactory",
    "TokenPriceFactory",
    "TransactionFactory",
]


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Portfolio {n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    portfolio = factory.SubFactory(PortfolioFactory)
    label = factory.Sequence(lambda n: f"Position {n}")
    kind = Position.Kind.LP
    opened_at = factory.LazyFunction(lambda: datetime(2025, 6, 1, tzinfo=UTC))


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    portfolio = factory.SubFactory(PortfolioFactory)
    kind = TxKind.BUY.value
    occurred_at = factory.LazyFunction(lambda: datetime(2025, 6, 1, tzinfo=UTC))


class LegFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Leg

    transaction = factory.SubFactory(TransactionFactory)
    asset = "ETH"
    quantity = Decimal("1")
    fiat_value = Decimal("2500")
    value_source = Leg.ValueSource.ENTERED


class PortfolioSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortfolioSnapshot

    portfolio = factory.SubFactory(PortfolioFactory)
    day = factory.Sequence(lambda n: datetime(2025, 1, 1, tzinfo=UTC).date().fromordinal(739000 + n))
    value = Decimal("1000")
    deposited = Decimal("900")
    pnl = Decimal("100")
    income_ytd = Decimal("10")
