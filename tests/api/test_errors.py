"""Every API error is RFC 9457 problem JSON, including errors raised outside the views."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_missing_credentials_are_401_with_a_challenge(api_client):
    response = api_client.get("/api/v1/portfolios/")
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_401_with_a_challenge(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get("/api/v1/me/")
    problem(response, 401)
    assert "WWW-Authenticate" in response


def test_validation_errors_are_listed_by_field(owner_api):
    body = problem(owner_api.patch("/api/v1/me/", {"lp_treatment": "nope", "fiat_currency": "XXX"}), 400)
    assert set(body["errors"]) == {"lp_treatment", "fiat_currency"}
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)
    assert body["type"].endswith("/validation-error")


def test_unknown_api_url_is_a_problem_404(api_client):
    problem(api_client.get("/api/v1/no-such-thing/"), 404)


@pytest.mark.parametrize("path", ["/api/v1/tax-reports/abc/", "/api/v1/portfolios/abc/",
                                  "/api/v1/positions/abc/", "/api/v1/transactions/abc/"])
def test_a_non_numeric_id_is_404_not_500(owner_api, path):
    problem(owner_api.get(path), 404)


def test_someone_elses_object_is_404(owner_api, stranger):
    other = APIClient()
    other.force_authenticate(stranger)
    created = other.post("/api/v1/portfolios/", {"name": "Mine"}, format="json")
    assert created.status_code == 201
    problem(owner_api.get(f"/api/v1/portfolios/{created.json()['id']}/"), 404)


def test_wrong_method_is_405(owner_api):
    problem(owner_api.put("/api/v1/me/", {}), 405)


def test_unsupported_media_type_is_415(owner_api):
    response = owner_api.generic("PATCH", "/api/v1/me/", "<x/>", content_type="application/xml")
    problem(response, 415)


def test_malformed_json_is_400(owner_api):
    response = owner_api.generic("PATCH", "/api/v1/me/", "{not json", content_type="application/json")
    problem(response, 400)


def test_a_10kb_deeply_nested_body_is_400_even_anonymously(api_client):
    body = "[" * 5000 + "]" * 5000
    response = api_client.generic("POST", "/api/v1/auth/token/", body,
                                  content_type="application/json")
    problem(response, 400)


def test_moderately_nested_json_over_the_depth_limit_is_400(owner_api):
    body = '{"name": ' + "[" * 40 + "]" * 40 + "}"
    response = owner_api.generic("POST", "/api/v1/portfolios/", body, content_type="application/json")
    assert "nested" in problem(response, 400)["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_413_problem_json(owner_api):
    body = json.dumps({"name": "x" * 5000})
    response = owner_api.generic("POST", "/api/v1/portfolios/", body, content_type="application/json")
    problem(response, 413)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_with_an_idempotency_key_is_413_too(owner_api):
    # The idempotency middleware reads the body before any view: Django's handler400 answers.
    body = json.dumps({"name": "x" * 5000})
    response = owner_api.generic("POST", "/api/v1/portfolios/", body, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY="k1")
    problem(response, 413)


def test_throttled_is_429_with_retry_after(api_client, owner):
    for _ in range(10):
        api_client.post("/api/v1/auth/token/", {"email": owner.email, "password": "wrong"}, format="json")
    response = api_client.post("/api/v1/auth/token/", {"email": owner.email, "password": "wrong"}, format="json")
    problem(response, 429)
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("path", ["/api/docs/", "/api/schema/"])
def test_options_on_the_docs_and_schema_is_not_a_500(client, path):
    assert client.options(path).status_code < 500


def test_an_unhandled_error_is_a_problem_500(owner_api, monkeypatch):
    from accounts.api import views

    def boom(self, request):
        raise RuntimeError("bug")

    monkeypatch.setattr(views.MeView, "get", boom)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(owner_api.handler._force_user)
    body = problem(client.get("/api/v1/me/"), 500)
    assert "bug" not in body["detail"]  # no internals leak


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_nested_errors_flatten_to_dotted_field_paths():
    from config.api.exceptions import flatten_errors

    detail = {
        "legs": [{}, {"quantity": ["Must be positive."], "non_field_errors": ["Unbalanced."]}],
        "__all__": ["Duplicate name."],
        "non_field_errors": ["Something else."],
        "name": "Too long.",
    }
    assert flatten_errors(detail) == {
        "legs.1.quantity": ["Must be positive."],
        "legs.1": ["Unbalanced."],
        "non_field_errors": ["Duplicate name.", "Something else."],
        "name": ["Too long."],
    }
    assert flatten_errors(["One.", "Two."]) == {"non_field_errors": ["One.", "Two."]}


def test_json_depth_is_measured_without_recursion():
    from config.api.exceptions import json_depth_exceeds

    deep: list = []
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    assert json_depth_exceeds(deep, 32)
    assert not json_depth_exceeds({"a": [{"b": [1, 2]}]}, 4)
    assert json_depth_exceeds({"a": [{"b": [1, 2]}]}, 3)


def test_a_number_where_text_is_expected_is_refused_not_coerced(owner_api):
    body = problem(owner_api.post("/api/v1/portfolios/", {"name": 0}, format="json"), 400)
    assert body["errors"] == {"name": ["Must be a string."]}
