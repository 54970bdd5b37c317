"""The signup journey in a real browser: sign up, follow the emailed link,
land signed in, change settings."""

import re

import pytest
from django.core import mail

from accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signup_confirm_and_change_settings_in_a_real_browser(page, live_server, shot):
    page.goto("/")
    assert "Know what your DeFi positions really earn" in page.inner_text("h1")
    page.get_by_role("link", name="Sign up").first.click()

    page.get_by_label("Email").fill("browser.user@example.com")
    page.get_by_label("Password", exact=True).fill("Browser-Journey-2026")
    page.get_by_label("Password (again)").fill("Browser-Journey-2026")
    shot("signup-form")
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert page.inner_text("h1") == "Check your email"

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    page.goto(path)
    page.get_by_role("button", name="Confirm").click()
    # Confirming logs the user in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION) and lands on the dashboard.
    page.wait_for_url(re.compile(r"/portfolios/"))
    assert page.get_by_role("button", name="Log out").is_visible()

    page.get_by_role("link", name="Account").click()
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Preferences").click()
    page.get_by_label("Tax jurisdiction").select_option("uk")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Save settings").click()
    assert "Your settings were saved." in page.inner_text("main")
    shot("settings-saved")

    user = User.objects.get(email="browser.user@example.com")
    assert user.emailaddress_set.get().verified
    assert (user.tax_jurisdiction, user.cost_basis_method, user.timezone) == ("uk", "uk", "Europe/London")
    assert page.js_errors == []
