"""The programmes people apply to, and the questions each adds to the common core
(zbor/cases/core.py): set up by admins, read by caseworkers. Nothing here is sealed: a
programme's name and questions are the foundation's words, not an applicant's."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableTabularInline

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborTranslatableAdmin

from .models import Programme, Question


class QuestionInline(TranslatableTabularInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "required", "label", "help_text", "choices"]
    verbose_name_plural = _("questions this programme adds to the common ones (in the language chosen above)")


@admin.register(Programme)
class ProgrammeAdmin(AuditedAdminMixin, ZborTranslatableAdmin):
    list_display = ["__str__", "slug", "active", "position", "question_count", "case_count"]
    list_filter = ["active"]
    list_editable = ["active", "position"]
    search_fields = ["slug", "translations__name"]
    fields = ["name", "description", "slug", "active", "position", "max_amount", "currency"]
    inlines = [QuestionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(questions_total=Count("questions", distinct=True), cases_total=Count("cases", distinct=True))
        )

    @admin.display(description=_("questions"), ordering="questions_total")
    def question_count(self, obj):
        return obj.questions_total

    @admin.display(description=_("applications"), ordering="cases_total")
    def case_count(self, obj):
        return obj.cases_total
