"""Campaigns and what they publish: the beneficiary's public face, needs, story, notes, updates.

This app knows nothing of money movements: what a campaign has collected is read from the
donations selectors (and, from the ledger issue on, from the ledger).
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from parler.models import TranslatableModel, TranslatedFields

from zbor.money import DEFAULT_CURRENCY

from .choices import ACCEPTING_STATUSES as ACCEPTING_STATUSES

# Re-exported: the rest of Zbor imports them from the models module.
from .choices import PUBLIC_STATUSES as PUBLIC_STATUSES
from .choices import Category as Category
from .choices import Kind as Kind
from .choices import Status as Status
from .funds import FundMethods
from .staged import StagedText as StagedText
from .validators import validate_currency

# The largest single need, in minor units (a billion euros; ten million Kuwaiti dinars). Keeps
# every sum far inside a 64-bit integer.
MAX_NEED_MINOR = 100_000_000_000


NOTE_KEY_HELP = _("Lowercase letters, digits and hyphens, e.g. shizo. Used in stories as [[note:shizo]].")


class Beneficiary(TranslatableModel):
    """The person a campaign helps, as the back office knows them.

    Nothing here but the translated display name ever reaches a public page. The real identity,
    contacts and documents are deliberately not stored here: they arrive with the back-office
    issue, encrypted at rest, never as plain columns.
    """

    reference = models.CharField(
        _("internal reference"),
        max_length=40,
        unique=True,
        help_text=_("A code staff use for this person, e.g. B-0042. Never shown publicly. Never the real name."),
    )
    name_is_pseudonym = models.BooleanField(
        _("name changed for safety"),
        default=False,
        help_text=_(
            "Tick when the display name is a pseudonym: the public page then says the name was "
            "changed for safety and that the foundation holds the documents."
        ),
    )
    consent_recorded = models.BooleanField(
        _("consent recorded"),
        default=False,
        help_text=_("The person agreed to the display name and to the campaign. Needed before review."),
    )
    at_risk = models.BooleanField(
        _("at risk"),
        default=False,
        help_text=_(
            "The person or close family are still in the country of risk. Publishing then needs an "
            "admin's approval as well."
        ),
    )
    translations = TranslatedFields(
        display_name=models.CharField(
            _("display name"),
            max_length=120,
            help_text=_("The name the public sees, chosen with the person: a real name or a pseudonym."),
        ),
    )
    # Encrypted (zbor.crypto): read and written only through zbor.campaigns.private, audited.
    real_name_secret = models.TextField(blank=True, editable=False)
    contacts_secret = models.TextField(blank=True, editable=False)
    verification_notes_secret = models.TextField(blank=True, editable=False)
    private_purged_at = models.DateTimeField(_("private data purged"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["reference"]
        permissions = [
            ("view_beneficiary_private", _("Can read a beneficiary's identity, contacts and documents")),
            ("change_beneficiary_private", _("Can change a beneficiary's identity, contacts and documents")),
        ]

    def __str__(self) -> str:
        return self.reference


def cover_upload_to(instance: Campaign, filename: str) -> str:
    # A random name: the uploaded file name can carry a real name or a place.
    return f"covers/{uuid.uuid4().hex}.jpg"


class Campaign(FundMethods, TranslatableModel):
    slug = models.SlugField(
        _("web address"),
        max_length=80,
        unique=True,
        help_text=_("The last part of the page address: lowercase words with hyphens. Avoid real names."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=Kind.choices,
        default=Kind.PERSONAL,
        help_text=_(
            "A personal campaign helps one person and closes when it is done. A programme fund "
            "(e.g. “Emergency relocation”) stays open: no beneficiary, no end date, needs optional."
        ),
    )
    #: Empty for a programme fund, which helps many people.
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("beneficiary"),
        help_text=_("Required for a personal campaign; a programme fund has none."),
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=DEFAULT_CURRENCY,
        validators=[validate_currency],
        help_text=_("ISO 4217 code, e.g. EUR, PLN, USD. Every need and donation of the campaign is in it."),
    )
    original_language = models.CharField(
        _("original language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language the story was written in. Other languages are translations of it."),
    )
    required_languages = models.JSONField(
        _("languages required before review"),
        default=list,
        blank=True,
        help_text=_(
            "The campaign cannot be sent to review until it is complete in each of these languages: "
            "title, summary, place, story and every need."
        ),
    )
    cover = models.ImageField(
        _("cover image"),
        upload_to=cover_upload_to,
        blank=True,
        help_text=_(
            "Optional. All metadata (location, camera, date) is removed on upload. Make sure the "
            "picture itself shows no face, place or document that identifies anyone."
        ),
    )
    ends_on = models.DateField(
        _("closes on"),
        null=True,
        blank=True,
        help_text=_(
            "Optional. The last day the campaign takes donations; the page says how many days are left. Leave empty for a campaign that stays open until the foundation closes it."
        ),
    )
    yearly_target = models.BigIntegerField(
        _("yearly target"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_NEED_MINOR)],
        help_text=_(
            "Programme funds only, optional: what the fund hopes to collect each calendar year, in "
            "minor units (cents for EUR). Its page shows what came in since 1 January against it."
        ),
    )
    monthly_fund = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=models.Q(kind=Kind.FUND) & ~models.Q(status=Status.REVISION),
        verbose_name=_("fund for monthly gifts after closing"),
        help_text=_(
            "After this campaign closes, monthly gifts go to this fund. A programme fund in the "
            "same currency; the donor is told so on the form and in the receipt."
        ),
    )
    #: Suggested amounts in minor units (empty: the currency's ladder).
    suggested_amounts = models.JSONField(_("suggested amounts"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    #: Who sent the campaign to review, for four-eyes: they cannot approve it themselves.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    #: Incremented each time the campaign goes to review; approvals count for one round only.
    review_round = models.PositiveIntegerField(default=0, editable=False)
    #: For a revision: the live campaign whose content it proposes to replace.
    revision_of = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, editable=False, related_name="revision"
    )

    translations = TranslatedFields(
        title=models.CharField(_("title"), max_length=200),
        summary=models.CharField(
            _("summary"),
            max_length=300,
            help_text=_("One or two sentences for campaign cards, search engines and link previews."),
        ),
        location=models.CharField(
            _("location"),
            max_length=100,
            blank=True,
            help_text=_("Optional and coarse: a country or a large region. Never a town, address or prison."),
        ),
        story=models.TextField(
            _("story"),
            blank=True,
            help_text=_(
                "Markdown: a blank line between paragraphs, **bold**, *italic*, [link](https://…), "
                "## for a heading, - for a list. Raw HTML is shown as text. To place a foundation "
                "note, put [[note:key]] alone on its own line, e.g. [[note:shizo]]; the key must "
                "be an existing note."
            ),
        ),
        cover_alt=models.CharField(
            _("cover image description"),
            max_length=200,
            blank=True,
            help_text=_("What the cover image shows, for people who cannot see it."),
        ),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-published_at", "-created_at"]
        permissions = [
            ("approve_campaign", _("Can approve another person's campaign for publication")),
            ("approve_risky_campaign", _("Can approve publishing a campaign whose beneficiary is at risk")),
            ("emergency_unpublish", _("Can take a campaign offline at once")),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="campaign_status_published"),
            # The list's default order (newest first, public statuses): its first page is read
            # from this index however many campaigns there are.
            models.Index(fields=["-published_at", "-id"], name="campaign_newest"),
        ]

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or self.slug

    def has_ended(self, today: datetime.date | None = None) -> bool:  # past ends_on, its last day
        return self.ends_on is not None and (today or timezone.localdate()) > self.ends_on


class Need(TranslatableModel):
    """One budget line. The campaign's goal is the sum of its needs."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="needs")
    #: In a revision: the live need this copy stands for (None for a need the revision adds).
    replaces = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    amount = models.BigIntegerField(
        _("amount"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_NEED_MINOR)],
        help_text=_("In minor units of the campaign's currency (cents for EUR)."),
    )
    translations = TranslatedFields(
        description=models.CharField(_("what it is for"), max_length=500),
    )

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="need_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.safe_translation_getter("description", any_language=True) or f"#{self.pk}"


