"""The caseworkers' queue in the admin: cases by programme and status, assignment, and a page
per case (zbor/cases/case_views.py) for reading, notes, questions, the checklist, decisions and
what the case becomes.

Only the caseworker role sees any of it (``cases.view_case``): an admin or an editor without the
role gets 403 for every address, existing case or not. The list shows plain columns only and
never opens anything sealed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zbor.admin_base import ZborModelAdmin

from . import case_views, work
from .case_forms import AssignForm
from .models import Case


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Assigned to me")), ("nobody", _("Nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = _("open or finished")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open (new, needs information, in verification)")), ("no", _("Decided or closed"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=work.OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=work.OPEN_STATUSES)
        return queryset


@admin.register(Case)
class CaseAdmin(ZborModelAdmin):
    list_display = ["code", "programme", "status", "received_at", "assignee", "days_waiting"]
    list_filter = [OpenFilter, "programme", "status", AssigneeFilter]
    list_select_related = ["programme", "assignee"]
    search_fields = ["code"]
    ordering = ["received_at"]
    actions = ["assign_to_me", "assign_to"]
    change_form_template = "admin/cases/case/case.html"

    # Casework is the caseworker role's alone: view_case (and the service's own checks).
    def has_module_permission(self, request):
        return request.user.has_perm(work.VIEW)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(work.VIEW)

    def has_add_permission(self, request):
        return False  # applications arrive through /apply/ only

    def has_change_permission(self, request, obj=None):
        return False  # every change is a service, from the case page

    def has_delete_permission(self, request, obj=None):
        return False  # purge, never delete: the report counts purged cases

    def has_assign_permission(self, request):
        return request.user.has_perm(work.CHANGE)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("programme__translations")

    @admin.display(description=_("days waiting"))
    def days_waiting(self, obj):
        return work.days_waiting(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(self.report_view), name="cases_case_report"),
            path("<int:pk>/act/<str:action>/", view(self.act_view), name="cases_case_act"),
            path("<int:pk>/document/<int:document_id>/", view(self.document_view), name="cases_case_document"),
            *super().get_urls(),
        ]

    # -- the case page and its steps (case_views.py) ------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self.require(request, work.VIEW)
        return case_views.case_page(self, request, object_id)

    def act_view(self, request, pk: int, action: str):
        self.require(request, work.VIEW)
        return case_views.act(self, request, pk, action)

    def document_view(self, request, pk: int, document_id: int):
        self.require(request, work.READ)
        return case_views.document(self, request, pk, document_id)

    def report_view(self, request):
        self.require(request, work.VIEW)
        return case_views.report(self, request)

    # -- assignment -----------------------------------------------------------------------------

    @admin.action(description=_("Assign to me"), permissions=["assign"])
    def assign_to_me(self, request, queryset):
        self._assign(request, queryset, request.user)

    @admin.action(description=_("Assign to a caseworker…"), permissions=["assign"])
    def assign_to(self, request, queryset):
        form = AssignForm(request.POST if request.POST.get("post") == "yes" else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Assign cases"),
                "form": form,
                "queryset": queryset,
                "action": "assign_to",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/cases/case/assign.html", context)
        self._assign(request, queryset, form.cleaned_data["assignee"])
        return None

    def _assign(self, request, queryset, to) -> None:
        done = 0
        for case in queryset:
            try:
                work.assign(case, to=to, by=request.user)
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
                return
            except work.CaseworkError as exc:
                messages.error(request, str(exc))
                return
            done += 1
        messages.success(
            request, ngettext("%(count)d case assigned.", "%(count)d cases assigned.", done) % {"count": done}
        )
