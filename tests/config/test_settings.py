"""Effective settings for each environment, read in a fresh interpreter so the
environment really is what the process starts with."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
from config.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "db_engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_host": settings.DATABASES["default"].get("HOST", ""),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": app.conf.broker_url,
    "eager": app.conf.task_always_eager,
    "serializer": app.conf.task_serializer,
    "accept": list(app.conf.accept_content),
    "acks_late": app.conf.task_acks_late,
    "time_limit": app.conf.task_time_limit,
    "soft_time_limit": app.conf.task_soft_time_limit,
    "beat_scheduler": app.conf.beat_scheduler,
    "email_backend": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", None),
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csp": bool(settings.SECURE_CSP),
}))
"""

BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "SYSTEMROOT")


def run_probe(env: dict[str, str], settings_module: str = "config.settings.base", code: str = PROBE):
    clean = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


def probe(env: dict[str, str], settings_module: str = "config.settings.base") -> dict:
    result = run_probe(env, settings_module)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_environment_gives_the_embedded_default(tmp_path):
    s = probe({})
    assert s["debug"] is True
    assert s["db_engine"] == "django.db.backends.sqlite3"
    assert s["db_name"].endswith("db.sqlite3")
    assert s["cache"].endswith("LocMemCache")
    assert s["eager"] is True
    assert s["broker"].startswith("memory")
    assert s["email_backend"].endswith("console.EmailBackend")


def test_database_url_and_redis_url_select_postgresql_and_redis():
    s = probe({"DATABASE_URL": "postgres://app:pw@db.internal:5432/yl", "REDIS_URL": "redis://cache.internal:6379/2"})
    assert s["db_engine"] == "django.db.backends.postgresql"
    assert (s["db_name"], s["db_host"]) == ("yl", "db.internal")
    assert s["cache"].endswith("RedisCache")
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert s["eager"] is False


def test_celery_uses_json_acks_late_time_limits_and_the_database_scheduler():
    s = probe({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert s["serializer"] == "json" and s["accept"] == ["json"]
    assert s["acks_late"] is True
    assert 0 < s["soft_time_limit"] < s["time_limit"]
    assert s["beat_scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"


def test_email_url_configures_smtp():
    s = probe({"EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587"})
    assert s["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["email_host"] == "smtp.example.com"


def test_allowed_hosts_is_a_comma_separated_list():
    assert probe({"ALLOWED_HOSTS": "a.example.com,b.example.com"})["allowed_hosts"] == [
        "a.example.com", "b.example.com"]


def test_debug_false_without_a_secret_refuses_to_start():
    result = run_probe({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_stops_startup():
    result = run_probe({"DEBUG": "maybe"})
    # django-environ treats unknown strings as false; with no secret that stops startup too.
    assert result.returncode != 0


def test_production_settings_are_secure():
    s = probe({"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "yieldledger.example.com"}, "config.settings.production")
    assert s["debug"] is False
    assert s["hsts"] >= 31536000 and s["ssl_redirect"] and s["session_secure"] and s["csp"]


@pytest.mark.parametrize("settings_module", ["config.settings.base", "config.settings.production"])
def test_check_deploy_prints_no_warnings_with_production_like_environment(settings_module, tmp_path):
    # As deployed, collectstatic has run (its manifest exists; config/checks.py warns otherwise).
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    env = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
    env.update({"DEBUG": "false", "SECRET_KEY": "k3y-" + "q8Zr1x" * 10, "ALLOWED_HOSTS": "yieldledger.example.com",
                "DJANGO_SETTINGS_MODULE": settings_module, "STATIC_ROOT": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
