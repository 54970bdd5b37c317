"""Test settings: base.py with fast hashing and in-memory email.

DATABASE_URL and REDIS_URL come from the environment (make test points them
at the local PostgreSQL and Redis; CI does the same)."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests decide per test whether a task runs eagerly or on a real worker.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
