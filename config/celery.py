"""The Celery app. Every setting comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


class BaseTask(DjangoTask):
    """Retry defaults for every task that opts into ``autoretry_for``:
    exponential backoff with jitter, capped at 10 minutes, five attempts.

    DjangoTask adds ``delay_on_commit``/``apply_async_on_commit``: services
    enqueue through those instead of hand-written ``transaction.on_commit``."""

    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5


app = Celery("yieldledger", task_cls=BaseTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks that belong to the project rather than an app.
app.autodiscover_tasks(["config"], related_name="tasks", force=True)
