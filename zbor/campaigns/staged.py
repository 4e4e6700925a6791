"""Staged text: a proposed display name or foundation note waiting for a second person
(zbor.campaigns.revisions). Re-exported by the models module."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StagedText(models.Model):
    """A proposed change to text shared by public pages (a beneficiary's display name, a
    foundation note), waiting for a second person's approval. The live text stays until then.

    Each edit replaces the row with a new one (a new id), so an approval given on a screen that
    showed an older proposal matches nothing."""

    class Kind(models.TextChoices):
        DISPLAY_NAME = "display_name", _("display name")
        NOTE = "note", _("foundation note")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    beneficiary = models.ForeignKey(
        "campaigns.Beneficiary", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    note = models.ForeignKey("campaigns.Note", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    language_code = models.CharField(_("language"), max_length=15)
    values = models.JSONField(_("proposed text"), default=dict)
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("changed by"))
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)

    class Meta:
        verbose_name = _("change waiting for approval")
        verbose_name_plural = _("changes waiting for approval")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "language_code"], name="staged_display_name_once"),
            models.UniqueConstraint(fields=["note", "language_code"], name="staged_note_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language_code})"

    @property
    def target(self):
        return self.beneficiary if self.kind == self.Kind.DISPLAY_NAME else self.note
