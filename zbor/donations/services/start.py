"""Starting a donation (and ending one that was never paid): the pending row, its idempotency
key and the provider's checkout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from zbor.campaigns.models import Campaign, Need, Status
from zbor.logs import event
from zbor.money import Money, format_money, minor_digits
from zbor.payments import registry
from zbor.payments.base import CheckoutRequest, ProviderUnavailable
from zbor.tasks import enqueue_on_commit

from ..exceptions import DonationRefused, PaymentNotStarted
from ..models import Donation, DonationStatus, MessageStatus

log = logging.getLogger(__name__)

ACCEPTING = (Status.PUBLISHED, Status.FUNDED)


def max_donation(currency: str) -> int:
    return settings.ZBOR_MAX_DONATION * 10 ** minor_digits(currency)


def check_donation(campaign: Campaign, *, amount: int, need: Need | None) -> None:
    """Raise DonationRefused with the donor-facing reason, or return."""
    if campaign.status not in ACCEPTING:
        raise DonationRefused(_("This campaign is not taking donations."))
    if need is not None and need.campaign_id != campaign.pk:
        raise DonationRefused(_("Choose one of this campaign's needs."))
    if amount <= 0:
        raise DonationRefused(_("Enter an amount greater than zero."))
    if amount > max_donation(campaign.currency):
        limit = format_money(
            Money(max_donation(campaign.currency), campaign.currency), translation.get_language() or "en"
        )
        raise DonationRefused(_("A single donation can be at most %(limit)s.") % {"limit": limit})


def start_donation(
    campaign: Campaign,
    *,
    amount: int,
    need: Need | None,
    provider: str,
    idempotency_key: str,
    public_name: str = "",
    email: str = "",
    message: str = "",
    language: str = "en",
    return_url_for=lambda donation: "",
    new_donation_check: Callable[[], str] | None = None,
) -> Donation:
    """Record a pending donation and start its payment; the same idempotency key gives the same donation.

    ``return_url_for(donation)`` is where the provider sends the donor back (with ``?cancelled=1``
    if they cancel); it must not name the campaign (the provider sees it).

    A provider drawing its reference here (``local_checkout``: a bank reference, the demo's
    checkout) has it written in the same INSERT as the donation. Any other provider is called
    after the donation row is committed, so that one timing out leaves a pending donation
    that the same form, submitted again, picks up.

    ``new_donation_check()`` runs only when this call makes a new donation, in its transaction;
    it returns "" to go on, or the donor-facing reason to refuse (the row is then not kept).
    The web form checks its proof of work this way, so that the same form sent twice at once
    (a double click landing on two servers) is one donation and never asks for a second proof.
    """
    check_donation(campaign, amount=amount, need=need)
    chosen = registry.get(provider)
    if chosen is None:
        raise DonationRefused(_("Choose a payment method."))
    for _attempt in range(REFERENCE_DRAWS):
        donation = Donation(
            campaign=campaign,
            need=need,
            amount=amount,
            currency=campaign.currency,
            provider=provider,
            idempotency_key=idempotency_key,
            public_name=public_name.strip(),
            email=email.strip(),
            message=message.strip(),
            message_status=MessageStatus.PENDING if message.strip() else MessageStatus.NONE,
            language=language,
        )
        if chosen.local_checkout:
            start = chosen.start_checkout(_checkout_request(donation, return_url_for(donation)))
            donation.checkout_reference, donation.checkout_url = start.provider_reference, start.redirect_url
        # Alone, one statement is its own transaction; inside another, it needs a savepoint
        # (a refused duplicate must not abort the outer transaction).
        alone = new_donation_check is None and not connection.in_atomic_block
        try:
            with nullcontext() if alone else transaction.atomic():
                donation.save(force_insert=True)
                refusal = new_donation_check() if new_donation_check is not None else ""
                if refusal:
                    raise DonationRefused(refusal)
        except IntegrityError:
            existing = Donation.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None and donation.checkout_reference:
                continue  # the reference drawn was another donation's: draw a new one
            if existing is None:
                raise
            if existing.campaign_id != campaign.pk:
                raise DonationRefused(_("This form was already used. Please reload the page.")) from None
            donation = existing
        else:
            _send_bank_instructions(donation)
            transaction.on_commit(
                partial(event, "donation.started", public_id=str(donation.public_id)[:8], provider=provider)
            )
        if donation.checkout_reference:
            return donation
        return _start_checkout(donation, return_url_for(donation))
    raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again."))


def _send_bank_instructions(donation: Donation) -> None:
    """A new bank pledge with an email: the transfer details go to that address, once, after
    the pledge commits (a queue that is down leaves them to the sweep)."""
    if donation.provider == "bank" and donation.email:
        from ..tasks import send_bank_instructions

        enqueue_on_commit(send_bank_instructions, donation.pk)


#: How often a locally drawn reference is drawn again when it collides with another donation's.
REFERENCE_DRAWS = 5


def _checkout_request(donation: Donation, return_url: str) -> CheckoutRequest:
    return CheckoutRequest(
        donation_reference=str(donation.public_id),
        amount=donation.amount,
        currency=donation.currency,
        success_url=return_url,
        cancel_url=return_url + "?cancelled=1" if return_url else "",
        idempotency_key=f"zbor-checkout-{donation.public_id}",
        language=donation.language,
    )


def _start_checkout(donation: Donation, return_url: str) -> Donation:
    """Start the payment of a donation recorded without one (a card payment: the provider is
    called after the row is committed, so that a provider timing out loses nothing)."""
    provider = registry.get(donation.provider)
    if provider is None:
        # A donation started earlier, by the same form (same idempotency key), with a payment
        # method that has been switched off since: that form cannot be used again.
        raise DonationRefused(_("This form was already used. Please reload the page."))
    request = _checkout_request(donation, return_url)
    for _attempt in range(REFERENCE_DRAWS):
        try:
            start = provider.start_checkout(request)
        except ProviderUnavailable:
            log.warning("checkout could not start for donation %s", donation.public_id)
            raise PaymentNotStarted(
                _("The payment could not be started. Nothing was charged; please try again.")
            ) from None
        try:
            with transaction.atomic():
                updated = Donation.objects.filter(pk=donation.pk, checkout_reference="").update(
                    checkout_reference=start.provider_reference, checkout_url=start.redirect_url
                )
        except IntegrityError:
            continue  # a reference collided with another donation's: draw a new one
        if updated:
            donation.checkout_reference, donation.checkout_url = start.provider_reference, start.redirect_url
        else:  # the same form, sent twice at once, started its checkout in the other request
            donation.refresh_from_db()
        return donation
    raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again."))


def end_unpaid(donation: Donation, *, status: str) -> bool:
    """A pending donation failed, was cancelled or expired: nothing moves, and nothing the donor
    typed is kept (email, public name, message)."""
    updated = Donation.objects.filter(pk=donation.pk, status=DonationStatus.PENDING).update(
        status=status, email="", public_name="", message="", message_status=MessageStatus.NONE
    )
    donation.refresh_from_db()
    return bool(updated)
