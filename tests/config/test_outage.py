"""config/outage.py in process: a lost database connection anywhere in a request becomes a
503 (problem JSON under /api/, the styled page elsewhere); any other error stays a 500."""

from unittest.mock import patch

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # answer as in production instead of re-raising
    return client


def lost_connection(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def test_a_page_answers_the_styled_503(client):
    with patch("pools.views.pool_search", side_effect=lost_connection):
        response = client.get("/pools/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Temporarily unavailable" in body and "/static/css/site.css" in body
    assert "<script" not in body


def test_the_api_answers_503_problem_json(client):
    with patch("pools.api.views.selectors.pool_list_base", side_effect=lost_connection):
        response = client.get("/api/v1/pools/?_b=outage")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank", "title": "Service Unavailable", "status": 503,
        "detail": "The database is not answering, so this can't be shown right now. "
                  "It usually comes back within a few minutes.",
    }


def test_an_error_in_middleware_before_any_view_is_a_503_too(client, owner):
    client.force_login(owner)  # the session and the user are read by middleware, before the view
    with patch("django.contrib.sessions.backends.db.SessionStore._get_session_from_db", side_effect=lost_connection):
        response = client.get("/learn/")
    assert response.status_code == 503


def test_other_errors_stay_500(client):
    with patch("pools.views.pool_search", side_effect=ValueError("a bug")):
        response = client.get("/pools/")
    assert response.status_code == 500
