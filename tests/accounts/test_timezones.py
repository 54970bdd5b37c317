"""The time-zone list: common zones first, canonical names only, nothing lost."""

import zoneinfo

import pytest

from accounts.forms import PreferencesForm
from accounts.timezones import COMMON, canonical_zones, timezone_choices
from tests.factories import UserFactory


def flat(choices) -> list[str]:
    return [value for _, group in choices for value, _ in group]


def test_common_zones_come_first_and_the_rest_follow_alphabetically():
    (common_label, common), (all_label, others) = timezone_choices()
    assert [v for v, _ in common][:2] == ["UTC", "Europe/London"]
    values = [v for v, _ in others]
    assert values == sorted(values)
    assert not set(values) & set(COMMON)
    assert ("America/New_York", "America/New York") in common


def test_no_alias_or_oddity_is_offered():
    values = set(flat(timezone_choices()))
    for alias in ("US/Eastern", "GB-Eire", "Factory", "Etc/GMT+5", "EST5EDT", "Europe/Kiev", "Asia/Calcutta"):
        assert alias not in values
    assert {"Europe/Kyiv", "Asia/Kolkata", "America/Argentina/Buenos_Aires"} <= values


def test_every_offered_zone_is_one_python_knows():
    assert set(canonical_zones()) <= zoneinfo.available_timezones()
    assert set(COMMON) <= set(canonical_zones())
    assert 300 < len(canonical_zones()) < 500  # about 420, against 600 names with aliases


def test_a_saved_alias_stays_selectable_so_saving_other_settings_does_not_fail():
    assert flat(timezone_choices("US/Eastern"))[0] == "US/Eastern"


@pytest.mark.django_db
def test_the_form_refuses_an_alias_a_user_never_had():
    user = UserFactory(timezone="UTC")
    data = {"name": "", "fiat_currency": "USD", "tax_jurisdiction": "us", "cost_basis_method": "fifo",
            "lp_treatment": "nontaxable", "timezone": "US/Eastern"}
    form = PreferencesForm(data, instance=user)
    assert not form.is_valid()
    assert "timezone" in form.errors
    form = PreferencesForm({**data, "timezone": "America/New_York"}, instance=user)
    assert form.is_valid(), form.errors
