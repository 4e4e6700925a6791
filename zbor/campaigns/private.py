"""A beneficiary's private data: real name, contacts, verification notes and documents.

Encrypted at rest (zbor.crypto, zbor.private_files). Read and written only here: every call
checks the caller's permission and writes the audit log in the same transaction, naming the
fields touched — never their values.

    PermissionDenied            the caller's role may not read or change private data
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from zbor import private_files
from zbor.accounts.services import audit, require
from zbor.crypto import decrypt_text, encrypt_text

from .models import Beneficiary, BeneficiaryDocument

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FIELDS = ("real_name", "contacts", "verification_notes")


@dataclass(frozen=True)
class Purged:
    """What a receiver of ``private_data_purged`` destroyed: names for the audit row (never
    values), and private files to delete once the purge is committed."""

    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


#: Sent by ``purge_private`` inside its transaction, with the locked ``beneficiary``. Apps that keep
#: private data about a beneficiary elsewhere (payout recipients and proofs: zbor.disbursements)
#: destroy it in a receiver that returns a ``Purged``; campaigns imports none of them.
private_data_purged = Signal()


@dataclass(frozen=True)
class PrivateDetails:
    real_name: str
    contacts: str
    verification_notes: str


#: What a person without the role is told.
NOT_YOURS = "Your role may not see or change beneficiaries' private data."


def read_private(beneficiary: Beneficiary, *, by: User) -> PrivateDetails:
    require(by, "campaigns.view_beneficiary_private", NOT_YOURS)
    with transaction.atomic():
        audit(by, "beneficiary.private.read", beneficiary, fields=FIELDS)
        return PrivateDetails(**{f: decrypt_text(getattr(beneficiary, f"{f}_secret")) for f in FIELDS})


def stored_private(beneficiary: Beneficiary, *, by: User) -> PrivateDetails:
    """The stored values, for the change form to tell which fields a submission really changes.

    Only for a caller who may change them, and only to compare: they go into the form's initial
    values of a submitted (bound) form, which shows what was submitted, never these. Not a read
    in the audit log's sense: nothing is shown, and only the names of changed fields are logged.
    """
    require(by, "campaigns.change_beneficiary_private", NOT_YOURS)
    return PrivateDetails(**{f: decrypt_text(getattr(beneficiary, f"{f}_secret")) for f in FIELDS})


def write_private(beneficiary: Beneficiary, *, by: User, **values: str) -> list[str]:
    """Encrypt and store the given fields; returns the names of those that changed."""
    require(by, "campaigns.change_beneficiary_private", NOT_YOURS)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown private fields {sorted(unknown)}")
    with transaction.atomic():
        locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        changed = [f for f, v in values.items() if decrypt_text(getattr(locked, f"{f}_secret")) != v]
        if not changed:
            return []
        for field in changed:
            setattr(locked, f"{field}_secret", encrypt_text(values[field]))
        locked.save(update_fields=[f"{f}_secret" for f in changed])
        audit(by, "beneficiary.private.change", locked, fields=changed)
    beneficiary.refresh_from_db()
    return changed


def add_document(beneficiary: Beneficiary, upload, *, by: User, label: str = "") -> BeneficiaryDocument:
    """Store an uploaded PDF or picture, metadata stripped and encrypted. ValidationError if unreadable."""
    require(by, "campaigns.change_beneficiary_private", NOT_YOURS)
    clean = private_files.clean_upload(upload)
    name = private_files.store(clean.data)
    with transaction.atomic():
        document = BeneficiaryDocument.objects.create(
            beneficiary=beneficiary,
            stored_name=name,
            content_type=clean.content_type,
            size=len(clean.data),
            label_secret=encrypt_text(label),
            uploaded_by=by,
        )
        audit(by, "beneficiary.document.add", beneficiary, fields=["document"])
    return document


def read_document(document: BeneficiaryDocument, *, by: User) -> tuple[bytes, str]:
    require(by, "campaigns.view_beneficiary_private", NOT_YOURS)
    with transaction.atomic():
        audit(by, "beneficiary.document.read", document.beneficiary, fields=["document"])
    return private_files.load(document.stored_name), document.content_type


def document_label(document: BeneficiaryDocument) -> str:
    return decrypt_text(document.label_secret)


def purge_private(beneficiary: Beneficiary, *, by: User | None = None, label: str = "") -> None:
    """Remove the private data for good: the public page and the ledger stay as they are."""
    with transaction.atomic():
        locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        names = list(locked.documents.values_list("stored_name", flat=True))
        locked.documents.all().delete()
        for field in FIELDS:
            setattr(locked, f"{field}_secret", "")
        locked.private_purged_at = timezone.now()
        locked.save(update_fields=[*(f"{f}_secret" for f in FIELDS), "private_purged_at"])
        fields = [*FIELDS, "documents"]
        for receiver, purged in private_data_purged.send(sender=Beneficiary, beneficiary=locked):
            if not isinstance(purged, Purged):
                raise TypeError(f"{receiver!r} must return a Purged (zbor.campaigns.private)")
            fields += purged.fields
            names += purged.files
        audit(by, "beneficiary.private.purge", locked, fields=fields, label=label)
        transaction.on_commit(lambda: _delete_files(names))
    beneficiary.refresh_from_db()


def _delete_files(names: list[str]) -> None:
    for name in names:
        private_files.delete(name)
