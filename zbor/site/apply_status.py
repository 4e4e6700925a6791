"""The applicant's status page: the case code and secret phrase in, then where the case stands,
the foundation's questions, a form to answer them and add documents, and a way to withdraw.

Signing in checks the phrase against its Argon2id hash; a wrong code and a wrong phrase get the
same answer, and the failures of one client are limited
(``ZBOR_CASE_STATUS_FAILURES_PER_CLIENT_HOUR``). The phrase then unwraps the applicant's own key
(zbor.cases.applicant_key). After that the browser holds a signed cookie with the case's id and
that key, never the phrase, valid for ``ZBOR_CASE_STATUS_SECONDS`` after the last page
(HttpOnly, SameSite=Strict, Secure in production, gone when the browser closes); "Leave" deletes
it at once. The key is the applicant's own: it lives in their browser, and in this process's
memory while one of their requests runs, nowhere else (ADR 0016, "Messages to the applicant").

The page shows the foundation's questions (translated templates, zbor.cases.templates, in the
language the page is read in), each with the caseworker's free text opened with the applicant's
key, and the dates of the applicant's own answers, never their text: that is sealed to the
foundation, and the web server cannot read it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from zbor import ratelimit
from zbor.cases import applicant_key, applying, sealing
from zbor.cases import templates as question_templates
from zbor.cases.models import Case, CaseStatus

from .apply_forms import AnswerForm, StatusSignInForm, error_list
from .apply_views import retention_days

if TYPE_CHECKING:
    from nacl.public import PrivateKey

log = logging.getLogger(__name__)

COOKIE = "zbor_case"
_SALT = "zbor.site.apply.status"

#: What each status means, said to the applicant.
STATUS_TEXTS: dict[str, tuple[Promise, Promise]] = {
    CaseStatus.NEW: (
        gettext_lazy("Received"),
        gettext_lazy("We have your application. A caseworker will read it soon."),
    ),
    CaseStatus.NEEDS_INFORMATION: (
        gettext_lazy("We need more information"),
        gettext_lazy("Please read our questions below and answer them on this page."),
    ),
    CaseStatus.IN_VERIFICATION: (
        gettext_lazy("Being checked"),
        gettext_lazy("A caseworker is checking what you wrote. We may still ask you something here."),
    ),
    CaseStatus.APPROVED: (
        gettext_lazy("Approved"),
        gettext_lazy("We can help. We will tell you the next steps here, or through the way you gave us."),
    ),
    CaseStatus.DECLINED: (
        gettext_lazy("We cannot help this time"),
        gettext_lazy("We are sorry: we cannot help with this application."),
    ),
    CaseStatus.WITHDRAWN: (
        gettext_lazy("Withdrawn"),
        gettext_lazy("You withdrew this application. Nobody will work on it any more."),
    ),
    CaseStatus.CLOSED: (
        gettext_lazy("Closed"),
        gettext_lazy("This case is closed."),
    ),
}


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


@dataclass(frozen=True)
class SignedIn:
    """The case a browser signed in to, and the applicant's own key its cookie carries (None for
    a case received before applicants had one)."""

    case: Case
    key: PrivateKey | None = field(default=None, repr=False)


def _signed_in(request) -> SignedIn | None:
    """The case this browser signed in to, if its cookie is genuine and recent."""
    try:
        value = _signer().unsign(request.COOKIES.get(COOKIE, ""), max_age=settings.ZBOR_CASE_STATUS_SECONDS)
    except signing.BadSignature:
        return None
    pk, _sep, key_text = value.partition(":")
    if not pk.isdigit():
        return None
    case = Case.objects.filter(pk=int(pk), purged_at__isnull=True).select_related("programme").first()
    if case is None:
        return None
    return SignedIn(case, applicant_key.from_cookie(case, key_text))


def _keep(response, signed_in: SignedIn):
    """Set (or renew) the cookie: the case's id and the applicant's key, signed with the time."""
    key_text = applicant_key.to_cookie(signed_in.key) if signed_in.key is not None else ""
    response.set_cookie(
        COOKIE,
        _signer().sign(f"{signed_in.case.pk}:{key_text}"),
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    return response


def _status_url() -> str:
    return reverse("site:apply_status")


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def apply_status(request):
    if request.method == "POST":
        return _sign_in(request)
    signed_in = _signed_in(request)
    if signed_in is None:
        return _sign_in_page(request, StatusSignInForm())
    return _keep(_status_page(request, signed_in, AnswerForm()), signed_in)


def _failures_rule() -> ratelimit.Rule:
    return ratelimit.Rule("case-status-failures", settings.ZBOR_CASE_STATUS_FAILURES_PER_CLIENT_HOUR, 3600)


def _sign_in(request):
    form = StatusSignInForm(request.POST)
    client = ratelimit.client_hash(request)
    if ratelimit.reached(_failures_rule(), client):
        log.warning("rate limit case-status-failures reached")
        left = 3600 - int(timezone.now().timestamp()) % 3600
        response = _sign_in_page(request, StatusSignInForm(), wait_minutes=-(-left // 60), status=429)
        response["Retry-After"] = str(left)
        return response
    found = None
    if form.is_valid():
        found = applying.sign_in(form.cleaned_data["code"], form.cleaned_data["phrase"])
    if found is None:
        ratelimit.hit(_failures_rule(), client)
        # One answer whatever was wrong; the code typed is kept, the phrase never sent back.
        again = StatusSignInForm(initial={"code": request.POST.get("code", "")[:32]})
        return _sign_in_page(request, again, failed=True, status=400)
    return _keep(redirect(_status_url()), SignedIn(*found))


def _sign_in_page(request, form: StatusSignInForm, *, failed: bool = False, wait_minutes: int = 0, status: int = 200):
    summary = [("", "", _("The case code or the phrase is not right. Check both and try again."))] if failed else []
    context = {
        "form": form,
        "wait_minutes": wait_minutes,
        "error_summary": summary,
        "retention_days": retention_days(),
    }
    response = render(request, "site/apply_status_sign_in.html", context, status=status)
    response.delete_cookie(COOKIE, samesite="Strict")
    return response


def _status_page(request, signed_in: SignedIn, form: AnswerForm, *, status: int = 200):
    case = signed_in.case
    title, meaning = STATUS_TEXTS.get(case.status) or (case.get_status_display(), "")
    # The caseworker's own words are opened here, with the key this browser brought, for this
    # page only: never stored, cached or logged.
    questions = [
        {
            "at": m.at,
            "text": question_templates.render(m.template, get_language()),
            "added": applying.text_for_applicant(m, signed_in.key),
        }
        for m in applying.questions_for(case)
        if m.template
    ]
    answers = applying.answers_sent(case)
    context = {
        "case": case,
        "status_title": title,
        "status_meaning": meaning,
        "questions": questions,
        "answer_count": len(answers),
        "last_answer_at": answers[-1].at if answers else None,
        "documents": case.documents.filter(from_applicant=True).count(),
        "open": case.status in applying.OPEN,
        "form": form,
        "error_summary": error_list(form) if form.is_bound else [],
        "retention_days": retention_days(),
        "minutes": settings.ZBOR_CASE_STATUS_SECONDS // 60,
    }
    return render(request, "site/apply_status.html", context, status=status)


@never_cache
@sensitive_post_parameters()
@require_POST
def apply_answer(request):
    signed_in = _signed_in(request)
    if signed_in is None:
        return _sign_in_page(request, StatusSignInForm(), status=403)
    case = signed_in.case
    too_large = int(request.META.get("CONTENT_LENGTH") or 0) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    verdict = ratelimit.hit(
        ratelimit.Rule("case-answers", settings.ZBOR_CASE_ANSWERS_PER_CLIENT_HOUR, 3600),
        ratelimit.client_hash(request),
    )
    form = AnswerForm(request.POST, request.FILES, too_large=too_large)
    if not verdict.allowed:
        form.is_valid()
        form.add_error(
            None, _("Many answers were sent from your connection in the last hour. Please try again later.")
        )
        return _keep(_status_page(request, signed_in, form, status=429), signed_in)
    if not form.is_valid():
        return _keep(_status_page(request, signed_in, form, status=400), signed_in)
    try:
        applying.answer(case, text=form.cleaned_data["text"].strip(), uploads=form.cleaned_data["documents"])
    except (applying.ApplicationRefused, sealing.NoFoundationKey) as exc:
        form.add_error(
            None, str(exc) if isinstance(exc, applying.ApplicationRefused) else _("Nothing can be sent now.")
        )
        return _keep(_status_page(request, signed_in, form, status=400), signed_in)
    messages.success(request, _("Thank you: what you sent reached the foundation."))
    return _keep(redirect(_status_url()), signed_in)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def apply_withdraw(request):
    signed_in = _signed_in(request)
    if signed_in is None:
        return _sign_in_page(request, StatusSignInForm(), status=403)
    case = signed_in.case
    if request.method == "POST":
        if applying.withdraw(case):
            messages.success(request, _("Your application was withdrawn."))
        return _keep(redirect(_status_url()), signed_in)
    context = {"case": case, "open": case.status in applying.OPEN, "retention_days": retention_days()}
    return _keep(render(request, "site/apply_withdraw.html", context), signed_in)


@never_cache
@require_POST
def apply_leave(request):
    """Forget the sign-in on this browser now (the cookie goes; nothing else changes)."""
    response = redirect(reverse("site:apply"))
    response.delete_cookie(COOKIE, samesite="Strict")
    return response
