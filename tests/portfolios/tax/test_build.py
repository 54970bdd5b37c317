"""Building a report: the numbers, the status transitions, running twice, failures."""

from decimal import Decimal
from unittest.mock import patch

import pytest

from portfolios.tax.build import tax_report_build
from portfolios.tax.engine import LegIn, TaxSettings, TxIn, compute, year_summary
from portfolios.tax.models import TaxReport, TaxReportFile
from portfolios.tax.services import tax_report_request
from tests.ecb_file import ecb_convert
from tests.portfolios.tax.handworked import engine_ledger, record

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_reports_totals_equal_the_engines_on_the_same_ledger(owner, ledger, build):
    report = build(owner)
    assert report.status == "done", report.error
    expected = year_summary(compute(engine_ledger(ledger), TaxSettings(), tax_year="2024").year("2024"))
    assert report.summary["totals"] == expected


def test_the_totals_match_the_hand_worked_ledger(owner, ledger, build):
    totals = build(owner).summary["totals"]
    assert (totals["proceeds"], totals["cost_basis"], totals["gain"]) == ("9080.00", "4300.00", "4780.00")
    assert (totals["gain_short"], totals["gain_long"]) == ("640.00", "4140.00")
    assert totals["income_total"] == "230.00"
    assert totals["income_by_type"] == {"liquidity_mining": "80.00", "staking": "150.00"}
    assert totals["income_by_month"] == {"2024-02": "80.00", "2024-03": "150.00"}
    assert totals["income_by_asset"] == {"CRV": "80.00", "ETH": "150.00"}
    assert totals["disposal_count"] == 4


def test_holdings_at_the_year_end_are_valued_at_the_nearest_earlier_price_and_unpriced_ones_are_marked(
        owner, ledger, build):
    summary = build(owner).summary
    holdings = {h["asset"]: h for h in summary["holdings"]}
    assert (holdings["ETH"]["quantity"], holdings["ETH"]["cost_basis"]) == ("0.55", "1400.00")
    assert (holdings["ETH"]["price"], holdings["ETH"]["price_date"]) == ("3400", "2024-12-31")
    assert (holdings["ETH"]["value"], holdings["ETH"]["unrealised_gain"]) == ("1870.00", "470.00")
    assert holdings["USDC"]["price_date"] == "2024-12-20"  # nearest earlier day
    assert holdings["CRV"]["priced"] is False  # its only price is after the year end
    assert summary["holdings_totals"] == {"cost_basis": "1430.00", "value": "1900.00", "unrealised_gain": "470.00",
                                          "unpriced": ["CRV"], "cost_basis_all": "1470.00"}
    assert summary["prices_as_of"] == "2024-12-31"


def test_the_rewards_summary_lists_each_token_and_month_with_its_value_at_receipt(owner, ledger, build):
    rewards = build(owner).summary["rewards"]
    assert [(r["asset"], r["month"], r["quantity"], r["value_at_receipt"], r["events"]) for r in rewards] == [
        ("CRV", "2024-02", "100", "80.00", 1), ("ETH", "2024-03", "0.05", "150.00", 1)]


def test_the_three_files_are_stored_with_the_report(owner, ledger, build):
    report = build(owner)
    files = {f.kind: f for f in TaxReportFile.objects.filter(report=report)}
    assert set(files) == {"csv-disposals", "csv-income", "pdf"}
    assert bytes(files["pdf"].content).startswith(b"%PDF")
    assert files["pdf"].size == len(bytes(files["pdf"].content))
    assert files["csv-disposals"].filename == "yieldledger-tax-2024-us-fifo-disposals.csv"


