"""Retention: a case's content is destroyed once nobody needs it.

Declined, withdrawn and closed cases are purged ``ZBOR_CASE_RETENTION_DAYS`` (90) days after
their last change, by the daily task ``zbor.purge_old_cases`` (zbor/cases/tasks.py). A closed
case was approved and became a campaign or a grant, which keep their own copies (the
beneficiary's encrypted private data, the payout's recipient): the case keeps only its plain
figures. ``zbor purge_case CODE`` purges one at once.

Purging deletes the answers, every message (with the free texts sealed to the applicant), note
and document (the files too, overwritten, after the commit), the notes of the checks, the reasons
of the decisions and the applicant's own key (zbor.cases.applicant_key); it keeps the
plain columns the monthly report counts (programme, status, dates, approved amount) and the
links to the campaign or grant. Audited (``case.purge``) with the names of what was destroyed,
never a value.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zbor import private_files
from zbor.accounts.services import audit

from . import applicant_key
from .models import Case, CaseStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Finished cases the daily purge takes once they are old enough.
PURGED_WHEN = (CaseStatus.DECLINED, CaseStatus.WITHDRAWN, CaseStatus.CLOSED)

DESTROYED = ["answers", "messages", "notes", "documents", "check notes", "decision reasons", "applicant key"]


def purge_case(case: Case, *, by: User | None = None, label: str = "") -> Case:
    """Destroy ``case``'s content for good (see the module's docstring). Twice is harmless."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        names = [n for n in locked.documents.values_list("stored_name", flat=True) if n]
        locked.documents.all().delete()
        locked.messages.all().delete()
        locked.notes.all().delete()
        locked.checks.update(note="")
        locked.decisions.update(reason="")
        locked.answers = ""
        applicant_key.forget_key(locked)
        locked.purged_at = locked.purged_at or timezone.now()
        locked.save(update_fields=["answers", *applicant_key.FIELDS, "purged_at", "updated_at"])
        audit(by, "case.purge", locked, fields=DESTROYED, label=label)
        transaction.on_commit(lambda: _delete_files(names))
    case.refresh_from_db()
    return case


def _delete_files(names: list[str]) -> None:
    for name in names:
        private_files.delete(name)


def purge_old_cases(*, now=None) -> int:
    """Purge the declined, withdrawn and closed cases whose last change is older than
    ``ZBOR_CASE_RETENTION_DAYS``; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ZBOR_CASE_RETENTION_DAYS)
    due = Case.objects.filter(status__in=PURGED_WHEN, purged_at__isnull=True, updated_at__lt=cutoff)
    count = 0
    for case in due.order_by("pk").iterator():
        purge_case(case, label="zbor purge_old_cases")
        count += 1
    return count
