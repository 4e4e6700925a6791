"""What an applicant does: send an application, come back with the case code and phrase, answer
the foundation's questions, add documents, withdraw. The pages are zbor/site/apply_views.py and
zbor/site/apply_status.py; the applicant has no account, so every function here acts for them
(audited as "applicant", never with content).

Everything the applicant wrote is sealed (zbor.cases.sealing) before anything is written: a
failure after that leaves no row and no file behind. Files arrive cleaned by
``zbor.private_files.clean_upload`` (sniffed by content; pictures re-encoded, PDFs rebuilt without
metadata), are sealed to the foundation key, and are then stored by ``private_files.store``
(which encrypts them once more with the server's key): the web process can write them and never
read them again.

Each case also gets a key pair of its own (zbor.cases.applicant_key), its private half wrapped
under the phrase: ``sign_in`` unwraps it for the status page, which opens with it what a
caseworker wrote to the applicant (``text_for_applicant``).

Exceptions a person sees (their message is shown):

    ApplicationRefused        the case cannot take this (closed, too many files, too much data)
    sealing.NoFoundationKey   casework has not been set up: the page says applications are closed
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor import private_files
from zbor.accounts.services import audit

from . import applicant_key, sealing
from .models import Case, CaseDocument, CaseMessage, CaseStatus, Direction, Programme
from .phrases import new_phrase, tidy_phrase

if TYPE_CHECKING:
    from nacl.public import PrivateKey

#: Who the audit log names for what an applicant does.
APPLICANT = "applicant"

#: Statuses in which the applicant may still answer, add documents and withdraw.
OPEN = (CaseStatus.NEW, CaseStatus.NEEDS_INFORMATION, CaseStatus.IN_VERIFICATION)


class ApplicationRefused(Exception):
    """The case cannot take what was sent; the message says why, in the applicant's language."""


@dataclass(frozen=True)
class Upload:
    """A cleaned file (``private_files.CleanFile``'s bytes and type), with the name it had and
    the programme question it answers (None: a document added on the status page)."""

    data: bytes
    content_type: str
    name: str
    question: int | None = None


def submit_application(
    programme: Programme, *, answers: dict[str, Any], uploads: list[Upload], language: str
) -> tuple[Case, str]:
    """A new case with its sealed answers and documents; returns it and its secret phrase (the
    only time the phrase exists outside the applicant's head: only its hash is kept)."""
    _check_documents(uploads, count=0, size=0)
    sealed_answers = sealing.seal_json(answers)
    phrase = new_phrase()
    case = Case(
        programme=programme,
        language=language,
        currency=programme.currency,
        answers=sealed_answers,
        key_id=sealing.sealed_key_id(sealed_answers),
    )
    case.set_phrase(phrase)
    applicant_key.give_key(case, phrase)
    with _stored(uploads) as stored:
        with transaction.atomic():
            case.save()
            _add_documents(case, stored)
            audit(
                None, "case.received", case, fields=["answers", *(["documents"] if uploads else [])], label=APPLICANT
            )
    return case, phrase


def find_case(code: str, phrase: str) -> Case | None:
    """The case with this code whose phrase this is, or None, whichever is wrong. A code that
    does not exist costs the same Argon2id check as a wrong phrase, so the time taken tells
    nothing either."""
    case = Case.objects.filter(code=tidy_code(code), purged_at__isnull=True).select_related("programme").first()
    if case is None:
        sealing.check_phrase(_decoy_hash(), tidy_phrase(phrase))
        return None
    return case if case.check_phrase(tidy_phrase(phrase)) else None


def sign_in(code: str, phrase: str) -> tuple[Case, PrivateKey | None] | None:
    """``find_case``, and the applicant's own key unwrapped with the phrase (None for a case
    received before applicants had one). The key goes to the applicant's browser only."""
    case = find_case(code, phrase)
    if case is None:
        return None
    return case, applicant_key.open_key(case, phrase)


def tidy_code(typed: str) -> str:
    """A case code as typed back ("zc 7k4q 9mx2", "7K4Q9MX2") in its stored shape ("ZC-7K4Q-9MX2")."""
    chars = "".join(c for c in typed.upper() if c.isalnum())
    chars = chars.removeprefix("ZC")
    if len(chars) != 8:
        return typed.strip().upper()[:16]
    return f"ZC-{chars[:4]}-{chars[4:]}"


