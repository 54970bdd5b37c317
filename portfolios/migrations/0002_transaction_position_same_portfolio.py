"""Database guard: a transaction's position belongs to the transaction's portfolio.

A composite foreign key (position_id, portfolio_id) -> portfolios_position(id,
portfolio_id) (the target is the unique constraint
portfolios_position_id_portfolio_uniq). MATCH SIMPLE: a transaction without a
position is not checked. Not deferred (unlike Django's own foreign keys), so a
bad row fails at its INSERT/UPDATE; ON DELETE CASCADE mirrors the model's
on_delete, so the order of deletes does not matter. PostgreSQL only: the
embedded SQLite default relies on the service-layer check
(Transaction.clean via services.transaction_record).
"""

from django.db import migrations

CONSTRAINT = "portfolios_txn_position_same_portfolio_fk"


def add_fk(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE portfolios_transaction ADD CONSTRAINT {CONSTRAINT} "
        "FOREIGN KEY (position_id, portfolio_id) REFERENCES portfolios_position (id, portfolio_id) "
        "ON DELETE CASCADE"
    )


def drop_fk(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE portfolios_transaction DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("portfolios", "0001_initial")]

    operations = [migrations.RunPython(add_fk, drop_fk)]
