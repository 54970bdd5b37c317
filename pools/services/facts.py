"""Public facts about protocols (audits with auditor, date and link; launch date), shipped as
data in ``pools/data/protocol_facts.json`` and loaded here.

Staff own the facts once they edit them: a protocol saved in the admin is marked
``facts_source = "staff"`` and never touched again by the loader. Protocols set by the file
(``"bundled"``) or by nobody (``""``) take the file's facts, so a corrected file corrects
them on the next load. Loading twice changes nothing the second time. Run by a data
migration, by ``manage.py load_protocol_facts`` and for the protocols a refresh creates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from pools.models import Protocol, ProtocolAudit
from pools.services.risk import pool_risk_refresh

FACTS_FILE = Path(__file__).resolve().parent.parent / "data" / "protocol_facts.json"


@lru_cache(maxsize=1)
def bundled_facts() -> dict[str, dict[str, Any]]:
    """slug -> {url, launch_date, audits: [{auditor, date, url, scope}], references} from the data file."""
    raw = json.loads(FACTS_FILE.read_text())["protocols"]
    facts = {}
    for slug, entry in raw.items():
        audits = [
            {
                "auditor": a["auditor"],
                "date": date.fromisoformat(a["date"]) if a.get("date") else None,
                "url": a.get("url", ""),
                "scope": a.get("scope", ""),
            }
            for a in entry.get("audits", [])
        ]
        facts[slug] = {
            "url": entry.get("url", ""),
            "launch_date": date.fromisoformat(entry["launch_date"]) if entry.get("launch_date") else None,
            "audits": audits,
            "references": list(entry.get("references", [])),
        }
    return facts


def _summary(audits: list[dict]) -> dict[str, Any]:
    """What the risk score reads from a list of audits (unknown when the list is empty)."""
    if not audits:
        return {"audit_count": None, "last_audit_date": None, "audit_links": []}
    dates = [a["date"] for a in audits if a["date"]]
    return {
        "audit_count": len(audits),
        "last_audit_date": max(dates) if dates else None,
        "audit_links": [a["url"] for a in audits if a["url"]],
    }


def _current(protocol: Protocol) -> tuple:
    audits = sorted((a.auditor, a.date, a.url, a.scope) for a in protocol.audits.all())
    return (
        protocol.url,
        protocol.launch_date,
        protocol.audit_count,
        protocol.last_audit_date,
        list(protocol.audit_links),
        list(protocol.facts_references),
        audits,
    )


@transaction.atomic
def protocol_facts_load(*, slugs: Iterable[str] | None = None, rescore: bool = True) -> list[str]:
    """Apply the bundled facts to the protocols that staff have not edited. Returns the
    slugs changed; rescores their pools when ``rescore``."""
    facts = bundled_facts()
    wanted = set(facts) if slugs is None else set(slugs) & set(facts)
    changed: list[Protocol] = []
    protocols = Protocol.objects.filter(slug__in=wanted).exclude(facts_source="staff").prefetch_related("audits")
    for protocol in protocols.select_for_update(of=("self",)):
        entry = facts[protocol.slug]
        summary = _summary(entry["audits"])
        audits = sorted((a["auditor"], a["date"], a["url"], a["scope"]) for a in entry["audits"])
        target = (
            entry["url"] or protocol.url,
            entry["launch_date"],
            summary["audit_count"],
            summary["last_audit_date"],
            summary["audit_links"],
            entry["references"],
            audits,
        )
        if _current(protocol) == target and protocol.facts_source == "bundled":
            continue
        protocol.url = entry["url"] or protocol.url
        protocol.launch_date = entry["launch_date"]
        protocol.audit_count = summary["audit_count"]
        protocol.last_audit_date = summary["last_audit_date"]
        protocol.audit_links = summary["audit_links"]
        protocol.facts_references = entry["references"]
        protocol.facts_source = "bundled"
        protocol.facts_updated_at = timezone.now()
        protocol.save()
        protocol.audits.all().delete()
        ProtocolAudit.objects.bulk_create([ProtocolAudit(protocol=protocol, **a) for a in entry["audits"]])
        changed.append(protocol)
    if changed and rescore:
        pool_risk_refresh(protocol_ids=[p.pk for p in changed])
    return [p.slug for p in changed]
