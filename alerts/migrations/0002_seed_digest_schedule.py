"""Seed the daily alert digest beat schedule (defined in config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["alert-digests"])


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_alerts_watchlist_rules_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
