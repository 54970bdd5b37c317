from datetime import UTC, datetime
from decimal import Decimal

import factory

from pools.models import Chain, Pool, PoolSnapshot, Protocol, RefreshRun, Token, TokenPrice


class ChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chain
        django_get_or_create = ["slug"]

    slug = "ethereum"
    name = "Ethereum"
    coins_prefix = "ethereum"


class ProtocolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Protocol
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"protocol-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    category = Protocol.Category.DEX


class TokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Token

    chain = factory.SubFactory(ChainFactory)
    address = factory.Sequence(lambda n: f"0x{n:040x}")
    symbol = factory.Sequence(lambda n: f"TK{n}")
    price_id = factory.LazyAttribute(lambda o: f"ethereum:{o.address}")


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool

    external_id = factory.Sequence(lambda n: f"00000000-0000-4000-8000-{n:012d}")
    chain = factory.SubFactory(ChainFactory)
    protocol = factory.SubFactory(ProtocolFactory)
    symbol = "WETH-USDC"
    tokens_key = factory.LazyAttribute(lambda o: f"-{o.symbol.upper()}-")
    kind = Pool.Kind.AMM
    stablecoin = False
    il_risk = True
    exposure = Pool.Exposure.MULTI
    tvl_usd = Decimal("1000000.00")
    apy = Decimal("5")
    apy_base = Decimal("4")
    apy_reward = Decimal("1")
    first_seen_at = factory.LazyFunction(lambda: datetime(2025, 10, 1, tzinfo=UTC))
    last_seen_at = factory.LazyFunction(lambda: datetime(2025, 10, 6, tzinfo=UTC))


class PoolSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PoolSnapshot

    pool = factory.SubFactory(PoolFactory)
    day = factory.Sequence(lambda n: datetime(2025, 1, 1, tzinfo=UTC).date().fromordinal(739000 + n))
    tvl_usd = Decimal("1000000")
    apy = Decimal("5")
    apy_base = Decimal("4")
    apy_reward = Decimal("1")


class TokenPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokenPrice

    token = factory.SubFactory(TokenFactory)
    timestamp = factory.LazyFunction(lambda: datetime(2025, 9, 30, tzinfo=UTC))
    price_usd = Decimal("2500")
    source = "test"


class RefreshRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefreshRun

    kind = RefreshRun.Kind.POOLS
    source = "bundled"
    status = RefreshRun.Status.SUCCEEDED
    started_at = factory.LazyFunction(lambda: datetime.now(UTC))
    finished_at = factory.LazyFunction(lambda: datetime.now(UTC))
    data_as_of = factory.LazyFunction(lambda: datetime.now(UTC))