class Note(TranslatableModel):
    """The foundation's explanation of a term or a fact, placed inline in stories and updates."""

    key = models.SlugField(
        _("key"),
        max_length=60,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", NOTE_KEY_HELP)],
        help_text=NOTE_KEY_HELP,
    )
    translations = TranslatedFields(
        term=models.CharField(_("term"), max_length=120, help_text=_("What the note explains, e.g. SHIZO.")),
        text=models.TextField(_("text"), help_text=_("The explanation, in markdown.")),
    )

    class Meta:
        verbose_name = _("foundation note")
        verbose_name_plural = _("foundation notes")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Update(TranslatableModel):
    """A dated post on a campaign: news from the beneficiary or the foundation."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="updates")
    #: In a revision: the live update this copy stands for (None for a new update).
    replaces = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    published_on = models.DateField(_("date"), default=timezone.localdate)
    translations = TranslatedFields(
        title=models.CharField(_("title"), max_length=200),
        body=models.TextField(_("text"), help_text=_("Markdown, with [[note:key]] lines like the story.")),
    )

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or f"#{self.pk}"


class CampaignApproval(models.Model):
    """A second person's yes to publishing one review round of a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="approvals")
    review_round = models.PositiveIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: The approver could approve campaigns whose beneficiary is at risk (an admin).
    as_admin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "review_round", "approver"], name="approval_once_per_person")
        ]

    def __str__(self) -> str:
        return f"approval of campaign #{self.campaign_id}, round {self.review_round}"


class BeneficiaryDocument(models.Model):
    """A document about a beneficiary, encrypted in private storage (zbor.private_files)."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="documents")
    stored_name = models.CharField(max_length=64, unique=True, editable=False)
    content_type = models.CharField(max_length=64, editable=False)
    size = models.PositiveIntegerField(editable=False)
    label_secret = models.TextField(blank=True, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        # The label is private (encrypted); the admin's list shows it to those allowed to read it.
        return f"document #{self.pk} ({self.content_type})"


class CampaignEditor(models.Model):
    """Someone who changed a draft or a revision since its last approval: they may not approve it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="editors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="campaign_editor_once")]

    def __str__(self) -> str:
        return f"editor of campaign #{self.campaign_id}"
