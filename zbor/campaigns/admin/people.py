"""The editors' screens for beneficiaries (their private details encrypted, every read audited) and foundation notes."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from parler.forms import TranslatableModelForm

from zbor import private_files
from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborTranslatableAdmin

from .. import private, revisions
from ..models import (
    Beneficiary,
    BeneficiaryDocument,
    Note,
)
from ..selectors import note_is_used


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
