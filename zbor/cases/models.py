"""Casework: people's applications for help, sealed so that a seized server cannot read them.

What an applicant wrote (answers, documents, messages) and what caseworkers wrote about it
(notes, check notes, decision reasons) is *sealed* (zbor.cases.sealing): a libsodium sealed box to
the foundation's public key, stored as text ``"<foundation key id>:<base64>"``. The web process
holds only public keys; the private key exists wrapped once per caseworker (``CaseworkerKey``)
and, while a caseworker works, split between a ``CaseSession`` row and their browser's cookie
(zbor.cases.keys). Everything needed to list and triage (programme, dates, status, assignee,
amounts) is plain. docs/decisions/0016-sealed-applications.md says why.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from parler.models import TranslatableModel, TranslatedFields

from zbor.campaigns.models import Campaign
from zbor.disbursements.models import Payout
from zbor.money import DEFAULT_CURRENCY

#: Letters and digits that cannot be mistaken for one another when read aloud or copied by hand
#: (no 0/O, 1/I/L, 5/S, 8/B, U/V).
CODE_ALPHABET = "234679ACDEFGHJKMNPQRTWXYZ"


def new_case_code() -> str:
    """A random case code like ``ZC-7K4Q-9MX2`` (8 characters: about 37 bits)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"ZC-{chars[:4]}-{chars[4:]}"


