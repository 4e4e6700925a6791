"""Authenticator keys django-otp stored in plain hex (``otp_totp``), moved encrypted into
``AuthenticatorDevice``: by migration 0008 at the upgrade, and after every later ``zbor migrate``
for devices (and enrolment links' keys) the previous release wrote during a rolling upgrade
(zbor.accounts.legacy_codes runs both moves), so that no plaintext key stays behind.
"""

from __future__ import annotations

from django.db import transaction

#: Moved as they are: the person, name, confirmation, the clock (step, t0, drift), the code's
#: length and tolerance, the last step used, the back-off and when the device was last used.
DEVICE_FIELDS = (
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


def move_devices(old_model, new_model, db: str, convert, key_from: str, key_to: str) -> list:
    """Copy every ``old_model`` device into ``new_model`` (the key through ``convert``) and delete
    the rows copied — only those: a device another server writes meanwhile is left for the next
    run, never lost. Call inside a transaction; the models may be historical ones. Returns the
    primary keys moved."""
    moved = []
    for old in old_model.objects.using(db).select_for_update().order_by("pk"):
        fields = {name: getattr(old, name) for name in DEVICE_FIELDS}
        new = new_model.objects.using(db).create(**fields, **{key_to: convert(getattr(old, key_from))})
        # created_at is auto_now_add: set it again to when the device was really made.
        new_model.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)
        moved.append(old.pk)
    old_model.objects.using(db).filter(pk__in=moved).delete()
    return moved


def encrypt_pending_keys(link_model, db: str) -> int:
    """Every enrolment link's plaintext ``pending_key`` encrypted into ``pending_key_secret`` (if
    the link has none yet: the key the new release showed stays) and cleared. Returns the links
    changed."""
    from zbor.crypto import encrypt_text

    changed = 0
    for link in link_model.objects.using(db).select_for_update().exclude(pending_key="").order_by("pk"):
        if not link.pending_key_secret:
            link.pending_key_secret = encrypt_text(link.pending_key)
        link.pending_key = ""
        link.save(using=db, update_fields=["pending_key_secret", "pending_key"])
        changed += 1
    return changed


def encrypt_plaintext_keys(old_device, new_device, link_model, db: str) -> int:
    """Move django-otp's TOTP devices and enrolment links' plaintext keys, encrypted, in one
    transaction. Returns how many devices and links were changed."""
    from zbor.crypto import encrypt_text

    with transaction.atomic(using=db):
        moved = move_devices(old_device, new_device, db, encrypt_text, "key", "key_secret")
        return len(moved) + encrypt_pending_keys(link_model, db)
