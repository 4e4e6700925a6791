"""The editors' screens for campaigns: their needs and updates inline, the life-cycle actions, the review."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableStackedInline, TranslatableTabularInline

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborTranslatableAdmin
from zbor.money import Money, format_money

from .. import revisions, services
from ..exceptions import CampaignError
from ..forms import CampaignAdminForm, NeedForm, NeedFormSet, UpdateAdminForm
from ..models import (
    PUBLIC_STATUSES,
    Campaign,
    Need,
    Status,
    Update,
)
from ..selectors import goal_subquery


class NeedInline(TranslatableTabularInline):
    model = Need
    form = NeedForm
    formset = NeedFormSet
    extra = 0
    min_num = 0
    fields = ["position", "description", "amount"]
    verbose_name_plural = _("needs (the goal is their sum)")


class UpdateInline(TranslatableStackedInline):
    model = Update
    form = UpdateAdminForm
    extra = 0
    fields = ["published_on", "title", "body"]


def _service_action(name: str, service, description, done_message, permission: str = "change"):
    """An admin action that calls ``service(campaign, by=user)`` for each selected campaign."""

    def action(modeladmin, request, queryset):
        done = 0
        for campaign in queryset.order_by("pk"):
            try:
                service(campaign, by=request.user)
            except PermissionDenied:
                modeladmin.message_user(request, _("Your role may not do this."), level=messages.ERROR)
                return
            except CampaignError as exc:
                modeladmin.message_user(request, f"{campaign.slug}: {exc}", level=messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, done_message % {"count": done}, level=messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description, permissions=[permission])(action)


CAMPAIGN_ACTIONS = [
    _service_action(
        "start_revision",
        revisions.start_revision,
        _("Change a live campaign (start a revision)"),
        ngettext_lazy(
            "%(count)d revision ready: edit it, then someone else approves it.",
            "%(count)d revisions ready: edit them, then someone else approves them.",
            "count",
        ),
    ),
    _service_action(
        "send_to_review",
        services.submit_for_review,
        _("Send to review"),
        ngettext_lazy("%(count)d campaign sent to review.", "%(count)d campaigns sent to review.", "count"),
    ),
    _service_action(
        "approve",
        lambda c, by: services.approve_publication(c, by=by, no_identifying_details=True),
        _("Approve for publication — I checked that nothing identifies the person"),
        ngettext_lazy("%(count)d campaign approved.", "%(count)d campaigns approved.", "count"),
        "approve",
    ),
    _service_action(
        "reopen",
        services.reopen_campaign,
        _("Reopen a funded campaign"),
        ngettext_lazy("%(count)d campaign reopened.", "%(count)d campaigns reopened.", "count"),
    ),
    _service_action(
        "mark_funded",
        services.mark_funded,
        _("Mark as funded"),
        ngettext_lazy("%(count)d campaign marked as funded.", "%(count)d campaigns marked as funded.", "count"),
    ),
    _service_action(
        "close",
        services.close_campaign,
        _("Close"),
        ngettext_lazy("%(count)d campaign closed.", "%(count)d campaigns closed.", "count"),
    ),
    _service_action(
        "return_to_draft",
        services.return_to_draft,
        _("Return to draft"),
        ngettext_lazy("%(count)d campaign returned to draft.", "%(count)d campaigns returned to draft.", "count"),
    ),
    _service_action(
        "emergency_unpublish",
        services.emergency_unpublish,
        _("EMERGENCY: take offline now"),
        ngettext_lazy("%(count)d campaign taken offline.", "%(count)d campaigns taken offline.", "count"),
        "emergency_unpublish",
    ),
    _service_action(
        "emergency_unpublish_and_purge",
        lambda c, by: services.emergency_unpublish(c, by=by, purge_private=True),
        _("EMERGENCY: take offline now and destroy the beneficiary's private data"),
        ngettext_lazy(
            "%(count)d campaign taken offline, private data destroyed.",
            "%(count)d campaigns taken offline, private data destroyed.",
            "count",
        ),
        "emergency_unpublish",
    ),
]


@admin.register(Campaign)
class CampaignAdmin(AuditedAdminMixin, ZborTranslatableAdmin):
    form = CampaignAdminForm
    inlines = [NeedInline, UpdateInline]
    list_display = [
        "title_column",
        "slug",
        "display_name",
        "kind",
        "category",
        "status",
        "goal_column",
        "missing_languages_column",
        "published_at",
    ]
    list_filter = ["kind", "status", "category", "currency"]
    search_fields = ["slug", "translations__title"]
    actions = CAMPAIGN_ACTIONS

    def has_change_permission(self, request, obj=None):
        # Frozen while in review: what the second person approves is what goes public.
        if obj is not None and obj.status == Status.IN_REVIEW:
            return False
        # Live: changed only through a revision (zbor.campaigns.revisions), never in place.
        if obj is not None and obj.status in PUBLIC_STATUSES:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status == Status.REVISION:
            readonly.append("slug")  # the address is the live campaign's
        return readonly

    def has_approve_permission(self, request):
        return services.may_approve(request.user)

    def has_emergency_unpublish_permission(self, request):
        return request.user.has_perm("campaigns.emergency_unpublish")

    readonly_fields = [
        "status",
        "published_at",
        "closed_at",
        "revision_info",
        "preview_links",
        "publication_checklist",
    ]
    autocomplete_fields = ["beneficiary"]
    fieldsets = [
        (None, {"fields": ["title", "summary", "slug", "kind", "beneficiary", "category", "location"]}),
        (_("Story"), {"fields": ["original_language", "story", "required_languages"]}),
        (_("Money"), {"fields": ["currency", "suggested_amounts", "ends_on", "yearly_target", "monthly_fund"]}),
        (_("Cover image"), {"fields": ["cover", "cover_alt"], "classes": ["collapse"]}),
        (
            _("Publication"),
            {
                "fields": [
                    "status",
                    "published_at",
                    "closed_at",
                    "revision_info",
                    "publication_checklist",
                    "preview_links",
                ]
            },
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        edited = form.has_changed() or any(formset.has_changed() for formset in formsets)
        if any(formset.has_changed() for formset in formsets):
            services.record_editor(form.instance, request.user)  # the form's own change: in save_model
        if change and edited and form.instance.status == Status.REVISION:
            messages.warning(
                request,
                _("Saved in the revision: the public page keeps the approved text until someone else approves it."),
            )

    def save_model(self, request, obj, form, change):
        services.save_campaign(obj, by=request.user, edited=form.has_changed() or not change)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("beneficiary")
            .prefetch_related("translations", "beneficiary__translations", "needs__translations")
            .annotate(goal_total=goal_subquery())
        )

    @admin.display(description=_("title"))
    def title_column(self, obj):
        return str(obj)

    @admin.display(description=_("display name"))
    def display_name(self, obj):
        if obj.beneficiary is None:
            return "—"  # a programme fund
        return obj.beneficiary.safe_translation_getter("display_name", any_language=True)

    @admin.display(description=_("goal"), ordering="goal_total")
    def goal_column(self, obj):
        return format_money(Money(obj.goal_total, obj.currency), get_language() or "en")

    @admin.display(description=_("languages missing"))
    def missing_languages_column(self, obj):
        """At a glance, which readers would get the text in another language: "—" when none."""
        missing = services.missing_languages(obj)
        required = set(obj.required_languages or [])
        if not missing:
            return "—"
        # A language required before review is in bold: the campaign cannot go to review without it.
        return format_html_join(
            ", ",
            "{}",
            ((format_html("<strong>{}</strong>", code) if code in required else code,) for code in missing),
        )

    @admin.display(description=_("preview"))
    def preview_links(self, obj):
        if not obj.pk:
            return _("Save the campaign first.")
        links = []
        for code, name in settings.LANGUAGES:
            with translation.override(code):
                links.append((reverse("site:campaign_preview", kwargs={"pk": obj.pk}), name))
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{}</a>', links)

    @admin.display(description=_("revision"))
    def revision_info(self, obj):
        if obj is None or not obj.pk:
            return "-"
        if obj.status == Status.REVISION:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("admin:campaigns_campaign_review", args=[obj.pk]),
                _("Review the changes"),
            )
        revision = Campaign.objects.filter(revision_of=obj).first()
        if revision is not None:
            return format_html(
                '<a href="{}">{}</a> · <a href="{}">{}</a>',
                reverse("admin:campaigns_campaign_change", args=[revision.pk]),
                _("Edit the open revision"),
                reverse("admin:campaigns_campaign_review", args=[revision.pk]),
                _("Review the changes"),
            )
        if obj.status in PUBLIC_STATUSES:
            return _(
                "To change this live campaign, select it in the list and choose “Change a live campaign (start a revision)”."
            )
        return "-"

    def get_urls(self):
        return [
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="campaigns_campaign_review")
        ] + super().get_urls()

    def review_view(self, request, pk: int):
        """The diff of a revision against the live page, with approve and discard buttons."""
        # The permission first, before any lookup: a refused role learns nothing, not even
        # whether the revision exists.
        if not (self.has_approve_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        revision = get_object_or_404(Campaign, pk=pk, status=Status.REVISION)
        here = reverse("admin:campaigns_campaign_review", args=[pk])
        if request.method == "POST":
            try:
                if request.POST.get("do") == "approve":
                    live = revisions.approve_revision(revision, by=request.user, seen=request.POST.get("seen", ""))
                    messages.success(request, _("The changes are live."))
                    return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[live.pk]))
                if request.POST.get("do") == "discard":
                    live_pk = revision.revision_of_id
                    revisions.discard_revision(revision, by=request.user)
                    messages.success(request, _("The revision was discarded."))
                    return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[live_pk]))
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
            except CampaignError as exc:
                messages.error(request, str(exc))
            return HttpResponseRedirect(here)
        text = revisions.public_text(revision)  # once, for the diff and the digest
        editors = [e.user for e in revision.editors.select_related("user")]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Changes waiting for approval"),
            "opts": self.opts,
            "revision": revision,
            "live": revision.revision_of,
            "diff": revisions.revision_diff(revision, text),
            "seen": revisions.revision_digest(revision, text),
            "editors": editors,
            "may_approve": self.has_approve_permission(request) and request.user.pk not in {e.pk for e in editors},
        }
        return TemplateResponse(request, "admin/campaigns/campaign/review.html", context)

    @admin.display(description=_("ready to publish?"))
    def publication_checklist(self, obj):
        if not obj.pk:
            return "-"
        problems = services.publication_problems(obj)
        if not problems:
            return _("Yes: title, story, needs and note references are in order.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in problems)))