def test_a_build_goes_from_pending_through_running_to_done_with_progress(owner, ledger,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report, queued = tax_report_request(owner=owner, year=2024)
    assert queued and report.status == "pending" and report.progress == 0
    seen = []
    from portfolios.tax import build as tax_build

    original = tax_build._build

    def spy(obj, progress):
        seen.append(TaxReport.objects.values_list("status", "progress").get(pk=obj.pk))
        result = original(obj, lambda p: (progress(p), seen.append(
            TaxReport.objects.values_list("status", "progress").get(pk=obj.pk))))
        return result

    with patch.object(tax_build, "_build", spy):
        assert tax_report_build(report_id=report.pk) == "done"
    assert seen[0] == ("running", 1)
    progress = [p for s, p in seen]
    assert all(s == "running" for s, _ in seen)
    assert progress == sorted(progress) and progress[-1] == 95
    report.refresh_from_db()
    assert (report.status, report.progress) == ("done", 100)
    assert report.started_at <= report.finished_at


def test_running_the_build_twice_computes_once(owner, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report, _ = tax_report_request(owner=owner, year=2024)
    from portfolios.tax import build as tax_build

    with patch.object(tax_build, "compute", wraps=tax_build.compute) as engine:
        assert tax_report_build(report_id=report.pk) == "done"
        first = TaxReport.objects.get(pk=report.pk)
        assert tax_report_build(report_id=report.pk) == "skipped"
    assert engine.call_count == 2  # one year + one rewards pass, in the first run only
    second = TaxReport.objects.get(pk=report.pk)
    assert (second.finished_at, second.summary) == (first.finished_at, first.summary)
    assert TaxReportFile.objects.filter(report=report).count() == 3


def test_a_build_that_lost_the_claim_does_not_overwrite_the_winner(owner, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report, _ = tax_report_request(owner=owner, year=2024)
    from portfolios.tax import build as tax_build

    original = tax_build._build

    def stolen(obj, progress):
        result = original(obj, progress)
        # Another worker reclaimed the row meanwhile (e.g. after a stale-running timeout).
        TaxReport.objects.filter(pk=obj.pk).update(started_at=obj.started_at.replace(year=2000))
        return result

    with patch.object(tax_build, "_build", stolen):
        assert tax_report_build(report_id=report.pk) == "skipped"
    assert TaxReport.objects.get(pk=report.pk).status == "running"
    assert not TaxReportFile.objects.filter(report=report).exists()


def test_a_running_build_whose_worker_died_is_claimed_again_after_the_time_limit(owner, ledger,
                                                                                 django_capture_on_commit_callbacks):
    from django.utils import timezone

    from portfolios.tax.build import STALE_AFTER

    with django_capture_on_commit_callbacks(execute=False):
        report, _ = tax_report_request(owner=owner, year=2024)
    TaxReport.objects.filter(pk=report.pk).update(status="running", started_at=timezone.now())
    assert tax_report_build(report_id=report.pk) == "skipped"  # still within the time limit
    TaxReport.objects.filter(pk=report.pk).update(started_at=timezone.now() - STALE_AFTER * 2)
    assert tax_report_build(report_id=report.pk) == "done"


def test_an_oversell_completes_the_report_and_lists_the_shortfall(owner, portfolio, tokens, build):
    # Missing cost basis is a warning (issue 11): see test_missing_basis.py for the page, PDF and API.
    record(portfolio, "2024-01-10T10:00", "buy", "", [("USD", "-2500", "2500", False), ("ETH", "1", "2500", False)],
           tokens)
    sell = record(portfolio, "2024-05-02T09:30", "sell", "",
                  [("ETH", "-1.25", "4000", False), ("USD", "4000", "4000", False)], tokens)
    report = build(owner)
    assert report.status == "done"
    assert [(m["transaction_id"], m["asset"], m["quantity_uncovered"]) for m in report.summary["missing_basis"]] == [
        (sell.pk, "ETH", "0.25")]
    assert report.summary["totals"]["cost_basis"] == "2500.00"


def test_a_missing_value_fails_the_report_and_says_what_to_enter(owner, portfolio, tokens, build):
    reward = record(portfolio, "2024-02-01T00:00", "reward", "staking", [("ETH", "0.1", None, False)], tokens)
    report = build(owner)
    assert report.status == "failed"
    assert f"#{reward.pk}" in report.error and "ETH leg needs a fiat_value" in report.error
    assert "Enter the value" in report.error


def test_an_unexpected_error_fails_the_report_with_a_generic_message_and_is_logged(owner, ledger, build, caplog):
    with patch("portfolios.tax.build.compute", side_effect=RuntimeError("boom")):
        report = build(owner)
    assert report.status == "failed"
    assert "error on our side" in report.error and "boom" not in report.error
    assert "tax report" in caplog.text and "boom" in caplog.text


def test_a_ledger_changed_between_request_and_build_is_not_built_from_stale_inputs(
        owner, ledger, portfolio, tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report, _ = tax_report_request(owner=owner, year=2024)
    record(portfolio, "2024-08-01T00:00", "reward", "staking", [("ETH", "0.01", "30", False)], tokens)
    assert tax_report_build(report_id=report.pk) == "failed"
    report.refresh_from_db()
    assert "changed after this report was requested" in report.error


def test_a_report_of_one_portfolio_reads_only_that_portfolio(owner, ledger, tokens, build):
    from portfolios.models import Portfolio

    other = Portfolio.objects.create(owner=owner, name="Side")
    record(other, "2024-05-01T00:00", "reward", "airdrop", [("ARB", "10", "12.5", False)])
    everything = build(owner)
    only_side = build(owner, portfolio=other)
    assert everything.summary["totals"]["income_total"] == "242.50"
    assert only_side.summary["totals"]["income_total"] == "12.50"
    assert only_side.summary["portfolio"] == "Side"
    assert only_side.portfolio_id == other.pk


def test_a_uk_report_uses_uk_pooling_and_the_april_tax_year(owner, ledger, build, ecb_rates):
    report = build(owner, jurisdiction="uk", method="fifo")  # the UK forces pooling
    assert (report.method, report.tax_year, report.fiat_currency) == ("uk", "2024/25", "GBP")
    assert report.summary["period"] == {"start": "2024-04-06", "end": "2025-04-05"}
    totals = report.summary["totals"]
    assert totals["gain_short"] == totals["gain_long"] == "0.00"
    # The same ledger with every USD value converted to GBP at the ECB figures of its day,
    # read from the ECB file itself (tests/ecb_file.py), then the engine's UK rules.
    in_gbp = [TxIn(tx.ref, tx.occurred_at, tx.kind,
                   tuple(LegIn(leg.asset, leg.quantity,
                               None if leg.fiat_value is None
                               else ecb_convert(leg.fiat_value, "USD", "GBP", tx.occurred_at.date()), leg.is_fee)
                         for leg in tx.legs), tx.income_type)
              for tx in engine_ledger(ledger)]
    expected = year_summary(compute(in_gbp, TaxSettings.uk(timezone="UTC"), tax_year="2024/25").year("2024/25"))
    assert totals == expected
