"""Seed the beat schedule owned by the project shell (config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["heartbeat"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
