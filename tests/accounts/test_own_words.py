"""Account pages and emails in our own words (allauth's templates overridden), and the
resend-verification action."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from accounts.models import User
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]

PASSWORD = "Correct-Horse-Battery-9"
# The library's wording the issue quoted, and its Title Case headings.
LIBRARY_WORDS = [
    "Hello from",
    "Please confirm that",
    "is an email address for user",
    "Thank you for using",
    "Verify Your Email Address",
    "Email Addresses",
    "Password Reset",
    "Change Password",
    "Re-send Verification",
    "Make Primary",
    "Please contact us",
]


def assert_our_words(text: str) -> None:
    found = [phrase for phrase in LIBRARY_WORDS if phrase in text]
    assert found == [], found


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_signup_email_is_ours_and_carries_the_link(client, mailoutbox):
    client.post("/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD})
    [message] = mailoutbox
    assert message.subject == "[Yieldledger] Confirm your email address to finish signing up"
    assert message.body.startswith("Hello,\n\nPlease confirm that new@example.com is yours by opening this link:")
    assert re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert_our_words(message.body.replace("Please confirm that new@example.com is yours", ""))


def test_the_password_reset_email_is_ours(client, mailoutbox):
    UserFactory(email="reset@example.com")
    client.post("/accounts/password/reset/", {"email": "reset@example.com"})
    [message] = mailoutbox
    assert message.subject == "[Yieldledger] Reset your password"
    assert "To choose a new password, open this link:" in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert_our_words(message.body)


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/login/", "Log in"),
        ("/accounts/signup/", "Create your account"),
        ("/accounts/password/reset/", "Choose a new password"),
        ("/accounts/password/reset/done/", "Check your email"),
        ("/accounts/confirm-email/", "Check your email"),
        ("/accounts/confirm-email/not-a-key/", "Confirm your email address"),
        ("/accounts/password/reset/key/1-bad/", "This link no longer works"),
        ("/account/resend-verification/", "Send the confirmation link again"),
    ],
)
def test_visitor_account_pages_speak_our_words(client, url, heading):
    response = client.get(url, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"<h1>{heading}</h1>" in text
    assert_our_words(text)


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/email/", "Email addresses"),
        ("/accounts/password/change/", "Change your password"),
        ("/accounts/logout/", "Log out"),
    ],
)
def test_signed_in_account_pages_speak_our_words(client, url, heading):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"<h1>{heading}</h1>" in text
    assert_our_words(text)


def test_the_login_page_offers_a_password_reset_once(client):
    text = client.get("/accounts/login/").content.decode()
    assert text.count('href="/accounts/password/reset/"') == 1
    assert "Forgot your password?" not in text


def test_an_expired_link_page_offers_a_new_link(client):
    text = client.get("/accounts/confirm-email/not-a-key/").content.decode()
    assert 'href="/account/resend-verification/"' in text


def signed_up(client, email: str) -> User:
    client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    return User.objects.get(email=email)


def test_resend_sends_a_new_link_to_an_unconfirmed_address_once_per_cooldown(client, mailoutbox):
    signed_up(client, "waiting@example.com")
    assert len(mailoutbox) == 1
    response = client.post("/account/resend-verification/", {"email": "Waiting@Example.com"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert "a new link is on its way" in response.content.decode()
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == ["waiting@example.com"]
    new_link = re.search(r"/accounts/confirm-email/(\S+)/", mailoutbox[1].body).group(0)
    client.post("/account/resend-verification/", {"email": "waiting@example.com"})
    assert len(mailoutbox) == 2  # within the cooldown: nothing more
    # The new link confirms the address.
    client.post(new_link)
    assert EmailAddress.objects.get(email="waiting@example.com").verified


@pytest.mark.parametrize("who", ["unknown", "confirmed"])
def test_resend_answers_the_same_and_sends_nothing_for_unknown_or_confirmed_addresses(client, mailoutbox, who):
    UserFactory(email="confirmed@example.com")
    response = client.post("/account/resend-verification/", {"email": f"{who}@example.com"}, follow=True)
    assert "a new link is on its way" in response.content.decode()
    assert mailoutbox == []


def test_resend_rejects_a_malformed_address_with_a_message(client, mailoutbox):
    response = client.post("/account/resend-verification/", {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert mailoutbox == []


def test_the_new_password_help_is_ours_not_the_validators_list(client):
    text = client.get("/accounts/signup/").content.decode()
    assert "At least 8 characters. Not only digits, not a well-known password" in text
    assert "can’t be too similar" not in text and "can&#x27;t be too similar" not in text
    assert 'aria-describedby="id_password1_helptext"' in text
