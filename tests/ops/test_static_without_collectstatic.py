"""DEBUG=false before ``collectstatic`` has run: pages are served (not a 500 each, as before),
with their stylesheet, and ``manage.py check --deploy`` names the missing step."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from django.db import connection

from tests.ops.server import ROOT, app_env, database_url, gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


def production_env(static_root: str) -> dict[str, str]:
    return app_env(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL="", DEBUG="false",
                   SECRET_KEY="test-only-secret-key-for-a-production-like-run-0123456789",
                   SECURE_SSL_REDIRECT="false", STATIC_ROOT=static_root)


def test_pages_and_their_stylesheet_are_served_before_collectstatic(tmp_path):
    empty = tmp_path / "staticfiles"
    empty.mkdir()
    with gunicorn(production_env(str(empty)), log=tmp_path / "gunicorn.log") as base, \
            httpx.Client(base_url=base, timeout=20) as http:
        for path in ("/", "/pools/", "/learn/", "/accounts/login/"):
            page = http.get(path)
            assert page.status_code == 200, (path, page.status_code)
        css = http.get("/static/css/site.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert "/static/css/site.css" in http.get("/").text  # unhashed: there is no manifest yet


def test_check_deploy_says_collectstatic_has_not_run(tmp_path):
    env = production_env(str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert "yieldledger.W001" in result.stderr + result.stdout
    assert "collectstatic" in result.stderr + result.stdout
