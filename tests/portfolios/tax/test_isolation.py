"""Another user's report is a 404 on every route and method, web and API.

The API routes are read from the URL conf (as in tests/portfolios/test_api_isolation.py),
so a new tax route with an id is covered without anyone remembering to add it."""

import pytest

from tests.portfolios.api.routes import _methods, _url, routes_with_an_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(owner, ledger, build):
    return build(owner)


def test_a_stranger_gets_404_from_every_method_of_every_tax_api_route(api_client, stranger, report):
    api_client.force_authenticate(stranger)
    checked = []
    for route, pattern in routes_with_an_id():
        if not route.startswith("api/v1/tax-reports/"):
            continue
        url = _url(route, report.pk).replace(f"files/{report.pk}/", "files/pdf/")
        for method in _methods(pattern):
            response = getattr(api_client, method)(url, data={}, format="json")
            assert response.status_code == 404, (method.upper(), url, response.status_code)
            checked.append((method, url))
    assert len(checked) >= 2, checked  # detail and files


def test_the_owner_reaches_the_same_routes(owner_api, report):
    for route, _ in routes_with_an_id():
        if route.startswith("api/v1/tax-reports/"):
            url = _url(route, report.pk).replace(f"files/{report.pk}/", "files/pdf/")
            assert owner_api.get(url).status_code == 200, url


def test_a_strangers_portfolio_cannot_be_reported_on(api_client, stranger, report, portfolio):
    api_client.force_authenticate(stranger)
    response = api_client.post("/api/v1/tax-reports/", {"year": 2024, "portfolio": portfolio.pk}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("name, kwargs", [
    ("tax:report", {}), ("tax:download", {"kind": "pdf"}), ("tax:download", {"kind": "csv-income"}),
])
def test_a_stranger_gets_404_from_the_report_pages(client, stranger, report, name, kwargs):
    from django.urls import reverse

    client.force_login(stranger)
    assert client.get(reverse(name, kwargs={"report_id": report.pk, **kwargs})).status_code == 404


def test_a_stranger_cannot_rebuild_someone_elses_report(client, stranger, report):
    from django.urls import reverse

    client.force_login(stranger)
    assert client.post(reverse("tax:rebuild", args=[report.pk])).status_code == 404


def test_a_stranger_does_not_see_the_report_in_the_list(client, stranger, report):
    from django.urls import reverse

    client.force_login(stranger)
    html = client.get(reverse("tax:home")).content.decode()
    assert reverse("tax:report", args=[report.pk]) not in html
