"""Project system checks (``manage.py check``; registered from ``config/__init__.py``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.staticfiles, deploy=True)
def collectstatic_has_run(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.DEBUG or getattr(settings, "STATIC_MANIFEST_READY", True):
        return []
    return [Warning(
        f"collectstatic has not run: {settings.STATIC_ROOT}/staticfiles.json is missing.",
        hint="Run `python manage.py collectstatic --noinput` before starting the web processes. Until then "
             "static files are served unhashed from the apps' folders (no long-lived caching, no compression).",
        id="yieldledger.W001",
    )]
