"""Asking for help (issue 20): choose a programme, answer its questions, get a case code and a
secret phrase. The status page is zbor/site/apply_status.py.

Every page works without JavaScript and loads nothing from elsewhere (Tor Browser at its safest
level). What the applicant writes is sealed to the foundation's key before anything is stored
(zbor.cases.applying); no page is cached, none puts anything personal in its address, and the
phrase is shown once, in the answer to the form itself (``Cache-Control: no-store``): it is
never stored, not even for a redirect.

Abuse controls (docs/applying.md, "Abuse controls"):

- With JavaScript the form carries the donate form's proof of work (zbor/challenge.py, the same
  worker script); a solved challenge is accepted once. Such applications are limited per client
  (``ZBOR_APPLICATIONS_PER_CLIENT_HOUR``).
- Without JavaScript (Tor Browser "safest") the form still works. Without a valid proof an
  application counts against a stricter per-client limit
  (``ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR``) and a limit for everyone together
  (``ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR``), so a flood of scripted applications cannot fill
  the disk or bury real ones; the page then suggests turning JavaScript on or coming back later.
- A sent form's idempotency key is accepted once: sending it again (the browser's "resend")
  says the application was received, and does not make a second case.
"""

from __future__ import annotations

import logging
import uuid
from typing import cast

from django.conf import settings
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from zbor import challenge, ratelimit
from zbor.cases import applying, sealing
from zbor.cases.models import Programme, QuestionKind

from .apply_forms import ApplicationForm, error_list

log = logging.getLogger(__name__)


def _programmes():
    return Programme.objects.filter(active=True).prefetch_related("translations").order_by("position", "pk")


def retention_days() -> int:
    """Days a declined or withdrawn application keeps its content: the retention purge's
    setting (zbor.cases.retention), 90 unless set."""
    return int(getattr(settings, "ZBOR_CASE_RETENTION_DAYS", 90))


