import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_me_requires_authentication(api_client):
    assert api_client.get("/api/v1/me/").status_code in (401, 403)


def test_me_returns_the_current_user_and_preferences(owner_api, owner):
    body = owner_api.get("/api/v1/me/").json()
    assert body["email"] == owner.email
    assert body["tax_jurisdiction"] == "us"
    assert body["cost_basis_method"] == "fifo"
    assert body["timezone"] == "UTC"


def test_patch_me_updates_preferences(owner_api, owner):
    response = owner_api.patch("/api/v1/me/", {"timezone": "Asia/Tokyo", "cost_basis_method": "hifo"})
    assert response.status_code == 200
    owner.refresh_from_db()
    assert (owner.timezone, owner.cost_basis_method) == ("Asia/Tokyo", "hifo")


def test_switching_to_uk_switches_to_uk_pooling(owner_api, owner):
    response = owner_api.patch("/api/v1/me/", {"tax_jurisdiction": "uk"})
    assert response.status_code == 200
    assert response.json()["cost_basis_method"] == "uk"


@pytest.mark.parametrize(
    "payload, field",
    [({"timezone": "Nowhere/Land"}, "timezone"), ({"cost_basis_method": "uk"}, "cost_basis_method"),
     ({"fiat_currency": "XAU"}, "fiat_currency")],
)
def test_patch_me_rejects_bad_values_naming_the_field(owner_api, owner, payload, field):
    response = owner_api.patch("/api/v1/me/", payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    owner.refresh_from_db()
    assert owner.timezone == "UTC" and owner.cost_basis_method == "fifo"


def test_token_is_obtained_with_email_and_password_and_authenticates(api_client, owner, password):
    response = api_client.post(reverse("api-token"), {"email": owner.email, "password": password})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/me/").json()["email"] == owner.email


def test_token_refused_for_a_wrong_password(api_client, owner):  # 401 like any bad credential
    response = api_client.post(reverse("api-token"), {"email": owner.email, "password": "nope"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_endpoint_is_throttled(api_client, owner):
    codes = [api_client.post(reverse("api-token"), {"email": owner.email, "password": "x"}).status_code
             for _ in range(12)]
    assert codes.count(429) >= 1


def test_openapi_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def test_patch_me_sets_and_clears_the_lots_per_wallet_date(owner_api, owner):
    from datetime import date

    response = owner_api.patch("/api/v1/me/", {"lots_per_wallet_from": "2025-01-01"}, format="json")
    assert response.status_code == 200 and response.json()["lots_per_wallet_from"] == "2025-01-01"
    owner.refresh_from_db()
    assert owner.lots_per_wallet_from == date(2025, 1, 1)
    response = owner_api.patch("/api/v1/me/", {"lots_per_wallet_from": None}, format="json")
    assert response.status_code == 200 and response.json()["lots_per_wallet_from"] is None
    owner.refresh_from_db()
    assert owner.lots_per_wallet_from is None


@pytest.mark.parametrize("value", ["2008-12-31", "01/01/2025", "2025-01-01T00:00:00Z", "soon", 2025])
def test_patch_me_refuses_a_bad_lots_per_wallet_date(owner_api, owner, value):
    response = owner_api.patch("/api/v1/me/", {"lots_per_wallet_from": value}, format="json")
    assert response.status_code == 400 and "lots_per_wallet_from" in response.json()["errors"]
    owner.refresh_from_db()
    assert owner.lots_per_wallet_from is None
