"""Move every recovery code out of plain text: django-otp's static devices become
RecoveryCodeDevice rows, each unused code kept only as its scrypt hash (the 8-character codes
staff hold keep working), with the person, name, confirmation, back-off and timestamps; the
plaintext rows are deleted.

Upgrade note: from this migration on, the previous release finds no recovery code (it reads
only django-otp's table): during a rolling upgrade staff sign in with recovery codes only
through the new release. Codes an old server hands out at an enrolment after this migration
ran land in django-otp's table, in plain text, where the new release does not read them: they
are hashed (and then work) at the next `zbor migrate` (zbor.accounts.legacy_codes), which the
upgrade should run once the last old server has stopped.

Not reversible in any useful way: a hash does not give the code back. Migrating back leaves
the hashed rows where they are (reversing 0009 then drops them): after a rollback to the
release before, staff have no recovery codes until they enrol again (a two-factor reset).

django_otp.plugins.otp_static stays installed, its table empty, for the reason 0008 gives for
otp_totp; its admin is taken off the site (zbor/accounts/admin.py).

Not atomic as a whole: the move is one transaction, then on SQLite the write-ahead log is
truncated so that no copy of a plaintext code stays in the database's files
(zbor.db.erase_residue). On PostgreSQL the deleted row versions stay in the table's files until
their space is reused (docs/deploy.md, "Erasure and what remains").
"""

from django.db import migrations


def hash_codes(apps, schema_editor):
    from zbor.accounts.legacy_codes import hash_plaintext_codes
    from zbor.db import erase_residue

    hash_plaintext_codes(
        apps.get_model("otp_static", "StaticDevice"),
        apps.get_model("otp_static", "StaticToken"),
        apps.get_model("accounts", "RecoveryCodeDevice"),
        apps.get_model("accounts", "RecoveryCode"),
        schema_editor.connection.alias,
    )
    erase_residue()


def keep_the_hashes(apps, schema_editor):
    """Nothing to do, and nothing that could be done: the codes cannot be read back from their
    hashes, so none is put back in django-otp's table (see the module's docstring)."""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_recovery_code_device"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_codes, keep_the_hashes)]
