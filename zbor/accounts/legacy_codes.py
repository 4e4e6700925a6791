"""Recovery codes django-otp stored in plain text (``otp_static``), hashed into
``RecoveryCodeDevice``: by migration 0010 at the upgrade, and after every later ``zbor migrate``
for codes the previous release handed out during a rolling upgrade (it still writes
django-otp's table), so that no plaintext code stays behind once the upgrade is finished. The
same post-migrate step moves authenticator devices and enrolment links' keys that release wrote
in plain hex (zbor.accounts.legacy_keys, as migration 0008 did).

A two-factor reset an old server approved in that window deleted only django-otp's devices: the
same step deletes the person's devices of Zbor's own made before that approval (the lost phone's),
as a reset here does (``finish_resets_of_old_servers``).

Only the rows copied are deleted: a device an old server writes while a move runs stays in
django-otp's table for the next ``zbor migrate``, never lost. Until then it signs nobody in
(sign-in accepts only Zbor's own devices: zbor/accounts/login.py).
"""

from __future__ import annotations

import secrets

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder

#: The migrations after which django-otp's TOTP devices and static tokens are never read again.
ENCRYPTED = ("accounts", "0008_encrypt_totp_seeds")
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
    """Move every static device with its codes, hashed, and delete the plaintext rows copied (and
    only those), in one transaction; the models may be historical ones (a migration's). Returns
    the devices moved."""
    from .models import RECOVERY_CODE_WORK, hash_recovery_code

    moved, tokens_moved = [], []
    with transaction.atomic(using=db):
        for old in old_device.objects.using(db).select_for_update().order_by("pk"):
            fields = {name: getattr(old, name) for name in _DEVICE_FIELDS}
            salt = secrets.token_hex(16)
            new = new_device.objects.using(db).create(**fields, salt=salt, work=RECOVERY_CODE_WORK)
            # created_at is auto_now_add: set it again to when the device was really made.
            new_device.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)
            tokens = list(
                old_token.objects.using(db).select_for_update().filter(device_id=old.pk).values_list("pk", "token")
            )
            new_code.objects.using(db).bulk_create(
                [
                    new_code(device_id=new.pk, digest=hash_recovery_code(token, salt, RECOVERY_CODE_WORK))
                    for _pk, token in tokens
                ]
            )
            tokens_moved += [pk for pk, _token in tokens]
            moved.append(old.pk)
        old_token.objects.using(db).filter(pk__in=tokens_moved).delete()
        # A code added meanwhile to a device moved keeps that device (and the code) for next time.
        kept = old_token.objects.using(db).filter(device_id__in=moved).values_list("device_id", flat=True)
        old_device.objects.using(db).filter(pk__in=moved).exclude(pk__in=list(kept)).delete()
    return len(moved)


def move_leftovers_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: authenticator keys and recovery codes the previous release wrote in plain
    text after migrations 0008 and 0010 ran, moved now (each only once its migration is applied:
    not after migrating back to before it)."""
    if sender.name != "zbor.accounts":
        return
    applied = MigrationRecorder(connections[using]).applied_migrations()
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zbor.db import erase_residue

    from .legacy_keys import encrypt_plaintext_keys
    from .models import AuthenticatorDevice, EnrolmentLink, RecoveryCode, RecoveryCodeDevice

    changed = 0
    if ENCRYPTED in applied:
        changed += encrypt_plaintext_keys(TOTPDevice, AuthenticatorDevice, EnrolmentLink, using)
        finish_resets_of_old_servers(applied[ENCRYPTED].applied, using)
    if HASHED in applied and StaticDevice.objects.using(using).exists():
        changed += hash_plaintext_codes(StaticDevice, StaticToken, RecoveryCodeDevice, RecoveryCode, using)
    if changed:
        erase_residue()


def finish_resets_of_old_servers(since, db: str) -> int:
    """Resets approved since ``since`` (when migration 0008 ran): delete the person's devices of
    Zbor's own made before the approval. A reset approved here already did, so this only changes
    anything after one an old server approved (it deleted django-otp's devices alone). Devices
    moved from django-otp's tables keep the time they were made; those made before django-otp
    recorded it (no time) are older than any such reset. Returns the rows deleted (codes included)."""
    from django.db.models import Q

    from .devices import SIGN_IN_DEVICES
    from .models import DeviceReset
    from .services import audit

    deleted = 0
    for reset in DeviceReset.objects.using(db).filter(approved_at__gte=since).order_by("pk"):
        before = Q(created_at__lt=reset.approved_at) | Q(created_at__isnull=True)
        count = sum(
            model.objects.using(db).filter(before, user_id=reset.user_id).delete()[0] for model in SIGN_IN_DEVICES
        )
        if count:
            audit(
                None,
                "account.device_reset_finish",
                reset,
                fields=["otp_device", "recovery_codes"],
                label="zbor migrate",
            )
        deleted += count
    return deleted
