"""manage.py tax_report FILE: the engine on a CSV, no database touched."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).parent / "fixtures" / "command"


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def run(*args) -> dict:
    out = StringIO()
    call_command("tax_report", *[str(a) for a in args], "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("name, fmt", [("native.csv", "native"), ("koinly.csv", "koinly")])
def test_the_command_prints_the_years_summary_and_disposals_as_json(name, fmt):
    result = run(FIXTURES / name, "--format", fmt, "--year", "2024", "--jurisdiction", "us", "--method", "fifo")
    summary = result["summary"]
    assert (summary["proceeds"], summary["cost_basis"], summary["gain"]) == ("9080.00", "4300.00", "4780.00")
    assert (summary["gain_short"], summary["gain_long"], summary["income_total"]) == ("640.00", "4140.00", "230.00")
    assert summary["income_by_type"] == {"liquidity_mining": "80.00", "staking": "150.00"}
    assert [(d["asset"], d["quantity"], d["acquired"], d["gain"], d["term"]) for d in result["disposals"]] == [
        ("ETH", "1.5", "2023-03-01", "2992.50", "long"), ("ETH", "0.5", "2023-03-01", "1147.50", "long"),
        ("ETH", "0.5", "2024-01-10", "650.00", "short"), ("CRV", "50", "2024-02-15", "-10.00", "short")]
    assert all(isinstance(v, str) for d in result["disposals"] for v in d.values())
    assert result["settings"] == {"jurisdiction": "us", "method": "fifo", "lp_treatment": "nontaxable",
                                  "timezone": "UTC", "fiat_currency": "USD"}


def test_the_uk_year_may_be_given_as_its_first_year():
    result = run(FIXTURES / "native.csv", "--year", "2024", "--jurisdiction", "uk", "--method", "uk")
    assert result["tax_year"] == "2024/25" and result["settings"]["timezone"] == "Europe/London"
    assert all(d["term"] == "" for d in result["disposals"])


@pytest.mark.django_db
def test_the_command_neither_queries_nor_writes_the_database(owner, django_assert_num_queries):
    before = _row_counts()
    with django_assert_num_queries(0):
        run(FIXTURES / "native.csv", "--year", "2024")
        run(FIXTURES / "koinly.csv", "--format", "koinly", "--year", "2024", "--method", "hifo")
    assert _row_counts() == before


def test_row_errors_exit_non_zero_and_list_every_error():
    err = StringIO()
    with pytest.raises(CommandError, match="3 row errors"):
        call_command("tax_report", str(FIXTURES / "malformed.csv"), "--year", "2024", "--json", stderr=err)
    lines = err.getvalue().splitlines()
    assert "row 3, quantity: 'one' is not a number" in lines
    assert any(line.startswith("row 4, occurred_at:") and "no UTC offset" in line for line in lines)
    assert any(line.startswith("row 2, tx_id:") for line in lines)


def test_with_strict_an_oversell_exits_non_zero_naming_the_transaction_and_the_shortfall():
    with pytest.raises(CommandError, match=r"transaction s1: cannot dispose of 1.25 ETH: only 1 held, shortfall 0.25"):
        run(FIXTURES / "oversell.csv", "--year", "2024", "--strict")


def test_without_strict_an_oversell_completes_marked_incomplete_with_the_uncovered_quantity():
    err = StringIO()
    out = StringIO()
    call_command("tax_report", str(FIXTURES / "oversell.csv"), "--year", "2024", "--json", stdout=out, stderr=err)
    result = json.loads(out.getvalue())
    assert result["complete"] is False
    assert [(m["ref"], m["asset"], m["quantity_uncovered"], m["quantity_held"]) for m in result["missing_basis"]] == [
        ("s1", "ETH", "0.25", "1")]
    # proceeds 4000; cost 2500 for the 1 ETH bought + 0 for the 0.25 uncovered
    assert (result["summary"]["proceeds"], result["summary"]["cost_basis"]) == ("4000.00", "2500.00")
    assert "transaction s1: missing cost basis for 0.25 ETH" in err.getvalue()


def test_the_command_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "manage.py", "tax_report", str(FIXTURES / "malformed.csv"), "--year",
                             "2024", "--json"], cwd=root, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test",
                                 "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "row 3, quantity" in result.stderr
    ok = subprocess.run([sys.executable, "manage.py", "tax_report", str(FIXTURES / "native.csv"), "--year", "2024",
                         "--json"], cwd=root, capture_output=True, text=True, timeout=60,
                        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test",
                             "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert ok.returncode == 0, ok.stderr  # an unreachable database does not matter
    assert json.loads(ok.stdout)["summary"]["gain"] == "4780.00"


def test_uk_pooling_outside_the_uk_is_refused():
    with pytest.raises(CommandError, match="goes with, and only with"):
        run(FIXTURES / "native.csv", "--year", "2024", "--method", "uk")
