"""Admin (staff edit protocol facts, which rescore pools; pool actions) and the demo loader."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from django.urls import reverse
from django.utils import timezone

from pools.models import Pool, PoolRisk, PoolSnapshot, Protocol, RefreshRun, TokenPrice
from pools.services.risk import pool_risk_refresh, protocol_update_facts
from tests.factories import UserFactory
from tests.pools.factories import PoolFactory, ProtocolFactory, RefreshRunFactory, TokenPriceFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def scored_pool(db):
    pool = PoolFactory(protocol=ProtocolFactory(slug="uniswap-v3", name="Uniswap V3"))
    pool_risk_refresh(pool_ids=[pool.pk])
    pool.refresh_from_db()
    return pool


# The protocol form carries the audit list inline (none posted here).
NO_AUDITS = {"audits-TOTAL_FORMS": "0", "audits-INITIAL_FORMS": "0", "audits-MIN_NUM_FORMS": "0",
             "audits-MAX_NUM_FORMS": "1000"}


def _factor(pool, key):
    return {f["key"]: f for f in Pool.objects.get(pk=pool.pk).risk_factors}[key]


def test_staff_edit_protocol_facts_and_the_pools_are_rescored(staff_client, scored_pool):
    protocol = scored_pool.protocol
    before = scored_pool.risk_score
    recent = timezone.now().date() - timedelta(days=100)
    response = staff_client.post(reverse("admin:pools_protocol_change", args=[protocol.pk]), {
        "slug": protocol.slug, "name": "Uniswap V3", "category": "dex", "url": "https://app.uniswap.org",
        "audit_count": "3", "audit_links": "https://example.org/audit-1.pdf\nhttps://example.org/audit-2.pdf",
        "last_audit_date": recent.isoformat(), "launch_date": "2021-05-05", **NO_AUDITS,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    protocol.refresh_from_db()
    assert protocol.audit_links == ["https://example.org/audit-1.pdf", "https://example.org/audit-2.pdf"]
    assert protocol.facts_updated_at is not None
    assert _factor(scored_pool, "audits")["points"] == 2  # >= 3 audits, last one within a year
    assert _factor(scored_pool, "protocol_age")["points"] == 0  # > 3 years
    assert Pool.objects.get(pk=scored_pool.pk).risk_score == before - 8 - 5


def test_the_admin_refuses_more_audit_links_than_audits(staff_client, scored_pool):
    protocol = scored_pool.protocol
    response = staff_client.post(reverse("admin:pools_protocol_change", args=[protocol.pk]), {
        "slug": protocol.slug, "name": protocol.name, "category": "dex", "url": "",
        "audit_count": "1", "audit_links": "https://a.example/1\nhttps://a.example/2",
        "last_audit_date": "", "launch_date": "", **NO_AUDITS,
    })
    assert response.status_code == 200
    assert "Fewer audits than audit links." in response.content.decode()


def test_protocol_facts_service_rejects_unknown_fields(scored_pool):
    with pytest.raises(TypeError):
        protocol_update_facts(protocol=scored_pool.protocol, tvl=1)


def test_a_protocol_marked_unaudited_scores_as_unaudited(scored_pool):
    protocol_update_facts(protocol=scored_pool.protocol, audit_count=0)
    audits = _factor(scored_pool, "audits")
    assert (audits["value"], audits["points"], audits["unknown"]) == ("no audits", 10, False)


def test_the_recompute_risk_action(staff_client, scored_pool):
    Pool.objects.filter(pk=scored_pool.pk).update(risk_score=None, risk_grade="")
    PoolRisk.objects.filter(pool=scored_pool).delete()
    response = staff_client.post(reverse("admin:pools_pool_changelist"),
                                 {"action": "recompute_risk", "_selected_action": [scored_pool.pk]}, follow=True)
    assert "Risk recomputed" in response.content.decode()
    assert Pool.objects.get(pk=scored_pool.pk).risk_score == scored_pool.risk_score


def test_the_backfill_history_action_queues_after_commit(staff_client, scored_pool,
                                                         django_capture_on_commit_callbacks):
    with patch("pools.tasks.backfill_pool_history.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(reverse("admin:pools_pool_changelist"),
                              {"action": "backfill_history", "_selected_action": [scored_pool.pk]})
    delay.assert_called_once_with(pool_id=scored_pool.pk)


@pytest.mark.parametrize("model", ["chain", "protocol", "token", "pool", "poolsnapshot", "tokenprice", "refreshrun"])
def test_every_admin_page_loads(staff_client, scored_pool, model):
    TokenPriceFactory()
    RefreshRunFactory()
    PoolSnapshot.objects.create(pool=scored_pool, day=date(2025, 10, 1))
    assert staff_client.get(reverse(f"admin:pools_{model}_changelist")).status_code == 200
    obj = {"pool": scored_pool, "protocol": scored_pool.protocol, "chain": scored_pool.chain,
           "refreshrun": RefreshRun.objects.first(), "tokenprice": TokenPrice.objects.first(),
           "poolsnapshot": PoolSnapshot.objects.first()}.get(model)
    if obj is not None:
        assert staff_client.get(reverse(f"admin:pools_{model}_change", args=[obj.pk])).status_code == 200


# ------------------------------------------------------------------------------------------ demo
def test_the_demo_loads_the_real_bundle_and_is_idempotent(db):
    from pools import demo

    summary = demo.load(user=None)
    assert "active pools" in summary
    run = RefreshRun.objects.get(kind="pools", status="succeeded")
    assert run.source == "bundled" and run.data_as_of.date() == date(2025, 10, 6)
    assert Pool.objects.filter(is_active=True).count() > 6000
    assert Pool.objects.filter(is_active=False).exists()  # pools that left the later snapshots
    chart_pool = Pool.objects.get(external_id="3603d576-a4d7-4317-9ae1-bf451b3e637a")
    assert chart_pool.history_start == date(2023, 4, 13)
    assert PoolSnapshot.objects.filter(pool=chart_pool).count() >= 880
    assert not Pool.objects.filter(risk_score__isnull=True).exists()
    uniswap = Protocol.objects.get(slug="uniswap-v3")
    assert (uniswap.launch_date, uniswap.audit_count, uniswap.facts_source) == (date(2021, 5, 5), 2, "bundled")
    # Issue 16: its main USDC-WETH pool no longer grades D for "audits unknown, 11 days"
    main = Pool.objects.get(external_id="665dc8bc-c79d-4800-97f7-304bf368e547")
    factors = {f["key"]: f for f in main.risk_factors}
    assert main.risk_grade in "ABC", (main.risk_score, factors)
    assert not factors["audits"]["unknown"] and not factors["protocol_age"]["unknown"]
    assert factors["history"]["value"].startswith("11 days")  # what we know: our first data point, 26 Sep 2025
    assert TokenPrice.objects.filter(token__price_symbol="ETH").exists()
    counts = (Pool.objects.count(), PoolSnapshot.objects.count(), TokenPrice.objects.count(),
              RefreshRun.objects.count())
    again = demo.load(user=None)
    assert "already loaded" in again
    assert (Pool.objects.count(), PoolSnapshot.objects.count(), TokenPrice.objects.count(),
            RefreshRun.objects.count()) == counts


def test_the_embedded_default_ingests_on_sqlite_idempotently(tmp_path):
    """The SQLite fallback of the bulk upsert, end to end in a fresh process."""
    code = (
        "import django, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from pools.services.refresh import pools_refresh;"
        "from tests.pools.conftest import fixture_items, make_batch, records_from;"
        "batch = make_batch(records_from(fixture_items()));"
        "src = type('S', (), {'name': 'test', 'fetch_pools': lambda self: batch})();"
        "runs = [pools_refresh(source=src) for _ in range(2)];"
        "from django.test import Client; c = Client();"
        "html = c.get('/pools/?ordering=-apy&show_all=true', HTTP_HOST='127.0.0.1').content.decode();"
        "print(json.dumps({'runs': [[r.status, r.created, r.updated, r.unchanged] for r in runs],"
        " 'listed': html.count('href=\"/pools/')}))"
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["runs"] == [["succeeded", 50, 0, 0], ["succeeded", 0, 0, 50]]
    assert out["listed"] >= 50
