"""The cache: same inputs -> the same report, nothing recomputed; any change -> a new build."""

from decimal import Decimal
from unittest.mock import patch

import pytest

from portfolios.models import Leg, Transaction
from portfolios.tax.models import TaxReport
from portfolios.tax.services import tax_report_request
from tests.portfolios.tax.handworked import record

pytestmark = pytest.mark.django_db


def test_the_same_inputs_return_the_done_report_without_recomputing(owner, ledger, build,
                                                                     django_capture_on_commit_callbacks):
    first = build(owner)
    with patch("portfolios.tax.build.compute") as engine, \
            patch("portfolios.tax.tasks.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        again, queued = tax_report_request(owner=owner, year=2024)
    assert again.pk == first.pk and again.status == "done" and not queued
    engine.assert_not_called()
    delay.assert_not_called()
    assert TaxReport.objects.count() == 1


def test_asking_with_the_users_preferences_spelled_out_is_the_same_report(owner, ledger, build):
    first = build(owner)
    second = build(owner, jurisdiction="us", method="fifo", lp_treatment="nontaxable", timezone="UTC")
    assert second.pk == first.pk


def test_a_new_transaction_in_the_year_builds_a_new_report(owner, ledger, portfolio, tokens, build):
    first = build(owner)
    record(portfolio, "2024-09-01T00:00", "reward", "staking", [("ETH", "0.01", "30", False)], tokens)
    second = build(owner)
    assert second.pk != first.pk and second.status == "done"
    assert second.summary["totals"]["income_total"] == "260.00"
    assert first.summary["totals"]["income_total"] == "230.00"


def test_a_transaction_after_the_year_does_not_invalidate_it(owner, ledger, portfolio, tokens, build):
    first = build(owner)
    record(portfolio, "2025-03-01T00:00", "reward", "staking", [("ETH", "0.01", "30", False)], tokens)
    assert build(owner).pk == first.pk


def test_under_uk_pooling_a_purchase_within_30_days_after_the_year_does_invalidate_it(owner, ledger, portfolio,
                                                                                    tokens, build, ecb_rates):
    first = build(owner, jurisdiction="uk")
    assert first.status == "done", first.error
    # A buy on 2025-04-20 can match a disposal of the 2024/25 year's last 30 days (bed and breakfast).
    record(portfolio, "2025-04-20T00:00", "buy", "", [("USD", "-300", "300", False), ("ETH", "0.1", "300", False)],
           tokens)
    assert build(owner, jurisdiction="uk").pk != first.pk


def test_editing_a_leg_in_place_builds_a_new_report(owner, ledger, build):
    first = build(owner)
    Leg.objects.filter(transaction=ledger[2]).update(fiat_value=Decimal("90"))  # the CRV reward's value
    second = build(owner)
    assert second.pk != first.pk
    assert second.summary["totals"]["income_total"] == "240.00"


def test_deleting_a_transaction_builds_a_new_report(owner, ledger, build):
    first = build(owner)
    Transaction.objects.filter(pk=ledger[3].pk).delete()  # the ETH staking reward
    second = build(owner)
    assert second.pk != first.pk
    assert second.summary["totals"]["income_total"] == "80.00"


def test_changing_a_transactions_time_builds_a_new_report(owner, ledger, build):
    first = build(owner)
    Transaction.objects.filter(pk=ledger[2].pk).update(occurred_at=ledger[2].occurred_at.replace(month=5))
    second = build(owner)
    assert second.pk != first.pk
    assert second.summary["totals"]["income_by_month"] == {"2024-03": "150.00", "2024-05": "80.00"}


@pytest.mark.parametrize("change", [{"method": "lifo"}, {"lp_treatment": "disposal"}, {"timezone": "Asia/Tokyo"},
                                    {"jurisdiction": "other"}])
def test_a_different_setting_builds_a_different_report(owner, ledger, build, change):
    first = build(owner)
    other = build(owner, **change)
    assert other.pk != first.pk and other.status == "done"
    for key, value in change.items():
        assert getattr(other, key) == value


def test_changing_the_users_preferences_changes_the_default_report(owner, ledger, build):
    first = build(owner)
    owner.cost_basis_method = "hifo"
    owner.save()
    second = build(owner)
    assert second.pk != first.pk and second.method == "hifo"


def test_a_failed_report_asked_for_again_is_built_again(owner, ledger, build):
    with patch("portfolios.tax.build.compute", side_effect=RuntimeError("transient")):
        failed = build(owner)
    assert failed.status == "failed"
    again = build(owner)
    assert again.pk == failed.pk and again.status == "done" and again.error == ""


def test_a_pending_report_whose_message_was_lost_is_enqueued_again(owner, ledger, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from portfolios.tax.services import REQUEUE_AFTER

    with patch("portfolios.tax.tasks.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        report, queued = tax_report_request(owner=owner, year=2024)
        assert queued
        _, queued = tax_report_request(owner=owner, year=2024)
        assert not queued  # still waiting: not enqueued twice
        TaxReport.objects.filter(pk=report.pk).update(created_at=timezone.now() - REQUEUE_AFTER * 2)
        _, queued = tax_report_request(owner=owner, year=2024)
        assert queued
    assert delay.call_count == 2
    delay.assert_called_with(report_id=report.pk)


def test_a_new_report_is_enqueued_only_after_the_commit(owner, ledger, django_capture_on_commit_callbacks):
    with patch("portfolios.tax.tasks.build_tax_report.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            report, _ = tax_report_request(owner=owner, year=2024)
        delay.assert_not_called()
        assert len(callbacks) == 1
        callbacks[0]()
        delay.assert_called_once_with(report_id=report.pk)


def test_a_broker_that_is_down_leaves_the_report_pending_and_the_request_answered(
        owner, ledger, django_capture_on_commit_callbacks, caplog):
    from kombu.exceptions import OperationalError

    with patch("portfolios.tax.tasks.build_tax_report.delay", side_effect=OperationalError("broker down")) as delay, \
            django_capture_on_commit_callbacks(execute=True):
        report, queued = tax_report_request(owner=owner, year=2024)  # must not raise
    assert delay.call_count == 1 and queued
    report.refresh_from_db()
    assert report.status == "pending"
    assert "broker down" in caplog.text  # logged, not swallowed silently


def test_uk_pooling_outside_the_uk_and_a_future_year_are_refused(owner, ledger):
    from portfolios.tax.services import TaxRequestError

    with pytest.raises(TaxRequestError, match="only to the UK"):
        tax_report_request(owner=owner, year=2024, jurisdiction="us", method="uk")
    with pytest.raises(TaxRequestError, match="between 2009 and"):
        tax_report_request(owner=owner, year=2999)
    with pytest.raises(TaxRequestError, match="time zone"):
        tax_report_request(owner=owner, year=2024, timezone="Mars/Olympus")


def test_the_fingerprint_is_one_query(owner, ledger, django_assert_num_queries):
    from portfolios.tax.inputs import ReportInputs, tax_inputs_hash

    inputs = ReportInputs(owner.pk, None, 2024, "us", "fifo", "nontaxable", "UTC", "USD",
                          __import__("datetime").date(2024, 12, 31))
    with django_assert_num_queries(1):
        digest, fingerprint = tax_inputs_hash(inputs=inputs)
    assert fingerprint.legs == 13  # the 2025 sale is after the cut-off
    assert len(digest) == 64


def test_the_python_fingerprint_used_without_postgresql_also_sees_every_change(owner, ledger):
    from datetime import UTC, datetime

    from portfolios.tax import inputs as tax_inputs

    until = datetime(2025, 1, 1, tzinfo=UTC)
    with patch.object(tax_inputs, "_on_postgres", return_value=False):
        before = tax_inputs.ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=until)
        loaded = tax_inputs.tax_ledger_load(owner_id=owner.pk, portfolio_id=None, until=until)
        Leg.objects.filter(transaction=ledger[2]).update(quantity=Decimal("101"))
        after = tax_inputs.ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=until)
    assert loaded.fingerprint == before  # the build checks what it streamed against the request
    assert before.legs == after.legs == 13 and before.hash_sum != after.hash_sum
