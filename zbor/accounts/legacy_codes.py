"""Recovery codes django-otp stored in plain text (``otp_static``), hashed into
``RecoveryCodeDevice``: by migration 0010 at the upgrade, and after every later ``zbor migrate``
for codes the previous release handed out during a rolling upgrade (it still writes
django-otp's table), so that no plaintext code stays behind once the upgrade is finished.
"""

from __future__ import annotations

import secrets

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder

#: The migration after which django-otp's static tokens are never read again.
HASHED = ("accounts", "0010_hash_recovery_codes")
_DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
)


def hash_plaintext_codes(old_device, old_token, new_device, new_code, db: str) -> int:
    """Move every static device with its codes, hashed, and delete the plaintext rows, in one
    transaction; the models may be historical ones (a migration's). Returns the devices moved."""
    from .models import RECOVERY_CODE_WORK, hash_recovery_code

    moved = 0
    with transaction.atomic(using=db):
        for old in old_device.objects.using(db).select_for_update().order_by("pk"):
            fields = {name: getattr(old, name) for name in _DEVICE_FIELDS}
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
            moved += 1
        old_token.objects.using(db).all().delete()
        old_device.objects.using(db).all().delete()
    return moved


def hash_leftovers_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: codes the previous release wrote after migration 0010 ran, hashed now."""
    if sender.name != "zbor.accounts" or HASHED not in MigrationRecorder(connections[using]).applied_migrations():
        return
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from zbor.db import erase_residue

    from .models import RecoveryCode, RecoveryCodeDevice

    if StaticDevice.objects.using(using).exists() and hash_plaintext_codes(
        StaticDevice, StaticToken, RecoveryCodeDevice, RecoveryCode, using
    ):
        erase_residue()
