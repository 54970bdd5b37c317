"""Data: the bundled protocol facts (audits, launch dates) for protocols staff have not edited.

Written against the historical models, so later code changes cannot break it; the
running app reloads the file with ``manage.py load_protocol_facts``."""

from django.db import migrations


def load(apps, schema_editor):
    from pools.services.facts import bundled_facts

    Protocol = apps.get_model("pools", "Protocol")
    ProtocolAudit = apps.get_model("pools", "ProtocolAudit")
    for slug, entry in bundled_facts().items():
        protocol = Protocol.objects.filter(slug=slug).exclude(facts_source="staff").first()
        if protocol is None:
            continue
        audits = entry["audits"]
        dates = [a["date"] for a in audits if a["date"]]
        protocol.url = entry["url"] or protocol.url
        protocol.launch_date = entry["launch_date"]
        protocol.audit_count = len(audits) or None
        protocol.last_audit_date = max(dates) if dates else None
        protocol.audit_links = [a["url"] for a in audits if a["url"]]
        protocol.facts_references = entry["references"]
        protocol.facts_source = "bundled"
        protocol.save()
        ProtocolAudit.objects.filter(protocol=protocol).delete()
        ProtocolAudit.objects.bulk_create([ProtocolAudit(protocol=protocol, **a) for a in audits])


class Migration(migrations.Migration):
    dependencies = [("pools", "0009_merge_chain_spellings")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
