"""Casework on one case: assignment, reading what was written (sealed), notes, questions to the
applicant. Views, admin and commands call these; each checks the person acting (``require``).

Reading needs the foundation's private key, which exists only while a caseworker's unlocked
request runs (``zbor.cases.keys.private_key(request)``): every function that opens sealed text
takes it as ``key`` and refuses without it (``CaseLocked``). Every read is audited
(``case.read``, ``case.document.read``), naming what was read, never its content.

    CaseLocked          no unlocked key: nothing sealed can be read
    CaseworkError       a step that the case's state does not allow, in words for the caseworker
    PermissionDenied    the person's role may not do casework
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor import private_files
from zbor.accounts.services import audit, require

from . import applicant_key, templates
from .models import Case, CaseDocument, CaseMessage, CaseNote, CaseStatus, Direction
from .sealing import Unreadable, seal_text, unseal_file, unseal_json, unseal_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from nacl.public import PrivateKey

VIEW = "cases.view_case"
READ = "cases.read_case"
CHANGE = "cases.change_case"
DECIDE = "cases.decide_case"
PURGE = "cases.purge_case"

#: Cases still being worked on: what a caseworker's queue shows first.
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.NEEDS_INFORMATION, CaseStatus.IN_VERIFICATION)
#: Decided or closed: no more notes, questions, checks or decisions.
FINISHED_STATUSES = (CaseStatus.APPROVED, CaseStatus.DECLINED, CaseStatus.WITHDRAWN, CaseStatus.CLOSED)

NOT_YOURS = "Only caseworkers may do casework."


class CaseworkError(Exception):
    """A casework step the case's state does not allow; the message is for the caseworker."""


class CaseLocked(CaseworkError):
    """Casework is locked for this person (no unlocked key): nothing sealed can be read."""


@dataclass(frozen=True)
class Entry:
    """One dated line of the case's history, opened: a message, a note, a check."""

    at: datetime.datetime
    kind: str
    by: str
    text: str
    direction: str = ""


@dataclass(frozen=True)
class OpenedDocument:
    pk: int
    name: str
    content_type: str
    size: int
    added_at: datetime.datetime
    from_applicant: bool


@dataclass(frozen=True)
class CaseContent:
    """What the applicant and the caseworkers wrote, opened with the unlocked key."""

    answers: dict[str, Any]
    documents: list[OpenedDocument] = field(default_factory=list)
    messages: list[Entry] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    checks: dict[str, list[Entry]] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)


def _needs_key(key: PrivateKey | None) -> PrivateKey:
    if key is None:
        raise CaseLocked(_("Casework is locked: unlock it with your passphrase to read this case."))
    return key


def _open(value: str, key: PrivateKey) -> str:
    return unseal_text(value, key) if value else ""


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def read_case(case: Case, *, by: User, key: PrivateKey | None) -> CaseContent:
    """Everything sealed about ``case``, opened: answers, documents' names, messages (in both
    directions), notes, check notes and decision reasons. Audited as one ``case.read``."""
    require(by, READ, NOT_YOURS)
    key = _needs_key(key)
    if case.purged_at is not None:
        raise CaseworkError(_("This case was purged: nothing it held can be read any more."))
    try:
        return _read_case(case, by=by, key=key)
    except Unreadable:
        raise CaseworkError(
            _("Your copy of the key does not open this case: it was sealed to another foundation key.")
        ) from None


def _read_case(case: Case, *, by: User, key: PrivateKey) -> CaseContent:
    messages = [
        Entry(
            at=m.at,
            kind=m.template,
            by=_name(m.sent_by),
            text=_message_text(m, key),
            direction=m.direction,
        )
        for m in case.messages.select_related("sent_by")
    ]
    notes = [
        Entry(at=n.at, kind="note", by=_name(n.author), text=_open(n.body, key))
        for n in case.notes.select_related("author")
    ]
    checks: dict[str, list[Entry]] = {}
    for check in case.checks.select_related("by"):
        checks.setdefault(check.item, []).append(
            Entry(at=check.at, kind=check.item, by=_name(check.by), text=_open(check.note, key))
        )
    documents = [_document(d, key) for d in case.documents.exclude(stored_name="")]
    reasons = {d.pk: _open(d.reason, key) for d in case.decisions.all()}
    with transaction.atomic():
        audit(by, "case.read", case, fields=["answers", "documents", "messages", "notes", "checks", "decisions"])
    return CaseContent(
        answers=unseal_json(case.answers, key) if case.answers else {},
        documents=documents,
        messages=messages,
        notes=notes,
        checks=checks,
        reasons=reasons,
    )


