"""Move every authenticator key out of plain hex: django-otp's TOTP devices become
AuthenticatorDevice rows with the key encrypted (zbor.crypto, ZBOR_ENCRYPTION_KEYS), keeping the
person, name, confirmation, clock drift, last step used, back-off and timestamps; the plaintext
rows are deleted. Keys of enrolment links being set up move the same way.

Upgrade note: from this migration on, the previous release finds no authenticator device (it
reads only django-otp's table): staff sign in through the new release, or with a recovery code.
Sessions verified with an old device must sign in again. Reversible, for a rollback: migrating
back to 0007 (with this release's code) puts the keys back in plain hex.

django_otp.plugins.otp_totp stays installed, its table empty: this migration (and its reverse)
needs its models and migrations, and an app removed from INSTALLED_APPS would leave its table,
with any rows an upgrade had not moved, behind without anything to clear it. Its admin is taken
off the site (zbor/accounts/admin.py), so nothing in Zbor creates a plaintext device again.

Not atomic as a whole: the move is one transaction, then on SQLite the write-ahead log is
truncated so that no copy of a plaintext key stays in the database's files
(zbor.db.erase_residue). On PostgreSQL the deleted row versions stay in the table's files until
their space is reused (docs/deploy.md, "Erasure and what remains").
"""

from django.db import migrations, transaction

OLD_DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
)


def _move(old_model, new_model, db, convert, key_from, key_to):
    for old in old_model.objects.using(db).order_by("pk"):
        fields = {name: getattr(old, name) for name in OLD_DEVICE_FIELDS}
        new = new_model.objects.using(db).create(**fields, **{key_to: convert(getattr(old, key_from))})
        # created_at is auto_now_add: set it again to when the device was really made.
        new_model.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)
    old_model.objects.using(db).all().delete()


def encrypt(apps, schema_editor):
    from zbor.crypto import encrypt_text
    from zbor.db import erase_residue

    db = schema_editor.connection.alias
    old = apps.get_model("otp_totp", "TOTPDevice")
    new = apps.get_model("accounts", "AuthenticatorDevice")
    links = apps.get_model("accounts", "EnrolmentLink")
    with transaction.atomic(using=db):
        _move(old, new, db, encrypt_text, "key", "key_secret")
        for link in links.objects.using(db).exclude(pending_key="").order_by("pk"):
            link.pending_key_secret, link.pending_key = encrypt_text(link.pending_key), ""
            link.save(update_fields=["pending_key_secret", "pending_key"])
    erase_residue()


def decrypt(apps, schema_editor):
    from zbor.crypto import decrypt_text

    db = schema_editor.connection.alias
    old = apps.get_model("accounts", "AuthenticatorDevice")
    new = apps.get_model("otp_totp", "TOTPDevice")
    links = apps.get_model("accounts", "EnrolmentLink")
    with transaction.atomic(using=db):
        _move(old, new, db, decrypt_text, "key_secret", "key")
        for link in links.objects.using(db).exclude(pending_key_secret="").order_by("pk"):
            link.pending_key, link.pending_key_secret = decrypt_text(link.pending_key_secret), ""
            link.save(update_fields=["pending_key_secret", "pending_key"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_authenticator_device"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
