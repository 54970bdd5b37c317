"""Issue 16, item 4: public audit facts and launch dates shipped as data that staff can edit;
the loader never overwrites a staff edit and changes nothing when run twice."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from pools.models import Protocol, ProtocolAudit
from pools.services.facts import bundled_facts, protocol_facts_load
from pools.services.risk import pool_risk_refresh, protocol_update_facts
from tests.factories import UserFactory
from tests.pools.factories import PoolFactory, ProtocolFactory

pytestmark = pytest.mark.django_db


def _factors(pool) -> dict:
    pool.refresh_from_db()
    return {f["key"]: f for f in pool.risk_factors}


def test_every_bundled_fact_cites_a_source_and_every_audit_has_a_link_and_date():
    facts = bundled_facts()
    assert {
        "uniswap-v2",
        "uniswap-v3",
        "curve-dex",
        "pancakeswap-amm",
        "pancakeswap-amm-v3",
        "aerodrome-v1",
        "aerodrome-slipstream",
        "fluid-dex",
    } == set(facts)
    for slug, entry in facts.items():
        if entry["audits"] or entry["launch_date"]:
            assert entry["references"], slug
        for audit in entry["audits"]:
            assert audit["auditor"] and audit["url"].startswith("https://") and audit["date"], (slug, audit)
    v3 = facts["uniswap-v3"]
    assert v3["launch_date"] == date(2021, 5, 5)
    assert {(a["auditor"], a["date"]) for a in v3["audits"]} == {
        ("Trail of Bits", date(2021, 3, 23)),
        ("ABDK Consulting", date(2021, 3, 23)),
    }
    assert facts["fluid-dex"]["audits"] == [] and facts["fluid-dex"]["launch_date"] is None  # not verified: unknown


def test_loading_the_facts_fills_protocols_and_rescores_their_pools():
    protocol = ProtocolFactory(slug="uniswap-v3", name="Uniswap V3")
    pool = PoolFactory(protocol=protocol)
    pool_risk_refresh(pool_ids=[pool.pk])
    assert _factors(pool)["audits"]["unknown"] is True
    assert protocol_facts_load() == ["uniswap-v3"]
    protocol.refresh_from_db()
    assert (protocol.audit_count, protocol.last_audit_date, protocol.launch_date, protocol.facts_source) == (
        2,
        date(2021, 3, 23),
        date(2021, 5, 5),
        "bundled",
    )
    assert sorted(protocol.audits.values_list("auditor", flat=True)) == ["ABDK Consulting", "Trail of Bits"]
    factors = _factors(pool)
    assert factors["audits"]["value"] == "2 audits, last 2021-03-23"
    assert factors["protocol_age"]["unknown"] is False


def test_loading_twice_changes_nothing_the_second_time():
    ProtocolFactory(slug="curve-dex")
    assert protocol_facts_load() == ["curve-dex"]
    ids = list(ProtocolAudit.objects.values_list("pk", flat=True))
    assert protocol_facts_load() == []
    assert list(ProtocolAudit.objects.values_list("pk", flat=True)) == ids


def test_a_staff_edit_is_never_overwritten():
    protocol = ProtocolFactory(slug="uniswap-v3")
    protocol_facts_load()
    protocol_update_facts(protocol=protocol, audit_count=7, launch_date=date(2021, 5, 6))  # staff, in the admin
    assert protocol_facts_load() == []
    call_command("load_protocol_facts", verbosity=0)
    protocol.refresh_from_db()
    assert (protocol.audit_count, protocol.launch_date, protocol.facts_source) == (7, date(2021, 5, 6), "staff")


def test_a_corrected_file_corrects_the_protocols_it_set(monkeypatch):
    protocol = ProtocolFactory(slug="uniswap-v2")
    protocol_facts_load()
    corrected = {k: dict(v) for k, v in bundled_facts().items()}
    corrected["uniswap-v2"]["launch_date"] = date(2020, 5, 18)
    monkeypatch.setattr("pools.services.facts.bundled_facts", lambda: corrected)
    assert protocol_facts_load() == ["uniswap-v2"]
    protocol.refresh_from_db()
    assert protocol.launch_date == date(2020, 5, 18)


def test_a_protocol_created_by_a_refresh_gets_its_facts_at_once(db):
    from pools.services.ingest import pools_ingest
    from tests.pools.conftest import DEX, fixture_items, make_batch, records_from

    items = [i for i in fixture_items(DEX) if i["project"] == "uniswap-v3"][:2]
    pools_ingest(batch=make_batch(records_from(items)))
    assert Protocol.objects.get(slug="uniswap-v3").audit_count == 2


def test_the_data_migration_loads_the_facts_but_leaves_staff_edits():
    migration = importlib.import_module("pools.migrations.0010_load_protocol_facts")
    fresh = ProtocolFactory(slug="curve-dex")
    staff = ProtocolFactory(slug="uniswap-v3", audit_count=9, facts_source="staff")
    migration.load(apps, None)
    fresh.refresh_from_db()
    staff.refresh_from_db()
    assert (fresh.audit_count, fresh.launch_date, fresh.facts_source) == (5, date(2020, 1, 3), "bundled")
    assert fresh.audits.count() == 5
    assert (staff.audit_count, staff.audits.count()) == (9, 0)


def test_staff_edit_audits_in_the_admin_and_the_summary_follows(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    protocol = ProtocolFactory(slug="fluid-dex", name="Fluid DEX")
    pool = PoolFactory(protocol=protocol)
    response = client.post(
        reverse("admin:pools_protocol_change", args=[protocol.pk]),
        {
            "slug": protocol.slug,
            "name": protocol.name,
            "category": "dex",
            "url": "",
            "audit_count": "",
            "audit_links": "",
            "last_audit_date": "",
            "launch_date": "2024-10-01",
            "facts_references": "https://a.example/x",
            "audits-TOTAL_FORMS": "1",
            "audits-INITIAL_FORMS": "0",
            "audits-MIN_NUM_FORMS": "0",
            "audits-MAX_NUM_FORMS": "1000",
            "audits-0-auditor": "Example Audits",
            "audits-0-date": "2024-09-01",
            "audits-0-url": "https://a.example/report.pdf",
            "audits-0-scope": "DEX",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    protocol.refresh_from_db()
    assert (protocol.audit_count, protocol.last_audit_date, protocol.facts_source) == (1, date(2024, 9, 1), "staff")
    assert _factors(pool)["audits"]["value"] == "1 audit, last 2024-09-01"
    assert protocol_facts_load() == []  # the file no longer touches it


def test_the_pool_page_lists_the_audits_with_links_and_sources(client):
    protocol = ProtocolFactory(slug="uniswap-v3", name="Uniswap V3")
    pool = PoolFactory(protocol=protocol)
    protocol_facts_load()
    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()
    assert (
        '<a href="https://github.com/Uniswap/v3-core/blob/main/audits/tob/audit.pdf" rel="noopener nofollow">'
        "Trail of Bits</a>, Mar 2021" in html
    )
    assert "https://uniswap.org/blog/uniswap-v3" in html
