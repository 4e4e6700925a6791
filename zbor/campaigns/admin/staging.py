"""Updates edited on their own screen, and shared text waiting for a second person's approval."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborModelAdmin, ZborTranslatableAdmin

from .. import revisions, services
from ..exceptions import CampaignError
from ..forms import UpdateAdminForm
from ..models import (
    PUBLIC_STATUSES,
    Campaign,
    StagedText,
    Status,
    Update,
)


@admin.register(Update)
class UpdateAdmin(AuditedAdminMixin, ZborTranslatableAdmin):
    form = UpdateAdminForm
    list_display = ["__str__", "campaign", "published_on"]
    list_filter = ["published_on"]
    search_fields = ["translations__title", "campaign__slug"]
    autocomplete_fields = ["campaign"]
    fields = ["campaign", "published_on", "title", "body"]

    def has_change_permission(self, request, obj=None):
        # Frozen while its campaign is in review: what the second person approves goes public.
        obj = getattr(obj, "master", obj)  # parler asks about a translation with the translation
        if obj is not None and obj.campaign.status == Status.IN_REVIEW:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A live campaign's updates are removed in its revision, never in place.
        obj = getattr(obj, "master", obj)  # parler asks about a translation with the translation
        if obj is not None and obj.campaign.status in (*PUBLIC_STATUSES, Status.IN_REVIEW):
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # Only campaigns whose updates can change here: never one in review (frozen).
        field = form.base_fields["campaign"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = Campaign.objects.exclude(status=Status.IN_REVIEW)
        return form

    def save_model(self, request, obj, form, change):
        if revisions.save_update(obj, by=request.user, change=change):
            messages.warning(
                request,
                _("The update was saved in the campaign's revision: it goes live when someone else approves it."),
            )


@admin.register(StagedText)
class StagedTextAdmin(ZborModelAdmin):
    """Proposed display names and note texts: a second person reads the diff and approves."""

    list_display = ["__str__", "target_column", "diff_column", "editors_column", "created_at"]
    list_filter = ["kind"]
    actions = ["approve", "discard"]

    def _may_use(self, request) -> bool:
        return services.may_approve(request.user)

    def has_module_permission(self, request):
        return self._may_use(request)

    def has_view_permission(self, request, obj=None):
        return self._may_use(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return self._may_use(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("beneficiary", "note").prefetch_related("editors")

    @admin.display(description=_("of"))
    def target_column(self, obj):
        return str(obj.target)

    @admin.display(description=_("changes"))
    def diff_column(self, obj):
        return format_html("<pre>{}</pre>", "\n".join(revisions.staged_diff(obj)))

    @admin.display(description=_("changed by"))
    def editors_column(self, obj):
        return ", ".join(sorted(u.get_username() for u in obj.editors.all()))

    @admin.action(description=_("Approve — I read the changes"), permissions=["approve"])
    def approve(self, request, queryset):
        for staged in queryset:
            try:
                revisions.approve_staged(staged, by=request.user)
            except PermissionDenied:
                self.message_user(request, _("Your role may not do this."), level=messages.ERROR)
                return
            except CampaignError as exc:
                self.message_user(request, f"{staged}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, _("%(change)s is live.") % {"change": staged}, level=messages.SUCCESS)

    @admin.action(description=_("Discard the proposed changes"), permissions=["approve"])
    def discard(self, request, queryset):
        for staged in queryset:
            revisions.discard_staged(staged, by=request.user)
