"""The database refuses UPDATE, DELETE and TRUNCATE on the audit log, like the ledger."""

from django.db import migrations

from zbor.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [append_only("accounts_auditevent")]
