"""Signup → verification email → confirm → login → settings change."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-9"


def _confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_visitor_signs_up_confirms_logs_in_and_changes_settings(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "New.User@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "new.user@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.user@example.com"]

    # Unverified: logging in is refused and sends the user to verification.
    client.logout()
    response = client.post(reverse("account_login"), {"login": "new.user@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert "confirm-email" in response["Location"] or "verification" in response["Location"]
    assert "_auth_user_id" not in client.session

    link = _confirmation_link(mail.outbox[0])
    page = client.get(link)
    assert page.status_code == 200
    assert client.post(link).status_code == 302
    assert user.emailaddress_set.get().verified

    client.logout()
    response = client.post(reverse("account_login"), {"login": "new.user@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk

    response = client.post(
        reverse("accounts:settings"),
        {"name": "Ada", "fiat_currency": "USD", "tax_jurisdiction": "uk", "cost_basis_method": "fifo",
         "lp_treatment": "disposal", "timezone": "Europe/London"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.tax_jurisdiction, user.cost_basis_method, user.lp_treatment, user.timezone) == (
        "Ada", "uk", "uk", "disposal", "Europe/London")


def test_settings_page_requires_login(client):
    response = client.get(reverse("accounts:settings"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_settings_rejects_unknown_timezone_and_keeps_old_values(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:settings"),
        {"name": "", "fiat_currency": "USD", "tax_jurisdiction": "us", "cost_basis_method": "hifo",
         "lp_treatment": "nontaxable", "timezone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    assert "Mars/Olympus" in response.content.decode()
    owner.refresh_from_db()
    assert owner.timezone == "UTC"
    assert owner.cost_basis_method == "fifo"


def test_uk_pooling_is_refused_outside_the_uk(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:settings"),
        {"name": "", "fiat_currency": "USD", "tax_jurisdiction": "us", "cost_basis_method": "uk",
         "lp_treatment": "nontaxable", "timezone": "UTC"},
    )
    assert response.status_code == 200
    assert "only available for the UK" in response.content.decode()
    owner.refresh_from_db()
    assert owner.cost_basis_method == "fifo"


def test_password_reset_sends_a_link_that_sets_a_new_password(client, owner):
    client.post(reverse("account_reset_password"), {"email": owner.email})
    assert len(mail.outbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body)
    assert match
    response = client.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else match.group(1)
    response = client.post(form_url, {"password1": "Brand-New-Pass-77", "password2": "Brand-New-Pass-77"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Brand-New-Pass-77")


def test_password_change_for_a_logged_in_user(owner_client, owner, password):
    response = owner_client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": "Another-Pass-88", "password2": "Another-Pass-88"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Another-Pass-88")


def test_repeated_failed_logins_are_rate_limited(client, owner):
    pages = [client.post(reverse("account_login"), {"login": owner.email, "password": "wrong-password"})
             for _ in range(6)]
    # The budget is 5 failures per account and client per 5 minutes (CREDENTIAL_LIMITS).
    assert [p.status_code for p in pages] == [200] * 5 + [429]
    assert 1 <= int(pages[5]["Retry-After"]) <= 300
    assert "Too many attempts" in pages[5].content.decode()
    # While the limit holds, even the right password does not log in from this client.
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "a-strong-passphrase-42"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(owner_client):
    response = owner_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in owner_client.session
