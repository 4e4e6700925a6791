"""Key rotation: re-encrypt every private value and file with the newest key, audited.

Put the new key first in ZBOR_ENCRYPTION_KEYS (old keys after it), run ``zbor
rotate_encryption_keys``, then remove the old keys. What is encrypted is what the apps registered
(``zbor.crypto.register_encrypted``), so this service knows no domain app. Safe to run twice: the
newest key opens what it already re-encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from zbor import private_files
from zbor.crypto import registered_encrypted, rotate_text

from .services import audit


@dataclass(frozen=True)
class Rotated:
    rows: int
    files: int


def rotate_encryption_keys(*, by=None, label: str = "") -> Rotated:
    """Re-encrypt the registered columns and files with the first key in one transaction, and write
    the audit row (naming the columns, never a value) in it: the row exists only if all of it
    was done. A file is replaced in one rename each; if a later one fails, the transaction rolls
    back and the files already rotated still open with the new key, which stays configured."""
    rows = files = 0
    names: list[str] = []
    with transaction.atomic():
        for entry in registered_encrypted():
            columns = list(entry.fields)
            for obj in entry.model.objects.select_for_update().order_by("pk").iterator():
                if columns:
                    for field in columns:
                        setattr(obj, field, rotate_text(getattr(obj, field)))
                    obj.save(update_fields=columns)
                    rows += 1
                if entry.file_field and getattr(obj, entry.file_field) not in entry.not_files:
                    private_files.rotate_file(getattr(obj, entry.file_field))
                    files += 1
            label_lower = entry.model._meta.label_lower
            names += [f"{label_lower}.{field}" for field in columns]
            names += [f"{label_lower}.{entry.file_field} (files)"] if entry.file_field else []
        audit(by, "crypto.keys.rotate", fields=names, label=label)
    return Rotated(rows=rows, files=files)
