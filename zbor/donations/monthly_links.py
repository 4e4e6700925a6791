"""The donor's way back to their monthly gifts without an account: a signed, short-lived link
sent to the address the gift was given with (docs/decisions/0014-managing-monthly-gifts-without-accounts.md).

    The page "Manage my monthly gift" takes an address and always answers the same. It queues
    ``send_manage_link`` with a keyed hash of the address (``email_digest``), never the address
    itself: the queue (a SQLite file or Redis) holds nothing that names a donor. The task looks
    for that address's running gifts and, only if there are some, mails one link listing them
    all, to the address the gift holds. Known or not, the page's answer and its time are the same.

The link carries a token signed with the secret key (``TimestampSigner``, its own salt): the
gifts' public ids and the first half of the address's keyed hash, never the address. It is
refused after ``ZBOR_MONTHLY_LINK_SECONDS`` (an hour by default), and a gift whose address has
since been forgotten or erased drops out of it (its hash no longer matches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import MonthlyGift, MonthlyStatus

log = logging.getLogger(__name__)

SALT = "zbor.monthly.manage"
#: What the link's address template holds where the token goes (``send_manage_link``).
TOKEN_SLOT = "TOKEN"  # noqa: S105  (a placeholder, not a secret)
#: How much of the address's keyed hash the token carries: enough to tell addresses apart.
DIGEST_CHARS = 32
#: A gift the donor can still manage: running, paused, failing, lapsed, or a standing order
#: whose first transfer has not arrived yet. A card checkout never completed is not a gift yet.
MANAGEABLE = Q(
    status__in=[MonthlyStatus.ACTIVE, MonthlyStatus.PAUSED, MonthlyStatus.FAILING, MonthlyStatus.LAPSED]
) | Q(status=MonthlyStatus.PENDING, provider="bank")


class LinkExpired(Exception):
    """The link was genuine but is older than ``ZBOR_MONTHLY_LINK_SECONDS``."""


class LinkInvalid(Exception):
    """The link was not made here, or was changed."""


class LinkNotSent(Exception):
    """The mail server did not take the link; the task queue tries again."""


@dataclass(frozen=True)
class Link:
    #: The gifts the link was made for (their public ids, hex).
    gift_ids: tuple[str, ...]
    digest: str


def email_digest(email: str) -> str:
    """A hash of the address keyed with the secret key: the same for any case or surrounding
    space, and useless to anyone without the key."""
    return salted_hmac(SALT, email.strip().casefold(), algorithm="sha256").hexdigest()


def manageable() -> QuerySet[MonthlyGift]:
    return MonthlyGift.objects.filter(MANAGEABLE).exclude(email="")


def gifts_of(digest: str) -> list[MonthlyGift]:
    """The manageable gifts given with the address whose ``email_digest`` is ``digest``.

    The database has no index on the hash: every manageable gift's address is hashed, in the
    background task (a foundation's monthly supporters are counted in thousands, a second of
    work at most), never in the request."""
    return [gift for gift in manageable().order_by("created_at", "pk") if _matches(gift, digest)]


def _matches(gift: MonthlyGift, digest: str) -> bool:
    return constant_time_compare(email_digest(gift.email)[:DIGEST_CHARS], digest[:DIGEST_CHARS])


def make_token(digest: str, gifts: list[MonthlyGift]) -> str:
    payload = {"g": [gift.public_id.hex for gift in gifts], "e": digest[:DIGEST_CHARS]}
    return signing.TimestampSigner(salt=SALT).sign_object(payload, compress=True)


def read_token(token: str) -> Link:
    """The link a token stands for; ``LinkExpired`` or ``LinkInvalid`` if it may not be used."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token, max_age=settings.ZBOR_MONTHLY_LINK_SECONDS)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except (signing.BadSignature, ValueError):
        raise LinkInvalid from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("g"), list)
        or not isinstance(payload.get("e"), str)
    ):
        raise LinkInvalid
    return Link(gift_ids=tuple(str(g) for g in payload["g"]), digest=payload["e"])


def linked_gifts(link: Link) -> list[MonthlyGift]:
    """The gifts of a link that can still be managed, with the address they were given with."""
    gifts = manageable().filter(public_id__in=link.gift_ids).select_related("campaign").order_by("created_at", "pk")
    return [gift for gift in gifts if _matches(gift, link.digest)]


def send_manage_link(digest: str, language: str, link_template: str) -> bool:
    """Mail one link to the address's manageable gifts, if it has any. ``link_template`` is the
    page's absolute address with ``TOKEN_SLOT`` where the token goes. False if nothing was sent
    (the address gives nothing monthly: nothing is said to anyone)."""
    gifts = gifts_of(digest)
    if not gifts:
        return False
    link = link_template.replace(TOKEN_SLOT, make_token(digest, gifts), 1)
    try:
        link_message(gifts[0].email, language, link).send()
    except Exception:
        # Without the original error: it can name the address.
        raise LinkNotSent("the link to manage a monthly gift could not be emailed") from None
    return True


def link_message(email: str, language: str, link: str) -> EmailMessage:
    """A neutral email: the foundation's name and the link; no campaign, no amount."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    minutes = max(1, settings.ZBOR_MONTHLY_LINK_SECONDS // 60)
    with translation.override(language):
        subject = _("Your link from %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}
        lines = [
            ngettext(
                "You asked for a link to change, pause or stop your monthly gift. It works for %(minutes)s minute:",
                "You asked for a link to change, pause or stop your monthly gift. It works for %(minutes)s minutes:",
                minutes,
            )
            % {"minutes": minutes},
            "",
            link,
            "",
            _("If you did not ask for it, ignore this email: nothing changes."),
            "",
            settings.ZBOR_FOUNDATION_NAME,
            "",
        ]
        return EmailMessage(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [email])


def manage_note(language: str) -> str:
    """The line a monthly payment's receipt ends with: where to change or stop the gift (the
    page that asks for a link; a link itself would expire long before the next receipt)."""
    with translation.override(language):
        note = _("To change, pause or stop your monthly gift, use “Manage my monthly gift” at the foot of our site.")
        if settings.ZBOR_PUBLIC_URL:
            note += " " + settings.ZBOR_PUBLIC_URL + reverse("site:monthly_manage")
    return note
