"""TaxReport and TaxReportFile moved to the tax app (portfolios/tax/, label ``tax``).

State only: tax.0001 took them over with their tables as they are
(``db_table``), so nothing happens in the database here.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("portfolios", "0004_taxreport"),
        ("tax", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="TaxReportFile"),
                migrations.DeleteModel(name="TaxReport"),
            ],
        ),
    ]
