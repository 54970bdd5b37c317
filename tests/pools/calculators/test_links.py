"""Calculator links: pure mapping from a pool kind (and APY) to calculator URLs,
and the pages that show them."""

from decimal import Decimal

import pytest

from pools.calculators.links import calculator_links
from pools.models import Pool
from tests.pools.factories import PoolFactory


def test_a_concentrated_pool_links_the_il_calculator_in_range_mode_and_its_apy_as_apr():
    links = dict(calculator_links(kind="concentrated", apy=Decimal("14.50")))
    hrefs = list(links)
    assert hrefs[0] == "/learn/calculators/impermanent-loss/?model=concentrated"
    assert hrefs[1] == "/learn/calculators/break-even/?model=concentrated"
    assert "/learn/calculators/apy/?direction=apy_to_apr&rate=14.5" in hrefs
    assert hrefs[-1] == "/learn/calculators/"


def test_a_lending_pool_has_no_il_model_and_an_unknown_apy_no_converter():
    assert calculator_links(kind="lending", apy=None) == [("/learn/calculators/", "All calculators")]


@pytest.mark.django_db
def test_pool_page_links_the_calculator_with_its_own_model(client):
    pool = PoolFactory(kind=Pool.Kind.STABLESWAP, apy=Decimal("3"))
    text = client.get(f"/pools/{pool.pk}/").content.decode()
    assert 'href="/learn/calculators/impermanent-loss/?model=stableswap"' in text
    assert 'href="/learn/calculators/apy/?direction=apy_to_apr&amp;rate=3"' in text


@pytest.mark.django_db
def test_navigation_and_learn_home_link_the_calculators(client):
    text = client.get("/learn/").content.decode()
    assert text.count('href="/learn/calculators/"') == 2  # the main navigation and the Learn intro
