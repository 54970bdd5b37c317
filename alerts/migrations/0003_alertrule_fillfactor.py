"""Leave 15 % free space in each alerts_alertrule page (PostgreSQL only).

Every evaluation rewrites the state, episode and last-fired time of the rules that fire
or clear; none of those columns is indexed, so with room on the page PostgreSQL makes
each such update a heap-only tuple (HOT) and skips the four indexes of the table. The
default fillfactor (100) leaves no room, and every update then writes every index."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alerts_alertrule SET (fillfactor = 85)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alerts_alertrule RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_seed_digest_schedule")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
