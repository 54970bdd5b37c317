"""Seed the pool refresh beat schedules (defined in config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["refresh-pools", "refresh-prices"])


class Migration(migrations.Migration):
    dependencies = [
        ("pools", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