def _privacy_context() -> dict:
    return {"retention_days": retention_days(), "status_minutes": settings.ZBOR_CASE_STATUS_SECONDS // 60}


@never_cache
@require_safe
def apply_start(request):
    """What happens to an application, then the programmes to choose from."""
    context = {"programmes": list(_programmes()), "open": _casework_open(), **_privacy_context()}
    return render(request, "site/apply_start.html", context)


def _casework_open() -> bool:
    try:
        sealing.active_key()
    except sealing.NoFoundationKey:
        return False
    return True


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def apply_form(request, slug: str):
    programme = _programmes().filter(slug=slug).first()
    if programme is None:
        raise Http404
    questions = list(programme.questions.prefetch_related("translations").order_by("position", "pk"))
    if not _casework_open():
        return _page(request, programme, None, closed=True, status=503)
    if request.method != "POST":
        form = ApplicationForm(initial={"idempotency_key": uuid.uuid4().hex}, programme=programme, questions=questions)
        return _page(request, programme, form)
    too_large = int(request.META.get("CONTENT_LENGTH") or 0) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    form = ApplicationForm(request.POST, request.FILES, programme=programme, questions=questions, too_large=too_large)
    refused = _over_limit(request, programme, form, proof=bool(request.POST.get("challenge")))
    if refused is not None:
        return refused
    if not form.is_valid():
        return _page(request, programme, form, status=400)
    return _submit(request, programme, form)


def _submit(request, programme: Programme, form: ApplicationForm):
    data = form.cleaned_data
    proof = bool(data.get("challenge")) and challenge.verify(data["challenge"])
    refused = _count(request, programme, form, proof=proof)
    if refused is not None:
        return refused
    if not ratelimit.first_use("application", data["idempotency_key"], 24 * 3600):
        return _render(request, "site/apply_sent.html", {"programme": programme, "again": True})
    try:
        case, phrase = applying.submit_application(
            programme, answers=form.answers(), uploads=form.uploads(), language=get_language()
        )
    except applying.ApplicationRefused as exc:
        form.add_error(None, str(exc))
        return _page(request, programme, form, status=400)
    except sealing.NoFoundationKey:
        return _page(request, programme, None, closed=True, status=503)
    log.info("application received for programme %s", programme.pk)
    words = phrase.split()
    context = {"programme": programme, "code": case.code, "phrase": phrase, "words": words}
    return _render(request, "site/apply_sent.html", context)


def _render(request, template: str, context: dict, status: int = 200):
    response = render(request, template, {**context, **_privacy_context()}, status=status)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    return response


def _page(
    request,
    programme: Programme,
    form: ApplicationForm | None,
    *,
    closed: bool = False,
    wait: list[str] | None = None,
    status: int = 200,
):
    if form is not None and form.is_bound:
        # A form sent back with an error: a new key for its next sending, and the files again
        # (a browser never keeps a chosen file across pages, and the server keeps none).
        # Its proof of work is asked again too: the page carries a new challenge.
        form.data = cast(QueryDict, form.data).copy()
        form.data["idempotency_key"] = uuid.uuid4().hex
        form.data["challenge"] = ""
    summary = error_list(form) if form is not None and form.is_bound and not wait else []
    context = {
        "programme": programme,
        "form": form,
        "closed": closed,
        "wait": wait or [],
        "error_summary": summary,
        "had_files": bool(form is not None and form.is_bound and form.files),
        "challenge": challenge.create().as_json() if form is not None else "",
        "has_file_question": form is not None and any(q.kind == QuestionKind.FILE for q in form.questions),
        "file_mb": settings.ZBOR_CASE_FILE_MAX_BYTES // (1024 * 1024),
    }
    return _render(request, "site/apply_form.html", context, status=status)


# --- limits ----------------------------------------------------------------------------------


def _rules(*, proof: bool) -> list[tuple[ratelimit.Rule, str]]:
    if proof:
        return [(ratelimit.Rule("applications", settings.ZBOR_APPLICATIONS_PER_CLIENT_HOUR, 3600), "client")]
    return [
        (
            ratelimit.Rule("applications-no-proof", settings.ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR, 3600),
            "client",
        ),
        (ratelimit.Rule("applications-no-proof-all", settings.ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR, 3600), "all"),
    ]


def _over_limit(request, programme: Programme, form: ApplicationForm, *, proof: bool):
    """The form again, with the reason, when a limit is used up already (checked before the
    form's files are cleaned, without counting: only a sent application counts)."""
    for rule, who in _rules(proof=proof):
        subject = ratelimit.client_hash(request) if who == "client" else "all"
        if rule.limit > 0 and ratelimit.reached(rule, subject):
            left = rule.seconds - int(timezone.now().timestamp()) % rule.seconds
            return _refusal(request, programme, form, everyone=who == "all", proof=proof, retry_after=left)
    return None


def _count(request, programme: Programme, form: ApplicationForm, *, proof: bool):
    for rule, who in _rules(proof=proof):
        subject = ratelimit.client_hash(request) if who == "client" else "all"
        verdict = ratelimit.hit(rule, subject)
        if not verdict.allowed:
            return _refusal(
                request, programme, form, everyone=who == "all", proof=proof, retry_after=verdict.retry_after
            )
    return None


def _refusal(request, programme: Programme, form: ApplicationForm, *, everyone: bool, proof: bool, retry_after: int):
    """The form as it was sent (its text kept, so nothing typed is lost) with why it must wait."""
    log.warning("rate limit %s reached", "applications-all" if everyone else "applications")
    minutes = -(-retry_after // 60)
    if everyone:
        wait = [
            _(
                "Very many applications arrived without the browser's automatic check in the last hour, "
                "so such applications are paused for a short while. Nothing was sent."
            ),
            _(
                "If you can, turn JavaScript on for this site and send the form again: a short automatic "
                "check then runs in your browser and the application goes through."
            ),
        ]
    else:
        wait = [
            _(
                "Several applications were sent from your connection in the last hour, so new ones are "
                "paused for a short while. Nothing was sent."
            ),
            _(
                "If many people share your connection (at work, or through Tor), this can happen without any mistake on your part."
            ),
        ]
        if not proof:
            wait.append(_("With JavaScript on, a short automatic check runs in your browser and the limit is higher."))
    wait.append(
        ngettext("Please try again in %(minutes)s minute.", "Please try again in %(minutes)s minutes.", minutes)
        % {"minutes": minutes}
    )
    response = _page(request, programme, form, wait=wait, status=429)
    response["Retry-After"] = str(retry_after)
    return response
