"""The case page and its steps, for ``CaseAdmin`` (zbor/cases/case_admin.py).

The page shows the plain facts to every caseworker. What was written (answers, documents,
messages, notes, check notes, reasons) is shown only when this request can rebuild the
foundation key (``keys.private_key``: the caseworker unlocked in this session); when locked,
the page says so and links to "Unlock casework", and nothing sealed is opened. Every opening is
audited by the service (``case.read``).

Each step (``act``) is a small form: GET shows it, POST runs the service and goes back to the
case with a message. Errors are messages, never a 500.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from zbor.db import erase_residue
from zbor.money import Money, format_money

from . import applicant_key, keys, outcomes, retention, verification, work
from . import case_forms as f
from . import report as reports
from .models import Case, CaseDecision, CaseDocument, CheckItem, DecisionStatus, Outcome


def money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_money(Money(amount, currency), get_language() or "en")


def _case_url(case: Case) -> str:
    return reverse("admin:cases_case_change", args=[case.pk])


def answer_rows(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) to show, in order: the common core under the labels the applicant read
    (zbor/cases/core.py, the applicant side), then the programme's questions as they were asked.
    A shape it does not know is shown key by key rather than hidden."""
    found = answers.get("core")
    core: dict[str, Any] = found if isinstance(found, dict) else {}
    labels = _core_labels()
    # The sealed JSON keeps its keys sorted: show them in the order the form asked them.
    order = {key: n for n, key in enumerate(labels)}
    rows: list[tuple[str, str]] = []
    for key, value in sorted(core.items(), key=lambda item: (order.get(item[0], len(order)), item[0])):
        if key == "currency" or value in ("", None):
            continue
        if key == "amount" and isinstance(value, int):
            value = money(value, str(core.get("currency") or "EUR"))
        rows.append((str(labels.get(key, key)), str(value)))
    for question in answers.get("questions") or []:
        if isinstance(question, dict):
            rows.append((str(question.get("label", "")), str(question.get("answer", ""))))
    rows += [(str(k), str(v)) for k, v in answers.items() if k not in ("core", "questions")]
    return rows


def _core_labels() -> dict[str, str]:
    try:  # the applicant's side (H5) defines the core questions; without it, keys are shown
        core = importlib.import_module("zbor.cases.core")
    except ImportError:
        return {}
    return {question.key: question.label for question in getattr(core, "CORE", ())}


def _unlock_url(case: Case) -> str:
    try:
        return reverse("admin:cases_unlock") + "?next=" + _case_url(case)
    except NoReverseMatch:  # the unlock page is zbor.cases.keys_admin's
        return ""


def case_page(model_admin, request, object_id) -> TemplateResponse:
    case = model_admin.get_object(request, object_id)
    if case is None:
        raise Http404
    key = keys.private_key(request)
    content = None
    if key is not None and request.user.has_perm(work.READ) and case.purged_at is None:
        try:
            content = work.read_case(case, by=request.user, key=key)  # audited
        except work.CaseworkError as exc:
            messages.error(request, str(exc))
    counts = verification.check_counts(case)
    checkers: dict[str, list[str]] = {}
    for item, name in case.checks.values_list("item", "by__username"):
        checkers.setdefault(item, []).append(name)
    decisions = list(case.decisions.select_related("proposed_by", "confirmed_by"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Case %(code)s") % {"code": case.code},
        "case": case,
        "original": case,
        "content": content,
        "answers": answer_rows(content.answers) if content else [],
        "locked": key is None,
        "unlock_url": _unlock_url(case),
        "checklist": [
            {
                "label": CheckItem(item).label,
                "done": counts[item],
                "needed": needed,
                "by": checkers.get(item, []),
                "notes": content.checks.get(item, []) if content else [],
            }
            for item, needed in verification.NEEDED.items()
        ],
        "decisions": [
            {
                "decision": d,
                "amount": money(d.amount, case.currency),
                "reason": content.reasons.get(d.pk, "") if content else "",
            }
            for d in decisions
        ],
        "proposed": next((d for d in decisions if d.status == DecisionStatus.PROPOSED), None),
        "approved_amount": money(case.approved_amount, case.currency),
        "days_waiting": work.days_waiting(case),
        "open": case.status in work.OPEN_STATUSES and case.purged_at is None,
        "campaign_url": reverse("admin:campaigns_campaign_change", args=[case.campaign_id])
        if case.campaign_id
        else "",
        "payout_url": reverse("admin:disbursements_payout_change", args=[case.payout_id]) if case.payout_id else "",
        "actions": {a: reverse("admin:cases_case_act", args=[case.pk, a]) for a in STEPS},
        "steps": STEPS,
    }
    return TemplateResponse(request, "admin/cases/case/case.html", context)


def document(model_admin, request, pk: int, document_id: int) -> HttpResponse:
    doc = get_object_or_404(CaseDocument.objects.select_related("case"), pk=document_id, case_id=pk)
    try:
        data, opened = work.read_document(doc, by=request.user, key=keys.private_key(request))  # audited
    except work.CaseworkError as exc:
        messages.error(request, str(exc))
        return redirect(_case_url(doc.case))
    response = HttpResponse(data, content_type=opened.content_type)
    # Always a download, never shown inline: a file from outside must not run in the admin's origin.
    response["Content-Disposition"] = f'attachment; filename="{doc.case.code}-{doc.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def report(model_admin, request) -> TemplateResponse:
    figures = reports.casework_report()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Casework this month"),
        "report": figures,
        "statuses": Case._meta.get_field("status").choices,
        "granted": [money(amount, currency) for currency, amount in figures.granted.items()],
        "paid": [money(amount, currency) for currency, amount in figures.paid.items()],
    }
    return TemplateResponse(request, "admin/cases/case/report.html", context)


