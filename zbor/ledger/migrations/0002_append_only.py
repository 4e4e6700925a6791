"""The database itself refuses UPDATE, DELETE and TRUNCATE on ledger groups and transfers."""

from django.db import migrations

from zbor.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [append_only("ledger_transfer", "ledger_transfergroup")]
