"""The Celery app. Every setting comes from Django settings (CELERY_*)."""

import logging
import os
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

logger = logging.getLogger(__name__)

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

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        delay = self.delay  # looked up now, as DjangoTask does (tests patch ``task.delay``)
        self._send_on_commit(lambda: delay(*args, **kwargs))

    def apply_async_on_commit(self, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        apply = self.apply_async
        self._send_on_commit(lambda: apply(args, kwargs, **options))

    def _send_on_commit(self, call: Any) -> None:
        """Send once the transaction commits, as DjangoTask does, but with Django's
        ``robust`` on_commit: when the broker (Redis) is down, the failed send is logged
        instead of turning the request, whose data already committed, into a 500.
        What was asked for stays recorded (a pending report, a revaluation the next
        change or the nightly pass redoes)."""
        name = self.name

        def send() -> None:  # a named function: Django's robust logging names it
            try:
                call()
            except Exception:
                logger.warning("could not queue %s (broker unreachable?); the request itself was saved",
                               name, exc_info=True)
                raise

        transaction.on_commit(send, robust=True)


app = Celery("yieldledger", task_cls=BaseTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks that belong to the project rather than an app.
app.autodiscover_tasks(["config"], related_name="tasks", force=True)
