"""The revaluation enqueued on commit runs on a real Celery worker through Redis."""

import time
from decimal import Decimal

import pytest

from portfolios.models import Portfolio
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.portfolios.conftest import DEPOSIT_AT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_opening_a_position_revalues_the_portfolio_on_a_worker(real_worker, portfolio, amm_pool, eth, usdc, prices):
    position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=Decimal(1)), LegInput(token=usdc, quantity=Decimal(2000))],
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        valued = Portfolio.objects.get(pk=portfolio.pk)
        if valued.valued_at is not None:
            break
        time.sleep(0.2)
    assert valued.valued_at is not None, "the worker did not revalue the portfolio"
    assert valued.deposited == Decimal(4000)
