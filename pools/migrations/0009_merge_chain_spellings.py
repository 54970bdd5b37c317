"""Data: one chain per chain, whatever the source's spelling ("Op_bnb" and "Opbnb" were two
rows); who set each protocol's facts; the reaper's beat schedule.

Chains whose names give the same ``pools.naming.chain_slug`` are merged into the one with
the most pools: pools move over; a token whose address exists on both rows is merged into
the surviving token (every reference to it, from any app, is moved; duplicate links and
prices are dropped); the other tokens move over. The survivor takes the new slug and the
display name. Re-running does nothing.
"""

from collections import defaultdict

from django.db import migrations

from config.schedules import seed_schedules
from pools.naming import chain_display_name, chain_slug

# Protocol facts the old demo seeding set (pools/demo.py before the bundled facts file):
# those protocols were not edited by staff.
OLD_DEMO_LAUNCH = {
    "uniswap-v2": "2020-05-01", "uniswap-v3": "2021-05-01", "curve-dex": "2020-01-01",
    "pancakeswap-amm": "2021-04-01", "pancakeswap-amm-v3": "2023-04-01", "aerodrome-v1": "2023-08-01",
    "aerodrome-slipstream": "2024-04-01", "fluid-dex": None,
}  # fmt: skip


def _move_token_references(apps, token_model, dup, keep):
    """Point every foreign key to token ``dup`` at ``keep`` (dropping rows that would collide)."""
    for rel in token_model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):  # foreign keys pointing at Token
            continue
        model, name = rel.related_model, rel.field.name
        rows = model._default_manager.filter(**{name: dup})
        # A unique constraint that includes the token (pool links, daily prices): drop the
        # rows whose twin already points at the survivor.
        for constraint in model._meta.constraints:
            fields = list(getattr(constraint, "fields", ()) or ())
            if name in fields and len(fields) > 1:
                others = [f for f in fields if f != name]
                taken = set(model._default_manager.filter(**{name: keep}).values_list(*others))
                for row in list(rows):
                    if tuple(getattr(row, model._meta.get_field(f).attname) for f in others) in taken:
                        row.delete()
        model._default_manager.filter(**{name: dup}).update(**{name: keep})


def merge_chains(apps, schema_editor):
    Chain = apps.get_model("pools", "Chain")
    Pool = apps.get_model("pools", "Pool")
    Token = apps.get_model("pools", "Token")
    groups = defaultdict(list)
    for chain in Chain.objects.all():
        groups[chain_slug(chain.name or chain.slug)].append(chain)
    for slug, chains in groups.items():
        chains.sort(key=lambda c: (-Pool.objects.filter(chain=c).count(), c.pk))
        keep, dups = chains[0], chains[1:]
        for dup in dups:
            Pool.objects.filter(chain=dup).update(chain=keep)
            kept_tokens = dict(Token.objects.filter(chain=keep).values_list("address", "pk"))
            for token in Token.objects.filter(chain=dup):
                if token.address in kept_tokens:
                    _move_token_references(apps, Token, token.pk, kept_tokens[token.address])
                    token.delete()
                else:
                    token.chain = keep
                    token.save(update_fields=["chain"])
            dup.delete()
        name = chain_display_name(keep.name)
        if (keep.slug, keep.name) != (slug, name):
            keep.slug, keep.name = slug, name
            keep.save(update_fields=["slug", "name"])


def mark_staff_facts(apps, schema_editor):
    Protocol = apps.get_model("pools", "Protocol")
    for protocol in Protocol.objects.filter(facts_updated_at__isnull=False, facts_source=""):
        demo = protocol.slug in OLD_DEMO_LAUNCH and protocol.audit_count is None and not protocol.audit_links and (
            (protocol.launch_date.isoformat() if protocol.launch_date else None) == OLD_DEMO_LAUNCH[protocol.slug])
        protocol.facts_source = "" if demo else "staff"
        protocol.save(update_fields=["facts_source"])


def seed(apps, schema_editor):
    seed_schedules(apps, names=["reap-stale-work"])


class Migration(migrations.Migration):
    dependencies = [
        ("pools", "0008_resilience_facts_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(merge_chains, migrations.RunPython.noop),
        migrations.RunPython(mark_staff_facts, migrations.RunPython.noop),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
