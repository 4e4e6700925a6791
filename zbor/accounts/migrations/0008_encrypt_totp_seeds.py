"""Move every authenticator key out of plain hex: django-otp's TOTP devices become
AuthenticatorDevice rows with the key encrypted (zbor.crypto, ZBOR_ENCRYPTION_KEYS), keeping the
person, name, confirmation, clock drift, last step used, back-off and timestamps; the plaintext
rows are deleted (only those copied: a device an old server writes meanwhile stays for the next
run). Keys of enrolment links being set up move the same way (zbor.accounts.legacy_keys).

Upgrade note: from this migration on, the previous release finds no authenticator device (it
reads only django-otp's table): staff sign in through the new release, or with a recovery code.
Sessions verified with an old device must sign in again. Reversible, for a rollback: migrating
back to 0007 (with this release's code) puts the keys back in plain hex.

django_otp.plugins.otp_totp stays installed, its table empty: this migration (and its reverse)
needs its models and migrations, and an app removed from INSTALLED_APPS would leave its table,
with any rows an upgrade had not moved, behind without anything to clear it. Its admin is taken
off the site (zbor/accounts/admin.py), so nothing in Zbor creates a plaintext device again; sign-in
accepts only Zbor's own devices (zbor/accounts/login.py), and a device or link key the previous
release writes during a rolling upgrade is moved the same way after every later `zbor migrate`
(zbor.accounts.legacy_codes).

Not atomic as a whole: the move is one transaction, then on SQLite the write-ahead log is
truncated so that no copy of a plaintext key stays in the database's files
(zbor.db.erase_residue). On PostgreSQL the deleted row versions stay in the table's files until
their space is reused (docs/deploy.md, "Erasure and what remains").
"""

from django.db import migrations, transaction

def encrypt(apps, schema_editor):
    from zbor.accounts.legacy_keys import encrypt_plaintext_keys
    from zbor.db import erase_residue

    encrypt_plaintext_keys(
        apps.get_model("otp_totp", "TOTPDevice"),
        apps.get_model("accounts", "AuthenticatorDevice"),
        apps.get_model("accounts", "EnrolmentLink"),
        schema_editor.connection.alias,
    )
    erase_residue()


def decrypt(apps, schema_editor):
    from zbor.accounts.legacy_keys import move_devices
    from zbor.crypto import decrypt_text

    db = schema_editor.connection.alias
    links = apps.get_model("accounts", "EnrolmentLink")
    with transaction.atomic(using=db):
        old, new = apps.get_model("accounts", "AuthenticatorDevice"), apps.get_model("otp_totp", "TOTPDevice")
        move_devices(old, new, db, decrypt_text, "key_secret", "key")
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