class FoundationKey(models.Model):
    """The PUBLIC half of an X25519 key pair that applications are sealed to. Exactly one is
    active; a rotation makes a new one. The private half is never stored in the clear."""

    public_key = models.CharField(_("public key"), max_length=64, unique=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: After a rotation with hand-over: the NEXT key's private half, sealed to THIS key, so that a
    #: caseworker who unlocks their old copy gets a copy of the new key (zbor.cases.keys). Empty
    #: when the rotation was made without hand-over (after removing a caseworker).
    successor = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    successor_sealed = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("foundation key")
        verbose_name_plural = _("foundation keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="cases_one_active_key"),
        ]

    def __str__(self) -> str:
        return f"{self.public_key[:12]}… ({self.created_at:%Y-%m-%d})"


class CaseworkerKey(models.Model):
    """A foundation private key wrapped for one caseworker: SecretBox under Argon2id(passphrase)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caseworker_keys")
    foundation_key = models.ForeignKey(FoundationKey, on_delete=models.CASCADE, related_name="caseworker_keys")
    wrapped = models.TextField(editable=False)
    salt = models.CharField(max_length=64, editable=False)
    opslimit = models.PositiveIntegerField(editable=False)
    memlimit = models.BigIntegerField(editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("caseworker key")
        verbose_name_plural = _("caseworker keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "foundation_key"], name="cases_one_copy_per_caseworker"),
        ]
        permissions = [
            ("unlock_casework", _("Can unlock casework with their own passphrase")),
            ("manage_caseworkers", _("Can give or take away a caseworker's copy of the key")),
        ]

    def __str__(self) -> str:
        return str(self.user)


class CaseSession(models.Model):
    """One unlock: the foundation private key wrapped under a random secret that only the
    caseworker's browser holds (a cookie). Deleting the row locks casework."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: sha256 of the Django session key: the unlock belongs to one signed-in session.
    session_hash = models.CharField(max_length=64, db_index=True)
    foundation_key = models.ForeignKey(FoundationKey, on_delete=models.CASCADE, related_name="+")
    wrapped = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("casework unlock")
        verbose_name_plural = _("casework unlocks")

    def __str__(self) -> str:
        return f"{self.user} until {self.expires_at:%Y-%m-%d %H:%M}"


class Programme(TranslatableModel):
    """A kind of help people can ask for (relocation, health, families of prisoners…)."""

    slug = models.SlugField(_("slug"), unique=True)
    active = models.BooleanField(_("open for applications"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    max_amount = models.BigIntegerField(
        _("largest amount"), null=True, blank=True, help_text=_("In minor units of the currency. Optional.")
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    translations = TranslatedFields(
        name=models.CharField(_("name"), max_length=200),
        description=models.TextField(_("description"), blank=True),
    )

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.safe_translation_getter("name", any_language=True) or self.slug


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
    AMOUNT = "amount", _("Amount")
    FILE = "file", _("File")


class Question(TranslatableModel):
    """A question a programme adds to the common core (zbor/cases/core.py)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    translations = TranslatedFields(
        label=models.CharField(_("question"), max_length=300),
        help_text=models.CharField(_("help text"), max_length=500, blank=True),
        choices=models.TextField(_("choices"), blank=True, help_text=_("For a choice: one per line.")),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["programme", "position", "pk"]

    def __str__(self) -> str:
        return self.safe_translation_getter("label", any_language=True) or str(self.pk)


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    NEEDS_INFORMATION = "needs_information", _("Needs information")
    IN_VERIFICATION = "in_verification", _("In verification")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    """One application. Plain: what triage needs. Sealed: ``answers``."""

    code = models.CharField(_("case code"), max_length=16, unique=True, default=new_case_code, editable=False)
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="cases", verbose_name=_("programme")
    )
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.NEW)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    approved_amount = models.BigIntegerField(_("approved amount"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("campaign")
    )
    payout = models.ForeignKey(
        Payout, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("grant")
    )
    purged_at = models.DateTimeField(_("purged"), null=True, blank=True)
    #: nacl.pwhash.argon2id.str of the applicant's secret phrase (``set_phrase``/``check_phrase``).
    phrase_hash = models.CharField(max_length=255, editable=False)
    #: Sealed JSON: the core and programme answers.
    answers = models.TextField(blank=True, default="", editable=False)
    #: The foundation key ``answers`` is sealed to (a rotation moves it).
    key = models.ForeignKey(FoundationKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    #: The applicant's own X25519 key pair (zbor.cases.applicant_key), made at submission so that a
    #: caseworker's free text can be sealed to the applicant: the public half (base64), and the
    #: private half wrapped with SecretBox under Argon2id of the secret phrase (its own salt and
    #: limits). Blank for cases received before it existed: they cannot carry a free text.
    applicant_public_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    applicant_key_wrapped = models.CharField(max_length=128, blank=True, default="", editable=False)
    applicant_key_salt = models.CharField(max_length=64, blank=True, default="", editable=False)
    applicant_key_opslimit = models.PositiveIntegerField(default=0, editable=False)
    applicant_key_memlimit = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "programme"])]
        permissions = [
            ("read_case", _("Can read what an applicant wrote (sealed)")),
            ("decide_case", _("Can propose and confirm decisions on cases")),
            ("purge_case", _("Can purge a case's content")),
        ]

    def __str__(self) -> str:
        return self.code

    def set_phrase(self, phrase: str) -> None:
        from .sealing import hash_phrase

        self.phrase_hash = hash_phrase(phrase)

    def check_phrase(self, phrase: str) -> bool:
        from .sealing import check_phrase

        return check_phrase(self.phrase_hash, phrase)


class CaseDocument(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    #: zbor.private_files name of the SEALED bytes (``sealing.seal_file``); empty once purged.
    stored_name = models.CharField(max_length=64, blank=True, editable=False)
    #: Sealed JSON: {"name": original file name, "content_type": ...}.
    meta = models.TextField(blank=True, default="", editable=False)
    size = models.PositiveIntegerField(_("size"), default=0)
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    from_applicant = models.BooleanField(_("from the applicant"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: document {self.pk}"


class Direction(models.TextChoices):
    TO_APPLICANT = "to_applicant", _("To the applicant")
    FROM_APPLICANT = "from_applicant", _("From the applicant")


class CaseMessage(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    at = models.DateTimeField(_("at"), default=timezone.now)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    #: For a question to the applicant: the key of a translated template (plain).
    template = models.CharField(_("template"), max_length=64, blank=True, default="")
    #: Sealed text: the applicant's answer, or a caseworker's free addition to a template.
    body = models.TextField(blank=True, default="", editable=False)
    #: The caseworker's free addition again, sealed to the APPLICANT's public key
    #: (``Case.applicant_public_key``) so that their status page can show it; never to the
    #: foundation key, so a rotation of that key leaves it alone.
    body_for_applicant = models.TextField(blank=True, default="", editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_direction_display()} {self.at:%Y-%m-%d}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    body = models.TextField(blank=True, default="", editable=False)  # sealed

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: note {self.at:%Y-%m-%d}"


class CheckItem(models.TextChoices):
    IDENTITY = "identity", _("Identity confirmed")
    DOCUMENTS = "documents", _("Documents seen")
    STORY = "story", _("Story checked with a second source")
    RISK = "risk", _("Risk assessed")


class CaseCheck(models.Model):
    """One caseworker's tick on the checklist; identity needs two, by two different people."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="checks")
    item = models.CharField(_("item"), max_length=16, choices=CheckItem.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(blank=True, default="", editable=False)  # sealed, optional

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "item", "by"], name="cases_one_check_per_person")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_item_display()} ({self.by})"


class Outcome(models.TextChoices):
    APPROVE = "approve", _("Approve")
    DECLINE = "decline", _("Decline")


class DecisionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CaseDecision(models.Model):
    """A decision proposed by one caseworker and confirmed by another."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    amount = models.BigIntegerField(_("amount"), null=True, blank=True, help_text=_("In minor units."))
    reason = models.TextField(blank=True, default="", editable=False)  # sealed
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PROPOSED
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["proposed_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(confirmed_by=F("proposed_by")), name="cases_decision_four_eyes"),
            models.CheckConstraint(condition=Q(outcome="decline") | Q(amount__gt=0), name="cases_approval_has_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_outcome_display()} ({self.get_status_display()})"
