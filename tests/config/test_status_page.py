"""/status/: the /healthz checks in words, for people."""

import pytest
from django.test import override_settings

from config.celery import app

pytestmark = pytest.mark.django_db


def test_status_page_says_everything_works_when_the_services_answer(client):
    response = client.get("/status/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "Everything is working." in text
    assert text.count(">Working<") == 4
    assert ">Down<" not in text


def test_status_page_names_the_queue_as_down_when_the_broker_is_unreachable(client):
    app.conf.task_always_eager = False
    try:
        # Port 1 on loopback: nothing listens there, the connection is refused at once.
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = client.get("/status/")
    finally:
        app.conf.task_always_eager = True
    # Pages still work without the queue: degraded, not down (as /healthz says it).
    assert response.status_code == 200
    text = response.content.decode()
    assert "The site works, with less" in text
    assert "new tax reports and refreshes cannot be queued" in text
    assert "queued work waits until a worker is back" in text


def test_the_footer_links_the_human_status_page_not_the_json(client):
    text = client.get("/learn/").content.decode()
    assert 'href="/status/"' in text
    assert 'href="/healthz"' not in text
