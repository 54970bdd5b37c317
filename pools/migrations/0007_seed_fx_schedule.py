"""Seed the FX rates beat schedule (defined in config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["refresh-fx-rates"])


class Migration(migrations.Migration):
    dependencies = [
        ("pools", "0006_fxrate"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
