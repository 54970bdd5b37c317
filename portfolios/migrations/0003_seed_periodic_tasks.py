"""Seed the daily portfolio snapshot beat schedule (defined in config/schedules.py)."""

from django.db import migrations

from config.schedules import seed_schedules


def seed(apps, schema_editor):
    seed_schedules(apps, names=["snapshot-portfolios"])


class Migration(migrations.Migration):
    dependencies = [
        ("portfolios", "0002_transaction_position_same_portfolio"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
