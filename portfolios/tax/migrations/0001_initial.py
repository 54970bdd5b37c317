"""TaxReport and TaxReportFile become models of the tax app.

State only: the tables stay as portfolios.0004 created them (``db_table``
keeps their names), nothing is copied or renamed. portfolios.0005 drops the
models from the portfolios app's state. The content types are renamed so that
permissions and admin history stay attached to the models.
"""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

MODELS = ("taxreport", "taxreportfile")


def _move_content_types(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "portfolios", "tax")


def content_types_backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "tax", "portfolios")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portfolios", "0004_taxreport"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='TaxReport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField()),
                        ('jurisdiction', models.CharField(choices=[('us', 'United States'), ('uk', 'United Kingdom'), ('other', 'Other')], max_length=8)),
                        ('method', models.CharField(choices=[('fifo', 'FIFO (first in, first out)'), ('lifo', 'LIFO (last in, first out)'), ('hifo', 'HIFO (highest cost first)'), ('average', 'Average cost'), ('uk', 'UK share pooling (same-day, 30-day, Section 104)')], max_length=8)),
                        ('lp_treatment', models.CharField(choices=[('nontaxable', 'LP deposits/withdrawals move cost basis (no gain)'), ('disposal', 'LP deposits/withdrawals are disposals (stricter)')], max_length=12)),
                        ('timezone', models.CharField(max_length=64)),
                        ('fiat_currency', models.CharField(default='USD', max_length=3)),
                        ('prices_as_of', models.DateField()),
                        ('status', models.CharField(choices=[('pending', 'Waiting for a worker'), ('running', 'Being built'), ('done', 'Ready'), ('failed', 'Failed')], default='pending', max_length=8)),
                        ('progress', models.PositiveSmallIntegerField(default=0)),
                        ('inputs_hash', models.CharField(max_length=64)),
                        ('leg_count', models.PositiveIntegerField(default=0)),
                        ('summary', models.JSONField(blank=True, default=dict)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('owner', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tax_reports', to=settings.AUTH_USER_MODEL)),
                        ('portfolio', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='tax_reports', to='portfolios.portfolio')),
                    ],
                    options={
                        'db_table': 'portfolios_taxreport',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TaxReportFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('csv-disposals', 'Disposals (Form 8949-style CSV)'), ('csv-income', 'Income (CSV)'), ('pdf', 'Summary for your accountant (PDF)')], max_length=16)),
                        ('filename', models.CharField(max_length=160)),
                        ('content_type', models.CharField(max_length=64)),
                        ('size', models.PositiveIntegerField()),
                        ('content', models.BinaryField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('report', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='files', to='tax.taxreport')),
                    ],
                    options={
                        'db_table': 'portfolios_taxreportfile',
                        'ordering': ['report', 'kind'],
                    },
                ),
                migrations.AddIndex(
                    model_name='taxreport',
                    index=models.Index(models.F('owner'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='tax_report_list_idx'),
                ),
                migrations.AddConstraint(
                    model_name='taxreport',
                    constraint=models.UniqueConstraint(fields=('owner', 'inputs_hash'), name='tax_report_owner_inputs_uniq'),
                ),
                migrations.AddConstraint(
                    model_name='taxreport',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'running', 'done', 'failed'])), name='tax_report_status_valid'),
                ),
                migrations.AddConstraint(
                    model_name='taxreport',
                    constraint=models.CheckConstraint(condition=models.Q(('progress__lte', 100)), name='tax_report_progress_max_100'),
                ),
                migrations.AddConstraint(
                    model_name='taxreport',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('jurisdiction', 'uk'), ('method', 'uk')), models.Q(models.Q(('jurisdiction', 'uk'), _negated=True), models.Q(('method', 'uk'), _negated=True)), _connector='OR'), name='tax_report_uk_pooling_iff_uk', violation_error_message='UK share pooling applies to, and only to, the UK jurisdiction.'),
                ),
                migrations.AddConstraint(
                    model_name='taxreport',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'done'), _negated=True), models.Q(('finished_at__isnull', False), ('progress', 100)), _connector='OR'), name='tax_report_done_is_finished'),
                ),
                migrations.AddConstraint(
                    model_name='taxreportfile',
                    constraint=models.UniqueConstraint(fields=('report', 'kind'), name='tax_report_file_kind_uniq'),
                ),
                migrations.AddConstraint(
                    model_name='taxreportfile',
                    constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['csv-disposals', 'csv-income', 'pdf'])), name='tax_report_file_kind_valid'),
                ),
            ],
        ),
        migrations.RunPython(content_types_forwards, content_types_backwards, elidable=True),
    ]
