"""Brute-force limits on every credential endpoint: per client IP and per account+client,
429 with Retry-After, shared counters, trusted-proxy client IP, fail-open without Redis."""

import logging
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from accounts import limits
from config.clientip import client_ip

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]

ATTACKER = "203.0.113.66"
OWNER_IP = "198.51.100.7"


def web_login(client, email, password, ip=ATTACKER, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip, **headers)


def burn(client, email, n=5, ip=ATTACKER, **headers):
    for _ in range(n):
        assert web_login(client, email, "wrong-password-x", ip=ip, **headers).status_code == 200


def test_a_stranger_who_knows_the_email_does_not_lock_the_owner_out(client, owner, password):
    burn(client, owner.email)
    assert web_login(client, owner.email, password).status_code == 429  # the guesser is stopped
    owner_device = Client()
    response = web_login(owner_device, owner.email, password, ip=OWNER_IP)
    assert response.status_code == 302 and "_auth_user_id" in owner_device.session


def test_a_spoofed_forwarded_for_header_changes_nothing_without_trusted_proxies(client, owner):
    for n in range(5):
        web_login(client, owner.email, "wrong-password-x", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = web_login(client, owner.email, "wrong-password-x", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_last_forwarded_hop_is_the_client(client, owner, password):
    proxy = "10.1.1.1"
    burn(client, owner.email, ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}")
    assert web_login(client, owner.email, password, ip=proxy,
                     HTTP_X_FORWARDED_FOR=f"9.9.9.9, {ATTACKER}").status_code == 429
    ok = web_login(Client(), owner.email, password, ip=proxy, HTTP_X_FORWARDED_FOR=OWNER_IP)
    assert ok.status_code == 302


def test_the_api_token_endpoint_shares_the_login_counters(client, owner, password):
    burn(client, owner.email)
    response = client.post("/api/v1/auth/token/", {"email": owner.email, "password": password},
                           content_type="application/json", REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 300


def test_failed_api_token_requests_lock_the_web_login_for_that_client(client, owner, password):
    for _ in range(5):
        response = client.post("/api/v1/auth/token/", {"email": owner.email, "password": "wrong-password-x"},
                               content_type="application/json", REMOTE_ADDR=ATTACKER)
        assert response.status_code == 401
    assert web_login(client, owner.email, password).status_code == 429


def test_the_app_login_is_limited_too(client, owner, password):
    for _ in range(5):
        client.post("/api/auth/app/v1/auth/login", {"email": owner.email, "password": "wrong-password-x"},
                    content_type="application/json", REMOTE_ADDR=ATTACKER)
    response = client.post("/api/auth/app/v1/auth/login", {"email": owner.email, "password": password},
                           content_type="application/json", REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429 and "Retry-After" in response


@override_settings(CREDENTIAL_LIMITS={**limits.settings.CREDENTIAL_LIMITS, "login": {"ip": "3/60", "account": "5/300"}})
def test_one_client_trying_many_accounts_hits_the_per_ip_limit(client, owner, stranger):
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        web_login(client, email, "wrong-password-x")
    assert web_login(client, stranger.email, "wrong-password-x").status_code == 429
    assert web_login(Client(), stranger.email, "wrong-password-x", ip=OWNER_IP).status_code == 200


def test_the_admin_login_goes_through_the_limited_site_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_admin_refuses_a_signed_in_non_staff_user(owner_client):
    assert owner_client.get("/admin/login/?next=/admin/").status_code == 403


@pytest.mark.parametrize("path", ["/accounts/password/reset/", "/api/auth/app/v1/auth/password/request"])
def test_password_reset_requests_are_limited(client, owner, path):
    codes = []
    for _ in range(4):
        if path.startswith("/api/"):
            response = client.post(path, {"email": owner.email}, content_type="application/json", REMOTE_ADDR=ATTACKER)
        else:
            response = client.post(path, {"email": owner.email}, REMOTE_ADDR=ATTACKER)
        codes.append(response.status_code)
    assert codes[-1] == 429 and 429 not in codes[:3]
    assert "Retry-After" in response


def test_verification_resend_is_limited(client):
    signup = client.post("/api/auth/app/v1/auth/signup", {"email": "new@example.com", "password": "Xyz-long-pass-123"},
                         content_type="application/json", REMOTE_ADDR=ATTACKER)
    token = signup.json()["meta"]["session_token"]
    codes = [client.post("/api/auth/app/v1/auth/email/verify/resend", {"email": "new@example.com"},
                         content_type="application/json", HTTP_X_SESSION_TOKEN=token, REMOTE_ADDR=ATTACKER).status_code
             for _ in range(4)]
    assert codes[-1] == 429


def count_work(callback):
    """Password hashes computed and emails sent while ``callback`` runs."""
    sent = len(mail.outbox)
    with mock.patch.object(MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode) as enc:
        callback()
    return enc.call_count, len(mail.outbox) - sent


def test_sign_up_does_the_same_work_whether_or_not_the_email_exists(owner):
    def signup(email):
        body = {"email": email, "password1": "Xyz-long-pass-123", "password2": "Xyz-long-pass-123"}
        return lambda: Client().post(reverse("account_signup"), body)

    new = count_work(signup("brand.new@example.com"))
    existing = count_work(signup(owner.email))
    assert new == existing == (1, 1)  # one password hashed, one email sent, either way


def test_app_sign_up_does_the_same_work_whether_or_not_the_email_exists(owner):
    def signup(email):
        return lambda: Client().post("/api/auth/app/v1/auth/signup", {"email": email, "password": "Xyz-long-pass-123"},
                                     content_type="application/json")

    assert count_work(signup("brand.new@example.com")) == count_work(signup(owner.email)) == (1, 1)


def test_password_reset_does_the_same_work_whether_or_not_the_email_exists(owner):
    def reset(email):
        return lambda: Client().post(reverse("account_reset_password"), {"email": email})

    assert count_work(reset("nobody@example.com")) == count_work(reset(owner.email)) == (0, 1)


def test_limits_fail_open_with_a_warning_when_the_cache_is_down(client, owner, password, caplog):
    broken = mock.Mock()
    broken.get.side_effect = ConnectionError("redis down")
    broken.add.side_effect = ConnectionError("redis down")
    with mock.patch.object(limits, "cache", broken), caplog.at_level(logging.WARNING, logger="accounts.limits"):
        for _ in range(7):
            web_login(client, owner.email, "wrong-password-x")
        response = web_login(client, owner.email, password)
    assert response.status_code == 302
    assert "Credential limits unavailable" in caplog.text


@pytest.mark.parametrize(("remote", "header", "proxies", "expected"), [
    ("1.1.1.1", "6.6.6.6", 0, "1.1.1.1"),            # no trusted proxy: the header is ignored
    ("10.0.0.1", "6.6.6.6, 2.2.2.2", 1, "2.2.2.2"),  # one proxy: it appended the client
    ("10.0.0.2", "6.6.6.6, 2.2.2.2, 10.0.0.1", 2, "2.2.2.2"),
    ("10.0.0.1", "2.2.2.2", 2, "10.0.0.1"),          # fewer hops than proxies: do not guess
    ("10.0.0.1", "not-an-ip", 1, "10.0.0.1"),
    ("10.0.0.1", None, 1, "10.0.0.1"),
])
def test_client_ip_believes_only_trusted_proxies(remote, header, proxies, expected):
    assert client_ip(remote, header, proxies) == expected


def test_rates_are_parsed_and_refuse_nonsense():
    assert limits.parse_rate("5/300") == limits.Window(5, 300)
    for bad in ("0/60", "5/0", "five/60"):
        with pytest.raises(ValueError):
            limits.parse_rate(bad)
