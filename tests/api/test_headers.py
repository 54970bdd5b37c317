"""CORS for configured origins only, and a Permissions-Policy header on every response."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


@pytest.mark.parametrize("path", ["/", "/api/v1/pools/", "/api/v1/no-such-thing/", "/healthz"])
def test_every_response_has_a_permissions_policy(client, path):
    policy = client.get(path)["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy


def test_no_cors_by_default(client):
    response = client.get("/api/v1/pools/", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_a_configured_origin_may_call_the_api_with_a_token(client):
    preflight = client.options("/api/v1/portfolios/", HTTP_ORIGIN=APP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == APP
    allowed = preflight["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "idempotency-key" in allowed
    response = client.get("/api/v1/pools/", HTTP_ORIGIN=APP)
    assert response["Access-Control-Allow-Origin"] == APP
    assert "retry-after" in response["Access-Control-Expose-Headers"].lower()


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_other_origins_and_web_pages_get_no_cors(client):
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/pools/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=APP)
