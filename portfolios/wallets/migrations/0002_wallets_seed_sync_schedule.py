"""Seed the wallet re-sync beat schedule (defined in config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["sync-wallets"])


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0001_wallets_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
