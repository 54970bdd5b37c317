"""One vocabulary on every API list: ?ordering=key ascending / -key descending (unknown keys
a 400 naming ordering), ?page / ?page_size refused with a 400 when junk, one envelope."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from tests.education.factories import ArticleFactory, GlossaryTermFactory
from tests.portfolios.factories import LegFactory, PortfolioFactory, PositionFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# list URL -> (sort key, the field of each row that the key sorts by)
OWNED = {
    "/api/v1/portfolios/": ("name", "name"),
    "/api/v1/positions/": ("opened_at", "opened_at"),
    "/api/v1/transactions/": ("occurred_at", "occurred_at"),
}
PUBLIC = {
    "/api/v1/learn/articles/": ("title", "title"),
    "/api/v1/learn/glossary/": ("term", "term"),
}


@pytest.fixture
def data(owner_api, owner):
    for name, day in (("Beta", 2), ("Alpha", 1), ("Gamma", 3)):
        portfolio = PortfolioFactory(owner=owner, name=name)
        PositionFactory(portfolio=portfolio, opened_at=datetime(2025, day, 1, tzinfo=UTC))
        LegFactory(transaction=TransactionFactory(portfolio=portfolio, occurred_at=datetime(2025, day, 2, tzinfo=UTC)))
    for title in ("Zebra yields", "Apple staking", "Mango farming"):
        ArticleFactory(title=title)
    for term in ("TVL", "APY", "Impermanent loss"):
        GlossaryTermFactory(term=term)
    return owner_api


def rows(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["results"]


@pytest.mark.parametrize("url", [*OWNED, *PUBLIC])
def test_ordering_is_ascending_and_minus_is_descending(data, url):
    key, field = {**OWNED, **PUBLIC}[url]
    up = [row[field] for row in rows(data, url, ordering=key)]
    down = [row[field] for row in rows(data, url, ordering=f"-{key}")]
    assert len(up) >= 3
    assert up == sorted(up) and down == list(reversed(up))


@pytest.mark.parametrize(
    "url", [*OWNED, *PUBLIC, "/api/v1/tax-reports/", "/api/v1/learn/categories/", "/api/v1/wallets/"]
)
def test_an_unknown_ordering_is_a_400_naming_it(data, url):
    response = data.get(url, {"ordering": "price_of_tea"})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


@pytest.mark.parametrize(
    "url", [*OWNED, *PUBLIC, "/api/v1/tax-reports/", "/api/v1/learn/categories/", "/api/v1/wallets/"]
)
@pytest.mark.parametrize(("param", "junk"), [("page_size", "null"), ("page_size", "0"), ("page_size", "201"),
                                             ("page", "abc"), ("page", "0")])
def test_junk_paging_is_a_400_naming_the_parameter(data, url, param, junk):
    response = data.get(url, {param: junk})
    assert response.status_code == 400
    assert param in response.json()["errors"]


def test_pages_do_not_overlap(data):
    first = rows(data, "/api/v1/learn/glossary/", ordering="term", page_size=2)
    second = rows(data, "/api/v1/learn/glossary/", ordering="term", page_size=2, page=2)
    assert {r["term"] for r in first}.isdisjoint({r["term"] for r in second})


def test_another_users_rows_never_appear_whatever_the_ordering(data, stranger):
    other = APIClient()
    other.force_authenticate(stranger)
    assert rows(other, "/api/v1/portfolios/", ordering="-name") == []
    assert rows(other, "/api/v1/positions/", ordering="opened_at") == []
