"""PostgreSQL: keep pool rows narrow by moving risk_factors (about 1 kB of JSON)
out of line into TOAST.

Lists scan and count pools_pool (the explorer's COUNT(*) is a sequential scan
of the active pools), and the hourly refresh rewrites most rows: with the JSON
inline a row is ~1.4 kB, out of line ~0.3 kB, and an update that does not
change the factors reuses the TOAST pointer instead of copying the JSON.
No-op on SQLite.
"""

from django.db import migrations


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE pools_pool SET (toast_tuple_target = 128)")


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE pools_pool RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("pools", "0003_leaner_pool_indexes")]

    operations = [migrations.RunPython(narrow, widen)]