def _message_text(message: CaseMessage, key: PrivateKey) -> str:
    body = _open(message.body, key)
    if message.direction == Direction.TO_APPLICANT and message.template:
        question = templates.render(message.template, message.case.language)
        return f"{question}\n\n{body}".strip()
    return body


def _document(document: CaseDocument, key: PrivateKey) -> OpenedDocument:
    meta = unseal_json(document.meta, key) if document.meta else {}
    return OpenedDocument(
        pk=document.pk,
        name=str(meta.get("name") or _("document")),
        content_type=str(meta.get("content_type") or "application/octet-stream"),
        size=document.size,
        added_at=document.added_at,
        from_applicant=document.from_applicant,
    )


def read_document(document: CaseDocument, *, by: User, key: PrivateKey | None) -> tuple[bytes, OpenedDocument]:
    """A case document's bytes, opened, with its name and type. Audited (``case.document.read``)."""
    require(by, READ, NOT_YOURS)
    key = _needs_key(key)
    if not document.stored_name:
        raise CaseworkError(_("This document was purged."))
    try:
        opened = _document(document, key)
        data = unseal_file(private_files.load(document.stored_name), key)
    except Unreadable:
        raise CaseworkError(_("Your copy of the key does not open this document.")) from None
    with transaction.atomic():
        audit(by, "case.document.read", document.case, fields=["document"])
    return data, opened


def _locked_open_case(case: Case) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.purged_at is not None or locked.status in FINISHED_STATUSES:
        raise CaseworkError(
            _("This case is “%(status)s”: nothing more can be added to it.") % {"status": locked.get_status_display()}
        )
    return locked


def assign(case: Case, *, to: User | None, by: User) -> Case:
    """Give the case to ``to`` (a caseworker), or to nobody. Audited."""
    require(by, CHANGE, NOT_YOURS)
    if to is not None and not to.has_perm(READ):
        raise CaseworkError(_("%(name)s is not a caseworker.") % {"name": to.get_username()})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.assignee = to
        locked.save(update_fields=["assignee", "updated_at"])
        audit(by, "case.assign", locked, fields=["assignee"])
    case.refresh_from_db()
    return case


def add_note(case: Case, *, text: str, by: User) -> CaseNote:
    """A private note on the case, sealed at once (writing needs no key). Audited."""
    require(by, CHANGE, NOT_YOURS)
    if not text.strip():
        raise CaseworkError(_("Write the note first."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.purged_at is not None:
            raise CaseworkError(_("This case was purged: nothing can be added to it."))
        note = CaseNote.objects.create(case=locked, author=by, body=seal_text(text.strip()))
        locked.save(update_fields=["updated_at"])
        audit(by, "case.note.add", locked, fields=["note"])
    return note


def ask_applicant(case: Case, *, template: str, text: str = "", by: User) -> CaseMessage:
    """A question from a translated template for the applicant's status page, with an optional
    free text sealed twice: to the foundation key (``body``, for caseworkers) and to the
    applicant's own key (``body_for_applicant``, for their status page). A case received before
    applicants had a key refuses a free text. The case then waits for the applicant (needs
    information). Audited."""
    require(by, CHANGE, NOT_YOURS)
    text = text.strip()
    if template not in templates.TEMPLATES:
        raise CaseworkError(_("Choose one of the questions offered."))
    if template == templates.NEEDS_TEXT and not text:
        raise CaseworkError(_("This question asks the applicant to read your message: write it below the question."))
    with transaction.atomic():
        locked = _locked_open_case(case)
        if text and not applicant_key.has_key(locked):
            raise CaseworkError(
                _(
                    "This application came before applicants had a key of their own, so they could not "
                    "read an added text: send a question without one."
                )
            )
        message = CaseMessage.objects.create(
            case=locked,
            direction=Direction.TO_APPLICANT,
            template=template,
            body=seal_text(text),
            body_for_applicant=applicant_key.seal_for(locked, text),
            sent_by=by,
        )
        locked.status = CaseStatus.NEEDS_INFORMATION
        locked.save(update_fields=["status", "updated_at"])
        audit(by, "case.ask", locked, fields=["message", "status"])
    case.refresh_from_db()
    return message


def days_waiting(case: Case, *, now: datetime.datetime | None = None) -> int:
    """Whole days since the application arrived, until it was decided (or until now)."""
    end = case.decided_at or now or timezone.now()
    return max((end - case.received_at).days, 0)


def start_verification(case: Case) -> None:
    """A new case becomes "in verification" with its first check or decision (caller's lock)."""
    if case.status in (CaseStatus.NEW, CaseStatus.NEEDS_INFORMATION):
        case.status = CaseStatus.IN_VERIFICATION
        case.save(update_fields=["status", "updated_at"])
