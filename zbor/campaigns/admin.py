"""The editors' screens: campaigns with their needs and updates, beneficiaries, notes."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableStackedInline, TranslatableTabularInline
from parler.forms import TranslatableModelForm

from zbor import private_files
from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborModelAdmin, ZborTranslatableAdmin
from zbor.money import Money, format_money

from . import private, revisions, services
from .exceptions import CampaignError
from .forms import CampaignAdminForm, NeedForm, NeedFormSet, UpdateAdminForm
from .models import PUBLIC_STATUSES, Beneficiary, BeneficiaryDocument, Campaign, Need, Note, StagedText, Status, Update
from .selectors import goal_subquery, note_is_used


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
    list_display = ["title_column", "slug", "display_name", "category", "status", "goal_column", "published_at"]
    list_filter = ["status", "category", "currency"]
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
        (None, {"fields": ["title", "summary", "slug", "beneficiary", "category", "location"]}),
        (_("Story"), {"fields": ["original_language", "story"]}),
        (_("Money"), {"fields": ["currency"]}),
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
            .prefetch_related("translations", "beneficiary__translations")
            .annotate(goal_total=goal_subquery())
        )

    @admin.display(description=_("title"))
    def title_column(self, obj):
        return str(obj)

    @admin.display(description=_("display name"))
    def display_name(self, obj):
        return obj.beneficiary.safe_translation_getter("display_name", any_language=True)

    @admin.display(description=_("goal"), ordering="goal_total")
    def goal_column(self, obj):
        return format_money(Money(obj.goal_total, obj.currency), get_language() or "en")

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


class BeneficiaryAdminForm(TranslatableModelForm):
    """The public face plus, for roles allowed to, the encrypted private details (audited)."""

    real_name = forms.CharField(label=capfirst(_("real name")), required=False, max_length=200)
    contacts = forms.CharField(label=capfirst(_("contacts")), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    verification_notes = forms.CharField(
        label=capfirst(_("verification notes")), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    new_document = forms.FileField(
        label=capfirst(_("add a document")),
        required=False,
        help_text=_("PDF or picture. Metadata is removed; the file is encrypted."),
    )
    new_document_label = forms.CharField(label=capfirst(_("document label")), required=False, max_length=200)

    class Meta:
        model = Beneficiary
        fields = "__all__"


PRIVATE_FIELDS = ["real_name", "contacts", "verification_notes", "new_document", "new_document_label"]


@admin.register(Beneficiary)
class BeneficiaryAdmin(AuditedAdminMixin, ZborTranslatableAdmin):
    form = BeneficiaryAdminForm
    list_display = [
        "reference",
        "display_name_column",
        "name_is_pseudonym",
        "consent_recorded",
        "at_risk",
        "created_at",
    ]
    list_filter = ["name_is_pseudonym", "consent_recorded", "at_risk"]
    search_fields = ["reference", "translations__display_name"]

    def _private_allowed(self, request, *, change: bool) -> bool:
        return request.user.has_perm(
            "campaigns.change_beneficiary_private" if change else "campaigns.view_beneficiary_private"
        )

    def get_fieldsets(self, request, obj=None):
        public = (None, {"fields": ["reference", "display_name", "name_is_pseudonym", "consent_recorded", "at_risk"]})
        if not self._private_allowed(request, change=False):
            return [public]
        private = (
            _("Private — encrypted, every read is recorded"),
            {"fields": PRIVATE_FIELDS + (["documents_list"] if obj else []), "classes": ["private"]},
        )
        return [public, private]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["documents_list"]
        if obj is not None and obj.at_risk and not request.user.has_perm("campaigns.approve_risky_campaign"):
            readonly.append("at_risk")  # only an admin may say the danger is over
        if not self._private_allowed(request, change=True):
            readonly += PRIVATE_FIELDS
        return readonly

    def get_form(self, request, obj=None, change: bool = False, **kwargs) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or not self._private_allowed(request, change=False):
            return form
        if request.method == "GET":
            details = private.read_private(obj, by=request.user)  # audited
        elif self._private_allowed(request, change=True):
            # A submission is compared with the stored values, so the form (and the audit log
            # after it) names only the fields whose value changed.
            details = private.stored_private(obj, by=request.user)
        else:
            return form

        # mypy cannot check a class whose base is only known at run time.
        class WithPrivateDetails(form):  # type: ignore[valid-type,misc]
            # On this form instance's own field copies: the class fields are shared by every
            # request in the process and must never hold one beneficiary's data.
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                for name in private.FIELDS:
                    self.fields[name].initial = getattr(details, name)

        return WithPrivateDetails

    def save_model(self, request, obj, form, change):
        staged_new_language = False
        if change and "display_name" in form.changed_data and revisions.display_name_is_public(obj):
            # Shown on public pages: staged until someone else approves it; the live name stays.
            language = obj.get_current_language()
            proposed = obj.display_name
            live = Beneficiary.objects.get(pk=obj.pk)
            staged_new_language = not live.has_translation(language)
            obj.display_name = live.safe_translation_getter("display_name", language_code=language, default="") or ""
            revisions.stage_text(obj, language, {"display_name": proposed}, by=request.user)
            messages.warning(
                request,
                _("The new display name waits for another person's approval; the public pages keep the old one."),
            )
        super().save_model(request, obj, form, change)
        if staged_new_language:
            obj.delete_translation(obj.get_current_language())  # no empty name in a new language
        if not self._private_allowed(request, change=True):
            return
        private.write_private(obj, by=request.user, **{f: form.cleaned_data.get(f, "") for f in private.FIELDS})
        upload = form.cleaned_data.get("new_document")
        if upload:
            try:
                private.add_document(
                    obj, upload, by=request.user, label=form.cleaned_data.get("new_document_label", "")
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))

    @admin.display(description=_("documents"))
    def documents_list(self, obj):
        if obj is None or not obj.pk:
            return "-"
        links = [
            (
                reverse("admin:campaigns_beneficiary_document", args=[obj.pk, d.pk]),
                private.document_label(d) or d.uploaded_at.date(),
            )
            for d in obj.documents.all()
        ]
        return format_html_join(", ", '<a href="{}">{}</a>', links) or "-"

    def get_urls(self):
        return [
            path(
                "<int:pk>/document/<int:doc>/",
                self.admin_site.admin_view(self.document_view),
                name="campaigns_beneficiary_document",
            )
        ] + super().get_urls()

    def document_view(self, request, pk: int, doc: int):
        self.require(request, "campaigns.view_beneficiary_private")  # before the lookup: ids cannot be counted
        document = get_object_or_404(BeneficiaryDocument, pk=doc, beneficiary_id=pk)
        return private_files.serve(private.read_document, document, by=request.user)  # audited

    @admin.display(description=_("display name"))
    def display_name_column(self, obj):
        return obj.safe_translation_getter("display_name", any_language=True)


@admin.register(Note)
class NoteAdmin(AuditedAdminMixin, ZborTranslatableAdmin):
    list_display = ["key", "term_column", "usage"]
    search_fields = ["key", "translations__term", "translations__text"]
    fields = ["key", "term", "text"]

    def get_readonly_fields(self, request, obj=None):
        # Stories place notes by key: renaming one would leave a gap where it stood.
        return ["key"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        changed = [name for name in ("term", "text") if name in form.changed_data]
        if change and changed:
            # A note is shared by every story that places it: staged until someone else approves.
            language = obj.get_current_language()
            live = Note.objects.get(pk=obj.pk)
            new_language = not live.has_translation(language)
            proposed = {}
            for name in ("term", "text"):
                proposed[name] = getattr(obj, name)
                setattr(obj, name, live.safe_translation_getter(name, language_code=language, default="") or "")
            revisions.stage_text(obj, language, proposed, by=request.user)
            messages.warning(
                request,
                _("The note's new text waits for another person's approval; the public pages keep the old one."),
            )
            super().save_model(request, obj, form, change)
            if new_language:
                obj.delete_translation(language)  # no empty note in a new language
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        obj = getattr(obj, "master", obj)  # parler asks about a translation with the translation
        if obj is not None and note_is_used(obj.key):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("term"))
    def term_column(self, obj):
        return obj.safe_translation_getter("term", any_language=True)

    @admin.display(description=_("how to place it"))
    def usage(self, obj):
        return format_html("<code>[[note:{}]]</code>", obj.key)


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