@functools.cache
def _decoy_hash() -> str:
    """A phrase hash to check against when no case has the code (made once per process)."""
    return sealing.hash_phrase(new_phrase())


def answer(case: Case, *, text: str, uploads: list[Upload]) -> None:
    """The applicant's answer to the foundation (sealed) and documents they add."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in OPEN or case.purged_at is not None:
            raise ApplicationRefused(_("This application is closed: nothing more can be added to it."))
        if (
            text
            and case.messages.filter(direction=Direction.FROM_APPLICANT).count() >= settings.ZBOR_CASE_MAX_MESSAGES
        ):
            raise ApplicationRefused(_("This application has as many answers as it can take."))
        existing = case.documents.aggregate(size=Sum("size"))["size"] or 0
        _check_documents(uploads, count=case.documents.count(), size=existing)
    body = sealing.seal_text(text)
    with _stored(uploads) as stored:
        with transaction.atomic():
            if body:
                CaseMessage.objects.create(case=case, direction=Direction.FROM_APPLICANT, body=body)
            _add_documents(case, stored)
            Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
            fields = (["message"] if body else []) + (["documents"] if uploads else [])
            audit(None, "case.answered", case, fields=fields, label=APPLICANT)


def withdraw(case: Case) -> bool:
    """Withdraw the application (True), or False if it is no longer open. The retention purge
    deletes a withdrawn case's content after ``settings.ZBOR_CASE_RETENTION_DAYS``."""
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, status__in=OPEN, purged_at__isnull=True).update(
            status=CaseStatus.WITHDRAWN, updated_at=timezone.now()
        )
        if changed:
            audit(None, "case.withdrawn", case, fields=["status"], label=APPLICANT)
    return bool(changed)


def questions_for(case: Case) -> list[CaseMessage]:
    """The foundation's questions to the applicant, oldest first."""
    return list(case.messages.filter(direction=Direction.TO_APPLICANT).order_by("at", "pk"))


def text_for_applicant(message: CaseMessage, key: PrivateKey | None) -> str | None:
    """A question's free text, opened with the applicant's own key: "" when there is none, None
    when there is one that this key (or no key) cannot open. Only in memory, for one page."""
    if not message.body_for_applicant:
        return ""
    if key is None:
        return None
    try:
        return applicant_key.open_for(message.body_for_applicant, key)
    except sealing.Unreadable:
        return None


def answers_sent(case: Case) -> list[CaseMessage]:
    """The applicant's own answers (their dates only can be shown: the text is sealed)."""
    return list(case.messages.filter(direction=Direction.FROM_APPLICANT).order_by("at", "pk"))


# --- documents -------------------------------------------------------------------------------


def _check_documents(uploads: list[Upload], *, count: int, size: int) -> None:
    if count + len(uploads) > settings.ZBOR_CASE_MAX_DOCUMENTS:
        raise ApplicationRefused(
            _("An application can have at most %(count)s documents.") % {"count": settings.ZBOR_CASE_MAX_DOCUMENTS}
        )
    if size + sum(len(u.data) for u in uploads) > settings.ZBOR_CASE_MAX_BYTES:
        raise ApplicationRefused(
            _("The documents of one application can be at most %(mb)s MB together.")
            % {"mb": settings.ZBOR_CASE_MAX_BYTES // (1024 * 1024)}
        )


@dataclass(frozen=True)
class _Stored:
    name: str
    meta: str
    size: int


class _stored:
    """Seal and store the uploads on entry; if the block fails, delete every stored file, so a
    failure leaves nothing half-written."""

    def __init__(self, uploads: list[Upload]):
        self.uploads = uploads
        self.stored: list[_Stored] = []

    def __enter__(self) -> list[_Stored]:
        try:
            for upload in self.uploads:
                meta = sealing.seal_json(
                    {"name": upload.name[:200], "content_type": upload.content_type, "question": upload.question}
                )
                blob = sealing.seal_file(upload.data)
                self.stored.append(_Stored(private_files.store(blob), meta, len(upload.data)))
        except BaseException:
            self._delete()
            raise
        return self.stored

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self._delete()

    def _delete(self) -> None:
        for stored in self.stored:
            private_files.delete(stored.name)


def _add_documents(case: Case, stored: list[_Stored]) -> None:
    CaseDocument.objects.bulk_create(
        CaseDocument(case=case, stored_name=s.name, meta=s.meta, size=s.size, from_applicant=True) for s in stored
    )
