"""Monthly gifts: starting one, each month's payment, and what the donor or staff change.

Each month's payment is an ordinary ``Donation`` (``monthly_gift`` set) booked through the
usual queue (``booking.confirm_donation``), so receipts, refunds, disputes, exports and the
ledger treat it like any gift. It is made exactly once per (provider, invoice reference): the
donation's unique (provider, checkout reference) decides, not a check in Python.

    A €10 monthly gift by the demo provider: the checkout completes the first month
    (SUBSCRIPTION_STARTED, then MONTHLY_PAID "demo_inv_…_1"), which becomes a €10 donation
    booked like any other; ``zbor demo_advance_month`` bills the second ("…_2"), and so on.

Stopping, pausing and changing a gift are in ``monthly_changes``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.cache import SingleFlight
from zbor.campaigns.models import Campaign
from zbor.payments import registry
from zbor.payments.base import Provider, ProviderUnavailable, SubscriptionRequest
from zbor.payments.models import EventStatus, PaymentEventRecord

from ..exceptions import DonationRefused, PaymentNotStarted
from ..models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from .booking import confirm_donation
from .start import ACCEPTING, REFERENCE_DRAWS, max_donation

log = logging.getLogger(__name__)


def monthly_destination(gift: MonthlyGift) -> Campaign | None:
    """Where this month's money goes: the campaign the donor chose while it takes donations,
    then the fund the foundation named for it; None if there is nowhere (finance decides)."""
    return gift.campaign.monthly_target()


def _check(campaign: Campaign, *, amount: int, provider: Provider | None, email: str) -> Provider:
    if campaign.status not in ACCEPTING or campaign.has_ended():
        raise DonationRefused(_("This campaign is not taking donations."))
    if amount <= 0:
        raise DonationRefused(_("Enter an amount greater than zero."))
    if amount > max_donation(campaign.currency):
        raise DonationRefused(_("A monthly gift this large cannot be given here."))
    if provider is None or not getattr(provider, "monthly", False):
        raise DonationRefused(_("Choose a payment method that takes monthly gifts."))
    if not email.strip():
        raise DonationRefused(_("A monthly gift needs an email address, to manage or stop it."))
    return provider


def start_monthly(
    campaign: Campaign,
    *,
    amount: int,
    provider: str,
    email: str,
    language: str,
    idempotency_key: str,
    return_url_for: Callable[[MonthlyGift], str] = lambda gift: "",
    new_donation_check: Callable[[], str] | None = None,
) -> MonthlyGift:
    """Record a pending monthly gift and start its first checkout; the same idempotency key
    gives the same gift (as ``start_donation``). A local provider (demo, bank) draws its
    reference in the same INSERT: the demo's subscription, the bank's permanent standing-order
    reference. Any other is called once the row is committed."""
    chosen = _check(campaign, amount=amount, provider=registry.get(provider), email=email)
    for _attempt in range(REFERENCE_DRAWS):
        gift = MonthlyGift(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            provider=provider,
            email=email.strip(),
            language=language,
            idempotency_key=idempotency_key,
        )
        if chosen.local_checkout:
            start = chosen.start_subscription(_request(gift, return_url_for(gift)))
            gift.reference = start.provider_reference
            gift.checkout_reference = start.provider_reference if start.redirect_url else ""
            gift.checkout_url = start.redirect_url
        alone = new_donation_check is None and not connection.in_atomic_block
        try:
            with nullcontext() if alone else transaction.atomic():
                gift.save(force_insert=True)
                refusal = new_donation_check() if new_donation_check is not None else ""
                if refusal:
                    raise DonationRefused(refusal)
        except IntegrityError:
            existing = MonthlyGift.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None and gift.reference:
                continue  # the reference drawn was another gift's: draw a new one
            if existing is None:
                raise
            if existing.campaign_id != campaign.pk:
                raise DonationRefused(_("This form was already used. Please reload the page.")) from None
            gift = existing
        if gift.reference or gift.checkout_reference:
            return gift
        return _start_checkout(gift, chosen, return_url_for(gift))
    raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again."))


def _request(gift: MonthlyGift, return_url: str) -> SubscriptionRequest:
    return SubscriptionRequest(
        gift_reference=gift.public_id.hex,
        amount=gift.amount,
        currency=gift.currency,
        success_url=return_url,
        cancel_url=return_url + "?cancelled=1" if return_url else "",
        idempotency_key=f"zbor-monthly-{gift.public_id.hex}",
        language=gift.language,
    )


def _start_checkout(gift: MonthlyGift, provider: Provider, return_url: str) -> MonthlyGift:
    try:
        start = provider.start_subscription(_request(gift, return_url))
    except ProviderUnavailable:
        log.warning("monthly checkout could not start for gift %s", gift.public_id)
        raise PaymentNotStarted(
            _("The payment could not be started. Nothing was charged; please try again.")
        ) from None
    if MonthlyGift.objects.filter(pk=gift.pk, checkout_reference="").update(
        checkout_reference=start.provider_reference, checkout_url=start.redirect_url
    ):
        gift.checkout_reference, gift.checkout_url = start.provider_reference, start.redirect_url
    else:  # the same form, sent twice at once, started its checkout in the other request
        gift.refresh_from_db()
    return gift


def activate_monthly(gift: MonthlyGift, *, reference: str = "", customer_reference: str = "") -> bool:
    """The donor completed the first checkout (or the first transfer arrived): the gift runs.
    ``reference`` is the provider's subscription (when it is known only now). False if it was
    not pending."""
    changes: dict = {"status": MonthlyStatus.ACTIVE, "started_at": timezone.now()}
    if reference:
        changes["reference"] = reference
    if customer_reference:
        changes["customer_reference"] = customer_reference
    updated = MonthlyGift.objects.filter(pk=gift.pk, status=MonthlyStatus.PENDING).update(**changes)
    gift.refresh_from_db()
    return bool(updated)


def _next_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def record_monthly_payment(
    gift: MonthlyGift,
    *,
    invoice_reference: str,
    amount: int,
    currency: str,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
    event: PaymentEventRecord | None = None,
    paid_on: date | None = None,
) -> Donation | None:
    """One month of a gift was paid: its donation is made once per (provider, invoice
    reference), for the gift's amount at this time, to ``monthly_destination(gift)``, then
    booked like any payment. Returns that donation; None when it waits for finance instead
    (another amount or currency, above the maximum, or nowhere to go): ``event`` is then
    marked REVIEW with what was pledged, as for one-off gifts. ``paid_on`` is the day the
    money arrived when the provider says it (a bank line's booking day), else today."""
    if not invoice_reference:
        raise ValueError("a monthly payment needs its invoice reference")
    destination = monthly_destination(gift)
    donation = _month_donation(gift, invoice_reference, destination or gift.campaign)
    if donation.status == DonationStatus.SUCCEEDED:
        return donation  # booked before: the same invoice told twice
    if (
        destination is None
        or amount != donation.amount
        or (currency and currency != donation.currency)
        or amount > max_donation(donation.currency)
    ):
        log.error("%s monthly payment %s for gift %s differs from the pledge", gift.provider, amount, gift.pk)
        if event is not None:
            event.pledged = donation.amount
            event.status = EventStatus.REVIEW
            event.attempts += 1
            event.save(update_fields=["pledged", "status", "attempts"])
        return None
    confirm_donation(
        donation,
        amount=amount,
        fee=fee,
        payment_reference=payment_reference,
        charge_reference=charge_reference,
        event=event,
    )
    month_paid(gift, paid_on=paid_on)
    return donation


def month_donation(gift: MonthlyGift, invoice_reference: str, campaign: Campaign) -> Donation:
    """The month's donation, not saved: its checkout reference is ``invoice_reference``,
    unique per provider, so that a month is made once."""
    key = hashlib.sha256(f"monthly:{gift.provider}:{invoice_reference}".encode()).hexdigest()
    return Donation(
        campaign=campaign,
        amount=gift.amount,
        currency=gift.currency,
        provider=gift.provider,
        checkout_reference=invoice_reference,
        idempotency_key=key,
        monthly_gift=gift,
        # A copy for this month's receipt, forgotten once it is sent (like any gift's).
        email=gift.email,
        language=gift.language,
    )


def _month_donation(gift: MonthlyGift, invoice_reference: str, campaign: Campaign) -> Donation:
    """The month's donation, made now or found (the unique provider + checkout reference)."""
    donation = month_donation(gift, invoice_reference, campaign)
    try:
        with transaction.atomic():
            donation.save(force_insert=True)
    except IntegrityError:
        return Donation.objects.get(provider=gift.provider, checkout_reference=invoice_reference)
    return donation


def month_paid(gift: MonthlyGift, *, paid_on: date | None = None) -> None:
    """A month of the gift was booked: the next is expected a month after ``paid_on`` (the
    day the money arrived; today if not given), never earlier than expected before (an older
    statement imported late does not move it back)."""
    now = timezone.now()
    expected = _next_month(paid_on or timezone.localdate())
    MonthlyGift.objects.filter(pk=gift.pk).update(last_paid_at=now)
    MonthlyGift.objects.filter(
        Q(pk=gift.pk) & (Q(next_expected_on__isnull=True) | Q(next_expected_on__lt=expected))
    ).update(next_expected_on=expected)
    # The first transfer of a standing order starts it; a payment after failures mends it, and
    # a standing order that lapsed and pays again runs again.
    MonthlyGift.objects.filter(pk=gift.pk, status=MonthlyStatus.PENDING).update(
        status=MonthlyStatus.ACTIVE, started_at=now
    )
    MonthlyGift.objects.filter(pk=gift.pk, status__in=[MonthlyStatus.FAILING, MonthlyStatus.LAPSED]).update(
        status=MonthlyStatus.ACTIVE
    )
    gift.refresh_from_db()


def monthly_failed(gift: MonthlyGift) -> bool:
    """A month's card payment failed: the gift is failing (the provider retries it)."""
    updated = MonthlyGift.objects.filter(pk=gift.pk, status=MonthlyStatus.ACTIVE).update(status=MonthlyStatus.FAILING)
    gift.refresh_from_db()
    return bool(updated)


MONTHLY_SUPPORTER_SECONDS = 15 * 60
SUPPORTER_COUNTS = SingleFlight(seconds=MONTHLY_SUPPORTER_SECONDS, max_entries=5000)


def monthly_supporters(campaign: Campaign) -> int:
    """How many gifts to this campaign are active: a count only, read at most once per
    MONTHLY_SUPPORTER_SECONDS (like the donor count, ``selectors.support_and_donor_count``)."""
    return SUPPORTER_COUNTS.get_or_make(
        campaign.pk,
        lambda: MonthlyGift.objects.filter(Q(campaign_id=campaign.pk) & Q(status=MonthlyStatus.ACTIVE)).count(),
    )


def forget_stopped_emails(cutoff) -> int:
    """Stopped gifts' emails kept for a receipt, forgotten after the retention period."""
    return (
        MonthlyGift.objects.filter(status=MonthlyStatus.STOPPED, stopped_at__lt=cutoff)
        .exclude(email="")
        .update(email="")
    )


def expire_pending_gifts(now) -> int:
    """Stop gifts whose first payment never came within ``ZBOR_MONTHLY_PENDING_DAYS`` of the
    form (a card checkout abandoned, a standing order never set up), forgetting their email:
    nothing was ever paid, so no receipt needs it. A standing order's reference that pays later
    waits in the unmatched queue, as any stopped one's does."""
    cutoff = now - timedelta(days=settings.ZBOR_MONTHLY_PENDING_DAYS)
    return MonthlyGift.objects.filter(status=MonthlyStatus.PENDING, created_at__lt=cutoff).update(
        status=MonthlyStatus.STOPPED, stop_reason=StopReason.LAPSED, stopped_at=now, email=""
    )


def gift_by_reference(provider: str, reference: str) -> MonthlyGift | None:
    if not reference:
        return None
    return MonthlyGift.objects.filter(provider=provider, reference=reference).exclude(reference="").first()


def gift_by_checkout(provider: str, checkout_reference: str) -> MonthlyGift | None:
    if not checkout_reference:
        return None
    return (
        MonthlyGift.objects.filter(provider=provider, checkout_reference=checkout_reference)
        .exclude(checkout_reference="")
        .first()
    )
