"""/api/v1/tax-reports/: 202 + Location, status and progress, summary and files when done."""

import io
from unittest.mock import patch

import pytest
from pypdf import PdfReader

from portfolios.tax.models import TaxReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(owner_api, ledger):
    """A request whose build has not run yet (the task is enqueued, not executed)."""
    with patch("portfolios.tax.tasks.build_tax_report.delay"):
        return owner_api.post("/api/v1/tax-reports/", {"year": 2024}, format="json")


def test_requesting_a_report_answers_202_with_its_url_in_location_and_body(owner_api, ledger,
                                                                           django_capture_on_commit_callbacks):
    with patch("portfolios.tax.tasks.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post("/api/v1/tax-reports/", {"year": 2024}, format="json")
    assert response.status_code == 202
    report = TaxReport.objects.get()
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver/api/v1/tax-reports/{report.pk}/"
    assert (body["status"], body["progress"], body["summary"], body["files"]) == ("pending", 0, None, {})
    assert (body["tax_year"], body["method"], body["jurisdiction"]) == ("2024", "fifo", "us")
    delay.assert_called_once_with(report_id=report.pk)


def test_polling_shows_the_status_then_the_summary_and_file_links_when_done(owner_api, queued):
    url = queued["Location"]
    assert owner_api.get(url).json()["status"] == "pending"
    from portfolios.tax.build import tax_report_build

    tax_report_build(report_id=queued.json()["id"])
    body = owner_api.get(url).json()
    assert (body["status"], body["progress"]) == ("done", 100)
    assert body["summary"]["totals"]["gain"] == "4780.00"
    assert body["summary"]["totals"]["income_by_type"] == {"liquidity_mining": "80.00", "staking": "150.00"}
    assert set(body["files"]) == {"csv-disposals", "csv-income", "pdf"}
    assert body["files"]["pdf"] == f"{url}files/pdf/"
    pdf = owner_api.get(body["files"]["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "4,780.00" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    csv = owner_api.get(body["files"]["csv-disposals"])
    assert csv.status_code == 200 and b"(h) Gain or (loss)" in csv.content
    assert csv["Content-Disposition"] == 'attachment; filename="yieldledger-tax-2024-us-fifo-disposals.csv"'


def test_files_of_a_report_not_done_yet_are_404(owner_api, queued):
    assert owner_api.get(f"{queued['Location']}files/pdf/").status_code == 404


def test_an_unknown_file_kind_is_404(owner_api, queued):
    from portfolios.tax.build import tax_report_build

    tax_report_build(report_id=queued.json()["id"])
    assert owner_api.get(f"{queued['Location']}files/xlsx/").status_code == 404


def test_asking_again_for_a_done_report_answers_200_without_a_new_build(owner_api, ledger, build, owner):
    report = build(owner)
    with patch("portfolios.tax.build.compute") as engine:
        response = owner_api.post("/api/v1/tax-reports/", {"year": "2024"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == report.pk and response.json()["status"] == "done"
    assert response["Location"].endswith(f"/api/v1/tax-reports/{report.pk}/")
    engine.assert_not_called()


def test_the_list_shows_only_the_users_reports_newest_first(owner_api, ledger, build, owner, stranger):
    first = build(owner)
    second = build(owner, method="hifo")
    TaxReport.objects.create(owner=stranger, year=2024, jurisdiction="us", method="fifo", lp_treatment="nontaxable",
                             timezone="UTC", prices_as_of="2024-12-31", inputs_hash="x" * 64)
    body = owner_api.get("/api/v1/tax-reports/").json()
    assert [r["id"] for r in body["results"]] == [second.pk, first.pk]
    assert "summary" not in body["results"][0]


@pytest.mark.parametrize("payload, field", [
    ({"year": "twenty"}, "year"), ({"year": 2024, "jurisdiction": "fr"}, "jurisdiction"),
    ({"year": 2024, "method": "uk"}, "method"), ({"year": 2024, "timezone": "Nowhere/City"}, "timezone"),
    ({"year": 2999}, "year"), ({}, "year"),
])
def test_bad_requests_are_400_naming_the_field(owner_api, ledger, payload, field):
    response = owner_api.post("/api/v1/tax-reports/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_uk_year_may_be_written_as_2024_25_and_forces_pooling(owner_api, ledger):
    with patch("portfolios.tax.tasks.build_tax_report.delay"):
        response = owner_api.post("/api/v1/tax-reports/", {"year": "2024/25", "jurisdiction": "uk",
                                                          "method": "fifo"}, format="json")
    assert response.status_code == 202
    assert (response.json()["tax_year"], response.json()["method"]) == ("2024/25", "uk")


def test_a_report_of_one_portfolio(owner_api, ledger, portfolio):
    with patch("portfolios.tax.tasks.build_tax_report.delay"):
        response = owner_api.post("/api/v1/tax-reports/", {"year": 2024, "portfolio": portfolio.pk}, format="json")
    assert response.status_code == 202 and response.json()["portfolio"] == portfolio.pk


def test_anonymous_clients_are_refused(api_client):
    assert api_client.get("/api/v1/tax-reports/").status_code in (401, 403)
    assert api_client.post("/api/v1/tax-reports/", {"year": 2024}, format="json").status_code in (401, 403)


def test_the_openapi_schema_documents_the_tax_routes(db, tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/tax-reports/:", "/api/v1/tax-reports/{id}/:", "/api/v1/tax-reports/{id}/files/{kind}/:"):
        assert path in text
