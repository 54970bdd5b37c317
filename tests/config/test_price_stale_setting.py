"""PRICE_STALE_AFTER_HOURS: read from the environment (default 24); a value below 1 stops startup."""

from tests.config.test_settings import run_probe

CODE = "import django; from django.conf import settings; django.setup(); print(settings.PRICE_STALE_AFTER_HOURS)"


def test_the_default_is_a_day_and_the_environment_sets_it():
    assert run_probe({}, code=CODE).stdout.strip().splitlines()[-1] == "24"
    assert run_probe({"PRICE_STALE_AFTER_HOURS": "72"}, code=CODE).stdout.strip().splitlines()[-1] == "72"


def test_a_threshold_below_an_hour_stops_startup():
    result = run_probe({"PRICE_STALE_AFTER_HOURS": "0"}, code=CODE)
    assert result.returncode != 0 and "PRICE_STALE_AFTER_HOURS must be at least 1" in result.stderr