# -- the steps ----------------------------------------------------------------------------------

STEPS: dict[str, Any] = {
    "note": gettext_lazy("Add a note"),
    "ask": gettext_lazy("Ask the applicant"),
    "check": gettext_lazy("Tick the checklist"),
    "propose": gettext_lazy("Propose a decision"),
    "confirm": gettext_lazy("Confirm the decision"),
    "withdraw": gettext_lazy("Withdraw the proposed decision"),
    "campaign": gettext_lazy("Create campaign"),
    "grant": gettext_lazy("Grant from a fund"),
    "close": gettext_lazy("Close the case"),
    "purge": gettext_lazy("Purge the case now"),
}

#: The permission each step needs beyond seeing cases (checked before the case is looked up).
STEP_PERMISSION = {"propose": work.DECIDE, "confirm": work.DECIDE, "withdraw": work.DECIDE, "purge": work.PURGE}


def act(model_admin, request, pk: int, action: str):
    if action not in STEPS:
        raise Http404
    model_admin.require(request, STEP_PERMISSION.get(action, work.CHANGE))
    case = get_object_or_404(Case.objects.select_related("programme"), pk=pk)
    form = _form(request, case, action)
    proposed = case.decisions.filter(status=DecisionStatus.PROPOSED).first()
    if request.method == "POST" and form.is_valid():
        try:
            done = _run(request, case, action, form.cleaned_data)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("Your role may not do this."))
        except work.CaseworkError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
            return redirect(_case_url(case))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"{STEPS[action]} — {case.code}",
        "case": case,
        "original": case,
        "form": form,
        "action": action,
        "proposed": proposed,
        "proposed_amount": money(proposed.amount, case.currency) if proposed else "",
        "approved_amount": money(case.approved_amount, case.currency),
        "case_url": _case_url(case),
        "draft": _draft(request, case) if action == "campaign" and request.method == "GET" else None,
        "has_applicant_key": applicant_key.has_key(case),
    }
    return TemplateResponse(request, "admin/cases/case/act.html", context)


def _draft(request, case: Case):
    try:
        return outcomes.campaign_draft(case, by=request.user, key=keys.private_key(request))
    except (work.CaseworkError, PermissionDenied):
        return None


def _form(request, case: Case, action: str):
    data = request.POST if request.method == "POST" else None
    if action == "note":
        return f.NoteForm(data)
    if action == "ask":
        return f.AskForm(data)
    if action == "check":
        return f.CheckForm(data)
    if action == "propose":
        return f.ProposeForm(data, currency=case.currency, initial={"outcome": Outcome.APPROVE})
    if action == "campaign":
        return f.CampaignForm(data)
    if action == "grant":
        initial: dict[str, Any] = {"amount": case.approved_amount}
        draft = _draft(request, case) if data is None else None
        if draft is not None:
            initial["recipient"] = "\n".join(p for p in (draft.real_name, draft.contacts) if p)
        return f.GrantForm(data, needs=outcomes.fund_needs(case), currency=case.currency, initial=initial)
    if action == "purge":
        return f.PurgeForm(data, case_code=case.code)
    return f.ConfirmForm(data)


def _proposed(case: Case) -> CaseDecision:
    decision = case.decisions.filter(status=DecisionStatus.PROPOSED).first()
    if decision is None:
        raise work.CaseworkError(_("No decision is proposed."))
    return decision


def _run(request, case: Case, action: str, data: dict) -> str:
    user = request.user
    if action == "note":
        work.add_note(case, text=data["text"], by=user)
        return _("Note added (sealed).")
    if action == "ask":
        work.ask_applicant(case, template=data["template"], text=data["text"], by=user)
        return _("The question is on the applicant's status page. The case needs information.")
    if action == "check":
        verification.confirm_check(case, item=data["item"], note=data["note"], by=user)
        return _("Ticked.")
    if action == "propose":
        verification.propose_decision(
            case, outcome=data["outcome"], amount=data["amount"], reason=data["reason"], by=user
        )
        return _("Decision proposed: a second caseworker confirms it.")
    if action == "confirm":
        verification.confirm_decision(_proposed(case), by=user)
        return _("Decision confirmed.")
    if action == "withdraw":
        verification.withdraw_decision(_proposed(case), by=user)
        return _("Proposal withdrawn.")
    if action == "campaign":
        key = keys.private_key(request)
        outcomes.create_campaign(case, by=user, key=key, at_risk=data["at_risk"])
        return _("A draft campaign was made: an editor finishes it and sends it to review.")
    if action == "grant":
        outcomes.grant_from_fund(
            case,
            need=data["need"],
            amount=data["amount"],
            channel=data["channel"],
            recipient=data["recipient"],
            by=user,
        )
        return _("The payout is requested: a second person in finance approves it.")
    if action == "close":
        outcomes.close_case(case, by=user)
        return _("The case is closed.")
    retention.purge_case(case, by=user)
    if not erase_residue(wait_seconds=2):
        return _("The case's content is destroyed. The database's log of old pages is cleared tonight.")
    return _("The case's content is destroyed.")
