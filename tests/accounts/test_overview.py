"""/account/ is a page of its own: the signed-in user's addresses and choices."""

import pytest
from allauth.account.models import EmailAddress

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_account_overview_shows_the_users_own_address_and_choices(client):
    owner = UserFactory(
        email="owner@example.com", timezone="Europe/London", tax_jurisdiction="uk", cost_basis_method="uk"
    )
    UserFactory(email="stranger@example.com")
    client.force_login(owner)
    response = client.get("/account/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "owner@example.com" in text
    assert "stranger@example.com" not in text
    assert "Europe/London" in text
    assert "United Kingdom" in text
    assert "Send the confirmation link again" not in text  # the only address is confirmed


def test_an_unconfirmed_second_address_offers_to_resend_its_link(client, mailoutbox):
    owner = UserFactory(email="owner@example.com")
    EmailAddress.objects.create(user=owner, email="second@example.com", verified=False, primary=False)
    client.force_login(owner)
    text = client.get("/account/").content.decode()
    assert "Send the confirmation link again" in text
    response = client.post("/accounts/email/", {"email": "second@example.com", "action_send": ""})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["second@example.com"]]


def test_account_overview_asks_visitors_to_log_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_navigation_account_link_goes_to_the_overview(client):
    client.force_login(UserFactory())
    assert 'href="/account/"' in client.get("/account/settings/").content.decode()


def test_the_account_menu_marks_the_current_page(client):
    client.force_login(UserFactory())
    text = client.get("/account/settings/").content.decode()
    assert '<a href="/account/settings/" aria-current="page">Preferences</a>' in text
    assert '<a href="/account/">Overview</a>' in text
