"""Idempotency-Key on every create of the API (config.idempotency.IdempotencyMiddleware):
replay, a concurrent duplicate (real threads, real PostgreSQL and cache), a reused key,
keys per user, and every create endpoint covered."""

import json
import threading
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from portfolios.models import Portfolio, Position, Transaction
from portfolios.services import transactions as transaction_services
from tests.portfolios.factories import PortfolioFactory

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]
KEY = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}


@pytest.fixture
def pid(owner_api):
    return owner_api.post("/api/v1/portfolios/", {"name": "Main"}, format="json").json()["id"]


@pytest.fixture
def buy(pid, eth, prices):
    return {
        "portfolio": pid,
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00:00Z",
        "legs": [{"asset": "USD", "quantity": "-2000"}, {"token": eth.pk, "quantity": "1"}],
    }


def test_an_idempotency_key_replays_the_first_response(owner_api, buy):
    first = owner_api.post("/api/v1/transactions/", buy, format="json", **KEY)
    again = owner_api.post("/api/v1/transactions/", buy, format="json", **KEY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Transaction.objects.count() == 1
    changed = dict(buy, description="different")
    reused = owner_api.post("/api/v1/transactions/", changed, format="json", **KEY)
    assert reused.status_code == 422 and "different request" in reused.json()["detail"]
    assert owner_api.post("/api/v1/transactions/", buy, format="json").status_code == 201  # no key: a new one
    assert Transaction.objects.count() == 2


def test_the_same_json_in_another_key_order_and_spacing_is_the_same_request(owner_api, buy):
    assert owner_api.post("/api/v1/transactions/", buy, format="json", **KEY).status_code == 201
    reordered = dict(reversed(list(buy.items())), legs=[dict(reversed(list(leg.items()))) for leg in buy["legs"]])
    again = owner_api.post(
        "/api/v1/transactions/", json.dumps(reordered, indent=2), content_type="application/json", **KEY
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    # "1.0" is another string than "1": another request, refused rather than replayed.
    respelled = dict(buy, legs=[buy["legs"][0], dict(buy["legs"][1], quantity="1.0")])
    assert owner_api.post("/api/v1/transactions/", respelled, format="json", **KEY).status_code == 422
    assert Transaction.objects.count() == 1


def test_idempotency_keys_are_per_user(owner_api, stranger, buy):
    assert owner_api.post("/api/v1/transactions/", buy, format="json", **KEY).status_code == 201
    theirs = APIClient()  # not the owner's client (the api_client fixture is that one)
    theirs.force_authenticate(stranger)
    # The stranger's request with the same key runs as their own (and finds no portfolio of theirs) ...
    assert theirs.post("/api/v1/transactions/", buy, format="json", **KEY).status_code == 404
    # ... and their own portfolio is created under the same key, nothing replayed across users.
    mine = theirs.post("/api/v1/portfolios/", {"name": "Theirs"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    owners = owner_api.post("/api/v1/portfolios/", {"name": "Theirs"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert mine.status_code == owners.status_code == 201 and mine.json()["id"] != owners.json()["id"]
    assert "Idempotent-Replayed" not in owners


def test_anonymous_requests_pass_through_untouched(buy):
    anonymous = APIClient()
    response = anonymous.post("/api/v1/transactions/", buy, format="json", **KEY)
    assert response.status_code in (401, 403) and "Idempotent-Replayed" not in response
    assert anonymous.post("/api/v1/transactions/", buy, format="json", **KEY).status_code in (401, 403)
    assert not Transaction.objects.exists()


def test_a_key_longer_than_255_characters_is_refused(owner_api, buy):
    response = owner_api.post("/api/v1/transactions/", buy, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400 and "255" in response.json()["detail"]
    assert not Transaction.objects.exists()


def test_a_validation_error_is_replayed_too(owner_api, pid):
    body = {"portfolio": pid, "kind": "buy", "occurred_at": "2025-06-01T12:00:00Z", "legs": []}
    first = owner_api.post("/api/v1/transactions/", body, format="json", **KEY)
    again = owner_api.post("/api/v1/transactions/", body, format="json", **KEY)
    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_kept_so_a_retry_runs_again(owner_api, buy):
    original = transaction_services.transaction_record
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return original(**kwargs)

    owner_api.raise_request_exception = False
    with patch.object(transaction_services, "transaction_record", flaky):
        assert owner_api.post("/api/v1/transactions/", buy, format="json", **KEY).status_code == 500
        retried = owner_api.post("/api/v1/transactions/", buy, format="json", **KEY)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert len(calls) == 2 and Transaction.objects.count() == 1


# --------------------------------------------------------------------------- every create


def test_every_create_endpoint_replays_instead_of_creating_twice(owner_api, pid, amm_pool, eth, usdc, crv, prices):
    def twice(url, body, fmt="json", key="k"):
        first = owner_api.post(url, body() if callable(body) else body, format=fmt, HTTP_IDEMPOTENCY_KEY=key)
        again = owner_api.post(url, body() if callable(body) else body, format=fmt, HTTP_IDEMPOTENCY_KEY=key)
        assert again.status_code == first.status_code and again.content == first.content, url
        assert again["Idempotent-Replayed"] == "true", url
        return first

    assert twice("/api/v1/portfolios/", {"name": "Second"}, key="p").status_code == 201
    assert Portfolio.objects.filter(name="Second").count() == 1

    opened = twice(
        "/api/v1/positions/",
        {
            "portfolio": pid,
            "pool": amm_pool.pk,
            "kind": "lp",
            "opened_at": "2025-06-01T12:00:00Z",
            "deposits": [{"token": eth.pk, "quantity": "1"}, {"token": usdc.pk, "quantity": "2000"}],
        },
        key="open",
    )
    assert opened.status_code == 201 and Position.objects.count() == 1
    base = f"/api/v1/positions/{opened.json()['id']}"
    before = Transaction.objects.count()
    assert (
        twice(
            f"{base}/deposit/",
            {
                "occurred_at": "2025-06-02T00:00:00Z",
                "amounts": [
                    {"token": eth.pk, "quantity": "1", "fiat_value": "2000"},
                    {"token": usdc.pk, "quantity": "2000"},
                ],
            },
            key="dep",
        ).status_code
        == 201
    )
    assert (
        twice(
            f"{base}/claim/",
            {
                "occurred_at": "2025-07-01T00:00:00Z",
                "token": crv.pk,
                "quantity": "10",
                "income_type": "liquidity_mining",
            },
            key="claim",
        ).status_code
        == 201
    )
    assert (
        twice(
            f"{base}/withdraw/",
            {
                "occurred_at": "2025-09-01T12:00:00Z",
                "amounts": [{"token": eth.pk, "quantity": "0.1"}, {"token": usdc.pk, "quantity": "100"}],
            },
            key="out",
        ).status_code
        == 201
    )
    assert Transaction.objects.count() == before + 3

    csv_text = (
        "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
        "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,\n"
        "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,\n"
    )

    def upload():
        return {
            "file": SimpleUploadedFile("t.csv", csv_text.encode(), "text/csv"),
            "format": "native",
            "commit": "true",
        }

    imported = twice(f"/api/v1/portfolios/{pid}/import/", upload, fmt="multipart", key="csv")
    assert imported.status_code == 201 and imported.json()["created"] == 1  # not "0 created, 1 duplicate"
    other_file = {
        "file": SimpleUploadedFile("t.csv", csv_text.replace("-2000", "-2001").encode(), "text/csv"),
        "format": "native",
        "commit": "true",
    }
    assert (
        owner_api.post(
            f"/api/v1/portfolios/{pid}/import/", other_file, format="multipart", HTTP_IDEMPOTENCY_KEY="csv"
        ).status_code
        == 422
    )

    report = twice("/api/v1/tax-reports/", {"year": 2024}, key="tax")
    assert report.status_code in (200, 202) and report["Location"]


def test_the_token_endpoint_is_never_replayed(api_client, owner, password):
    body = {"email": owner.email, "password": password}
    first = api_client.post("/api/v1/auth/token/", body, format="json", **KEY)
    again = api_client.post("/api/v1/auth/token/", body, format="json", **KEY)
    assert first.status_code == again.status_code == 200 and "Idempotent-Replayed" not in again


# --------------------------------------------------------------------------- a concurrent duplicate


def _post_in_thread(user, body, results):
    client = APIClient()
    client.force_authenticate(user)
    try:
        results.append(client.post("/api/v1/transactions/", body, format="json", **KEY))
    finally:
        connection.close()  # this thread's own database connection


def _slow_first_request(owner, body):
    """Start the first request in a thread and hold it inside the service; returns
    (release, thread, results)."""
    started, release, results = threading.Event(), threading.Event(), []
    original = transaction_services.transaction_record

    def held(**kwargs):
        started.set()
        assert release.wait(20), "the test never released the first request"
        return original(**kwargs)

    patcher = patch.object(transaction_services, "transaction_record", held)
    patcher.start()
    thread = threading.Thread(target=_post_in_thread, args=(owner, body, results))
    thread.start()
    assert started.wait(20), "the first request never reached the service"
    return release, thread, results, patcher


@pytest.mark.django_db(transaction=True)
def test_without_the_middleware_a_concurrent_retry_records_twice(owner, eth, prices):
    """The race the middleware closes: two copies of one request in flight both record."""
    portfolio = PortfolioFactory(owner=owner)
    body = {
        "portfolio": portfolio.pk,
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00:00Z",
        "legs": [{"asset": "USD", "quantity": "-2000"}, {"token": eth.pk, "quantity": "1"}],
    }
    from django.conf import settings

    without = [m for m in settings.MIDDLEWARE if m != "config.idempotency.IdempotencyMiddleware"]
    with override_settings(MIDDLEWARE=without):
        release, thread, results, patcher = _slow_first_request(owner, body)
        try:
            second = []
            retry = threading.Thread(target=_post_in_thread, args=(owner, body, second))
            retry.start()
            retry.join(0.5)  # the retry is held in the service too
            release.set()
            thread.join(20)
            retry.join(20)
        finally:
            patcher.stop()
    assert results[0].status_code == second[0].status_code == 201
    assert Transaction.objects.filter(portfolio=portfolio).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_answers_409_with_retry_after_then_replays(owner, eth, prices):
    portfolio = PortfolioFactory(owner=owner)
    body = {
        "portfolio": portfolio.pk,
        "kind": "buy",
        "occurred_at": "2025-06-01T12:00:00Z",
        "legs": [{"asset": "USD", "quantity": "-2000"}, {"token": eth.pk, "quantity": "1"}],
    }
    client = APIClient()
    client.force_authenticate(owner)
    release, thread, results, patcher = _slow_first_request(owner, body)
    try:
        duplicate = client.post("/api/v1/transactions/", body, format="json", **KEY)
        different = client.post("/api/v1/transactions/", dict(body, description="x"), format="json", **KEY)
    finally:
        release.set()
        thread.join(20)
        patcher.stop()
    assert duplicate.status_code == 409 and duplicate["Retry-After"] == "1"
    assert "still being processed" in duplicate.json()["detail"]
    assert different.status_code == 422
    assert results[0].status_code == 201
    replay = client.post("/api/v1/transactions/", body, format="json", **KEY)
    assert replay.status_code == 201 and replay.json() == results[0].json()
    assert replay["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(portfolio=portfolio).count() == 1
