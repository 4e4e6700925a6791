"""Move every recovery code out of plain text: django-otp's static devices become
RecoveryCodeDevice rows, each unused code kept only as its scrypt hash (the 8-character codes
staff hold keep working), with the person, name, confirmation, back-off and timestamps; the
plaintext rows are deleted.

Upgrade note: from this migration on, the previous release finds no recovery code (it reads
only django-otp's table): during a rolling upgrade staff sign in with recovery codes only
through the new release. Codes an old server hands out at an enrolment after this migration
ran land in django-otp's table, in plain text, where the new release does not read them:
finish the upgrade before enrolling anyone (or reset and re-enrol whoever enrolled meanwhile).

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

import secrets

from django.db import migrations, transaction

OLD_DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
)


def hash_codes(apps, schema_editor):
    from zbor.accounts.models import RECOVERY_CODE_WORK, hash_recovery_code
    from zbor.db import erase_residue

    db = schema_editor.connection.alias
    old_device = apps.get_model("otp_static", "StaticDevice")
    old_token = apps.get_model("otp_static", "StaticToken")
    new_device = apps.get_model("accounts", "RecoveryCodeDevice")
    new_code = apps.get_model("accounts", "RecoveryCode")
    with transaction.atomic(using=db):
        for old in old_device.objects.using(db).order_by("pk"):
            fields = {name: getattr(old, name) for name in OLD_DEVICE_FIELDS}
            salt = secrets.token_hex(16)
            new = new_device.objects.using(db).create(**fields, salt=salt, work=RECOVERY_CODE_WORK)
            # created_at is auto_now_add: set it again to when the device was really made.
            new_device.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)
            tokens = old_token.objects.using(db).filter(device_id=old.pk).values_list("token", flat=True)
            new_code.objects.using(db).bulk_create(
                [
                    new_code(device_id=new.pk, digest=hash_recovery_code(token, salt, RECOVERY_CODE_WORK))
                    for token in tokens
                ]
            )
        old_token.objects.using(db).all().delete()
        old_device.objects.using(db).all().delete()
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
