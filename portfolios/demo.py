"""A demo portfolio on real bundled pools and prices (``manage.py load_demo`` calls
``load(user)`` after ``pools.demo``).

Positions (ETH prices are the bundled daily closes, which end on 2025-09-30; the
bundled stablecoin series stop in 2022, so USDC/USDT legs are entered at $1):

* Uniswap V2 USDC-WETH (Ethereum, constant product): 2 ETH + USDC on 2025-03-03,
  still open - impermanent loss after ETH's rise, fees from the pool's base APY.
* PancakeSwap V3 USDC-WETH 0.05 % (Ethereum, concentrated): a 1,400-2,200 USDC
  per ETH range opened on 2025-04-15; ETH is far above it now, so it is out of
  range and holds only USDC.
* Curve DAI-USDC-USDT (Ethereum, stableswap): 5,000 USDC + 5,000 USDT on 2025-05-01.
* ETH staking (a solo validator, custom label): 4 ETH on 2025-01-10 with monthly
  reward claims.
* A closed Uniswap V2 position (2024-11-01 to 2025-02-03) with its realised
  impermanent loss and fees.
* A loose ETH buy, plus daily value snapshots so the history chart has data
  (a year of them, written by one ``portfolio_snapshots_backfill``: one batch of
  reads and one upsert, the same rows as writing the days one by one).

Idempotent: a user who already has the demo portfolio is left alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction

from pools.models import Pool, Token
from portfolios.models import Portfolio
from portfolios.services.legs import LegInput, token_usd_price_at
from portfolios.services.portfolios import portfolio_create
from portfolios.services.positions import (
    position_claim_rewards,
    position_holdings,
    position_open,
    position_remove_liquidity,
)
from portfolios.services.transactions import transaction_record
from portfolios.services.valuation import portfolio_revalue, portfolio_snapshots_backfill

NAME = "Demo portfolio"
UNI_V2_USDC_WETH = "702fff16-4bfa-4c1f-8c02-e0ea0f5ecde6"
PANCAKE_V3_USDC_WETH = "5db47459-bf1b-4bdb-b4d1-48f4dada055b"
CURVE_3POOL = "25171c4c-1877-449a-9f88-45a9f153ee31"
LAST_PRICE_DAY = date(2025, 9, 30)  # end of the bundled ETH series
SNAPSHOTS_FROM = date(2024, 10, 1)  # the first transaction's day
D = Decimal


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def _token(pool: Pool, symbol: str) -> Token:
    return pool.underlying_tokens.get(symbol=symbol)


def _usd(token: Token, quantity: str) -> LegInput:
    """A stablecoin amount valued at $1 (the bundled stablecoin prices end in 2022)."""
    return LegInput(token=token, quantity=D(quantity), fiat_value=D(quantity))


def _price(token: Token, when: datetime) -> Decimal:
    """The bundled price history covers every demo date."""
    price = token_usd_price_at(token=token, when=when)
    if price is None:
        raise LookupError(f"no bundled {token.symbol} price at {when:%Y-%m-%d} for the demo")
    return price


def _eth_for(token: Token, usd: Decimal, when: datetime) -> Decimal:
    price = token_usd_price_at(token=token, when=when)
    return (usd / price).quantize(D("1e-6")) if price else D("1")


@transaction.atomic
def _build(user) -> Portfolio:
    v2 = Pool.objects.get(external_id=UNI_V2_USDC_WETH)
    v3 = Pool.objects.get(external_id=PANCAKE_V3_USDC_WETH)
    curve = Pool.objects.get(external_id=CURVE_3POOL)
    weth, usdc = _token(v2, "WETH"), _token(v2, "USDC")
    usdt = _token(curve, "USDT")
    portfolio = portfolio_create(owner=user, name=NAME)

    # A loose buy (the wallet): 3 ETH for dollars.
    bought = _at("2024-10-01")
    transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=bought,
        description="Bought ETH on an exchange",
        legs=[
            LegInput(asset="USD", quantity=-(3 * _price(weth, bought))),
            LegInput(token=weth, quantity=D("3")),
        ],
    )

    # A closed constant-product position: in at ~2,500, out at ~2,900.
    opened = _at("2024-11-01")
    eth_price = _price(weth, opened)
    closed_lp = position_open(
        portfolio=portfolio,
        pool=v2,
        kind="lp",
        opened_at=opened,
        label="Uniswap V2 (closed)",
        deposits=[LegInput(token=weth, quantity=D("1")), _usd(usdc, str(eth_price.quantize(D("0.01"))))],
    )
    out_at = _at("2025-02-03")
    out_price = _price(weth, out_at)
    holds = position_holdings(position=closed_lp, when=out_at, prices={"WETH": out_price, "USDC": D(1)}) or {}
    eth_out = (holds.get("WETH", D("1")) * D("0.999")).quantize(D("1e-9"))
    usdc_out = (holds.get("USDC", eth_price) * D("0.999")).quantize(D("0.01"))
    position_remove_liquidity(
        position=closed_lp,
        occurred_at=out_at,
        close=True,
        withdrawals=[LegInput(token=weth, quantity=eth_out), _usd(usdc, str(usdc_out))],
    )

    # Open constant-product LP.
    opened = _at("2025-03-03")
    eth_price = _price(weth, opened)
    position_open(
        portfolio=portfolio,
        pool=v2,
        kind="lp",
        opened_at=opened,
        deposits=[LegInput(token=weth, quantity=D("2")), _usd(usdc, str((2 * eth_price).quantize(D("0.01"))))],
        notes="Half ETH, half USDC at the day's price.",
    )

    # Concentrated range that ETH has left.
    opened = _at("2025-04-15")
    eth_price = _price(weth, opened)
    v3_weth, v3_usdc = _token(v3, "WETH"), _token(v3, "USDC")
    position_open(
        portfolio=portfolio,
        pool=v3,
        kind="concentrated_lp",
        opened_at=opened,
        range_lower=D("1400"),
        range_upper=D("2200"),
        deposits=[
            LegInput(token=v3_weth, quantity=D("1.5")),
            _usd(v3_usdc, str((D("1.5") * eth_price).quantize(D("0.01")))),
        ],
        notes="A tight range around the April price.",
    )

    # Stable pool.
    position_open(
        portfolio=portfolio,
        pool=curve,
        kind="lp",
        opened_at=_at("2025-05-01"),
        deposits=[_usd(_token(curve, "USDC"), "5000"), _usd(usdt, "5000")],
    )

    # Staking with monthly reward claims (about 3 % a year on 4 ETH).
    staking = position_open(
        portfolio=portfolio,
        kind="staking",
        label="ETH staking (solo validator)",
        opened_at=_at("2025-01-10"),
        deposits=[LegInput(token=weth, quantity=D("4"))],
    )
    claim = date(2025, 2, 10)
    while claim <= LAST_PRICE_DAY:
        position_claim_rewards(
            position=staking,
            token=weth,
            quantity=D("0.0098"),
            income_type="staking",
            occurred_at=_at(claim.isoformat()),
        )
        claim = date(claim.year + (claim.month // 12), claim.month % 12 + 1, 10)
    return portfolio


def load(user) -> str:
    if user is None:
        return "skipped: no demo user"
    if Portfolio.objects.filter(owner=user, name__iexact=NAME).exists():
        return "demo portfolio already loaded"
    missing = [
        x
        for x in (UNI_V2_USDC_WETH, PANCAKE_V3_USDC_WETH, CURVE_3POOL)
        if not Pool.objects.filter(external_id=x).exists()
    ]
    if missing:
        return f"skipped: bundled pools not loaded ({len(missing)} missing)"
    portfolio = _build(user)
    first = SNAPSHOTS_FROM
    portfolio_snapshots_backfill(first=first, last=LAST_PRICE_DAY, portfolio_ids=[portfolio.pk])
    portfolio_revalue(portfolio_ids=[portfolio.pk])
    portfolio.refresh_from_db()
    return (
        f"{NAME}: {portfolio.positions.count()} positions, {portfolio.transactions.count()} transactions, "
        f"{(LAST_PRICE_DAY - first).days + 1} daily snapshots, value ${portfolio.value:,.2f}"
    )
