"""Celery tasks of the alerts app: thin, idempotent wrappers around ``alerts.services``.

* ``evaluate_alerts(pool_ids, rescored_all)`` - enqueued on commit after each pool
  refresh (``alerts.receivers``): the rules of the pools that changed; with
  ``rescored_all`` (the daily full risk pass) also every "risk worse" rule.
* ``evaluate_alerts_for_tokens(token_ids)`` - after each price refresh: the price
  conditions (range, peg) of the pools holding those tokens.
* ``send_alert_emails()`` - after an evaluation that fired: immediate emails.
* ``send_alert_digests()`` - daily beat (``config/schedules.py`` "alert-digests").

Rerunning any of them changes nothing: a firing is recorded once per episode
(unique rule + episode) and emails claim their notifications first.
"""

from __future__ import annotations

from celery import shared_task

from alerts.conditions import PRICE_CONDITIONS, Condition
from alerts.models import AlertPreference
from alerts.services.emails import alert_emails_send
from alerts.services.evaluation import alerts_evaluate


@shared_task(name="alerts.tasks.evaluate_alerts", ignore_result=True)
def evaluate_alerts(pool_ids: list[int], rescored_all: bool = False) -> dict:
    result = alerts_evaluate(pool_ids=pool_ids)
    if rescored_all:
        result.add(alerts_evaluate(conditions=[Condition.RISK_WORSE]))
    if result.fired:
        send_alert_emails.delay()
    return {"rules": result.rules, "fired": result.fired, "cleared": result.cleared}


@shared_task(name="alerts.tasks.evaluate_alerts_for_tokens", ignore_result=True)
def evaluate_alerts_for_tokens(token_ids: list[int]) -> dict:
    result = alerts_evaluate(token_ids=token_ids, conditions=sorted(PRICE_CONDITIONS))
    if result.fired:
        send_alert_emails.delay()
    return {"rules": result.rules, "fired": result.fired, "cleared": result.cleared}


@shared_task(name="alerts.tasks.send_alert_emails", ignore_result=True)
def send_alert_emails() -> int:
    return alert_emails_send(mode=AlertPreference.Email.IMMEDIATE)


@shared_task(name="alerts.tasks.send_alert_digests", ignore_result=True)
def send_alert_digests() -> int:
    return alert_emails_send(mode=AlertPreference.Email.DAILY)
