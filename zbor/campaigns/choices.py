"""A campaign's kinds, categories and statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    #: Helps one person; reaches its goal and closes.
    PERSONAL = "personal", _("Personal campaign")
    #: A programme fund ("Emergency relocation"): open-ended, no beneficiary, no end date.
    FUND = "fund", _("Programme fund")


class Category(models.TextChoices):
    POLITICAL_PRISONER = "political_prisoner", _("Political prisoner")
    FAMILY = "family", _("Family")
    RELOCATION = "relocation", _("Relocation")
    MEDICAL = "medical", _("Medical")
    LEGAL_AID = "legal_aid", _("Legal aid")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    FUNDED = "funded", _("Funded")
    CLOSED = "closed", _("Closed")
    #: Taken offline in an emergency: answers 404 like a draft.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    #: A staged copy of a public campaign (zbor.campaigns.revisions): never public itself; its
    #: content replaces the live campaign's when a second person approves it.
    REVISION = "revision", _("Revision")


#: Campaigns whose content is on the public site: staff change them only through a revision.
PUBLIC_STATUSES = (Status.PUBLISHED, Status.FUNDED, Status.CLOSED)

#: Campaigns that take donations (a personal campaign also until its end date).
ACCEPTING_STATUSES = (Status.PUBLISHED, Status.FUNDED)
