"""App authentication over the API (allauth headless, "app" client, JWT tokens): sign-up,
verification, login, refresh, logout, password change and reset, revocation from the web."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]

AUTH = "/api/auth/app/v1"
NEW_PASSWORD = "Another-Long-Pass-88"


def post(client, path, body, **headers):
    return client.post(AUTH + path, body, content_type="application/json", **headers)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def me(client, access):
    return client.get("/api/v1/me/", **bearer(access)).status_code


def app_login(client, email, password):
    response = post(client, "/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    meta = response.json()["meta"]
    return meta["access_token"], meta["refresh_token"]


def test_sign_up_verify_by_emailed_key_then_use_the_access_token(client):
    response = post(client, "/auth/signup", {"email": "App.User@example.com", "password": "Xyz-long-pass-123"})
    # allauth answers 401 with the pending flow: the email must be verified first.
    assert response.status_code == 401
    assert {"id": "verify_email", "is_pending": True} in response.json()["data"]["flows"]
    pending = response.json()["meta"]["session_token"]
    assert len(mail.outbox) == 1
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[0].body).group(1)

    verified = post(client, "/auth/email/verify", {"key": key}, HTTP_X_SESSION_TOKEN=pending)
    assert verified.status_code == 200
    access = verified.json()["meta"]["access_token"]
    body = client.get("/api/v1/me/", **bearer(access)).json()
    assert body["email"] == "app.user@example.com"


def test_login_refused_with_a_wrong_password(client, owner):
    response = post(client, "/auth/login", {"email": owner.email, "password": "wrong-password-1"})
    assert response.status_code == 400
    assert "access_token" not in response.content.decode()


def test_an_expired_access_token_is_refused_and_the_refresh_token_gets_a_new_one(client, owner, password):
    with override_settings(HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN=-60):  # born expired
        access, refresh = app_login(client, owner.email, password)
    assert me(client, access) == 401
    response = post(client, "/tokens/refresh", {"refresh_token": refresh})
    assert response.status_code == 200
    fresh = response.json()["data"]
    assert me(client, fresh["access_token"]) == 200
    # Refresh tokens rotate: the used one is spent.
    assert post(client, "/tokens/refresh", {"refresh_token": refresh}).status_code != 200
    assert post(client, "/tokens/refresh", {"refresh_token": fresh["refresh_token"]}).status_code == 200


def test_logout_revokes_the_access_and_refresh_tokens(client, owner, password):
    access, refresh = app_login(client, owner.email, password)
    assert me(client, access) == 200
    response = client.delete(AUTH + "/auth/session", **bearer(access))
    assert response.status_code in (200, 401, 410)  # allauth: 401/410 = "now logged out"
    assert me(client, access) == 401
    assert post(client, "/tokens/refresh", {"refresh_token": refresh}).status_code != 200


def test_password_change_revokes_every_app_token_of_the_user(owner, password):
    phone, tablet = Client(), Client()
    phone_access, _ = app_login(phone, owner.email, password)
    tablet_access, tablet_refresh = app_login(tablet, owner.email, password)
    response = post(phone, "/account/password/change",
                    {"current_password": password, "new_password": NEW_PASSWORD}, **bearer(phone_access))
    assert response.status_code in (200, 401)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert me(phone, phone_access) == 401
    assert me(tablet, tablet_access) == 401
    assert post(tablet, "/tokens/refresh", {"refresh_token": tablet_refresh}).status_code != 200
    # The new password works.
    assert me(tablet, app_login(tablet, owner.email, NEW_PASSWORD)[0]) == 200


def test_password_reset_by_emailed_key_revokes_tokens(client, owner, password):
    access, _ = app_login(Client(), owner.email, password)
    assert post(client, "/auth/password/request", {"email": owner.email}).status_code == 200
    key = re.search(r"/accounts/password/reset/key/([^/\s]+)/", mail.outbox[-1].body).group(1)
    response = post(client, "/auth/password/reset", {"key": key, "password": NEW_PASSWORD})
    assert response.status_code in (200, 401)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert me(client, access) == 401


def test_the_settings_page_lists_app_sessions_and_signing_one_out_revokes_its_tokens(
        owner_client, owner, password, stranger):
    access, refresh = app_login(Client(HTTP_USER_AGENT="YieldledgerApp/1.0"), owner.email, password)
    app_login(Client(HTTP_USER_AGENT="StrangerPhone/9"), stranger.email, password)
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert "YieldledgerApp/1.0" in page
    assert "StrangerPhone/9" not in page  # each user sees only their own sessions
    from allauth.usersessions.models import UserSession

    app_session = UserSession.objects.get(user=owner, user_agent="YieldledgerApp/1.0")
    stranger_session = UserSession.objects.get(user=stranger)
    # Someone else's session: 404, and it stays alive.
    assert owner_client.post(reverse("accounts:session_end", args=[stranger_session.pk])).status_code == 404
    assert UserSession.objects.filter(pk=stranger_session.pk).exists()

    response = owner_client.post(reverse("accounts:session_end", args=[app_session.pk]))
    assert response.status_code == 302
    client = Client()
    assert me(client, access) == 401
    assert post(client, "/tokens/refresh", {"refresh_token": refresh}).status_code != 200
    # The browser session doing the revoking is still signed in.
    assert owner_client.get(reverse("accounts:settings")).status_code == 200


# --- The legacy token (deprecated POST /api/v1/auth/token/) ----------------------------------


def legacy_token(client, email, password):
    response = client.post("/api/v1/auth/token/", {"email": email, "password": password},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response["Deprecation"] == "true"
    return response.json()


def test_asking_again_for_a_legacy_token_replaces_the_old_one(client, owner, password):
    first = legacy_token(client, owner.email, password)["token"]
    second = legacy_token(client, owner.email, password)["token"]
    assert first != second
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_a_legacy_token_expires(client, owner, password):
    token = legacy_token(client, owner.email, password)["token"]
    with override_settings(API_LEGACY_TOKEN_SECONDS=0):
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_password_change_revokes_the_legacy_token(client, owner_client, owner, password):
    token = legacy_token(client, owner.email, password)["token"]
    response = owner_client.post(reverse("account_change_password"),
                                 {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_the_settings_page_shows_and_revokes_the_legacy_token(client, owner_client, owner, password):
    token = legacy_token(client, owner.email, password)["token"]
    assert token[:6] in owner_client.get(reverse("accounts:settings")).content.decode()
    assert owner_client.post(reverse("accounts:legacy_token_revoke")).status_code == 302
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
