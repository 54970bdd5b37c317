"""The position page and API after LP fees are recorded as a claim: the fees say how
much was collected, the rewards leave it out, and nothing is counted twice."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portfolios.services.legs import LegInput
from portfolios.services.positions import position_claim_rewards, position_open
from tests.portfolios.conftest import DEPOSIT_AT, at

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    position = position_open(portfolio=portfolio, pool=amm_pool, kind="lp", opened_at=DEPOSIT_AT,
                             deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))])
    position_claim_rewards(position=position, token=usdc, quantity=D("150"), income_type="lp_fees",
                           occurred_at=at("2025-09-01"), fiat_value=D("150"))
    return position


def test_the_api_counts_the_claimed_fees_as_fees_once_and_not_as_rewards(owner_api, lp):
    a = owner_api.get(f"/api/v1/positions/{lp.pk}/analytics/").json()
    assert D(a["fees_claimed"]) == D("150")
    assert D(a["rewards_claimed_at_receipt"]) == D("0")
    assert D(a["fees"]) >= D("150")  # 150 recorded + the estimate since 2025-09-01 only


def test_the_page_says_how_much_of_the_fees_was_collected(owner_client, lp):
    html = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk])).content.decode()
    assert "$150.00 recorded as collected" in html
