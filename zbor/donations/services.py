"""Business actions on donations: start, confirm, take back, and the demo's recorded gifts.

Worked example, the demo's €683 (see docs/ledger.md): the first €200.00, unearmarked, fills
the first need; €100.00 earmarked to the second need goes there whole; later unearmarked gifts
fill the first need up to €500.00 and then the second. Each confirmation is one ledger group
``donation:<id>:succeeded``: provider clearing is debited, the need accounts credited.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Campaign, Need, Status
from zbor.ledger.models import Account, Transfer, TransferGroup, TransferKind
from zbor.ledger.services import Line, post_group
from zbor.money import Money, format_money, minor_digits, split_proportionally
from zbor.payments import registry
from zbor.payments.base import CheckoutRequest, ProviderUnavailable

from . import accounts
from .exceptions import DonationRefused, NotPaidYet, PaymentNotStarted
from .models import Donation, DonationStatus, MessageStatus
from .selectors import allocate, campaign_money

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
        limit = format_money(Money(max_donation(campaign.currency), campaign.currency), translation.get_language() or "en")
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
    success_url_for=lambda donation: "",
    cancel_url_for=lambda donation: "",
    new_donation_check: Callable[[], str] | None = None,
) -> Donation:
    """Record a pending donation and start its payment; the same idempotency key gives the same donation.

    ``success_url_for(donation)`` and ``cancel_url_for(donation)`` are where the provider sends
    the donor back; they must not name the campaign (the provider sees them).

    The donation row is committed before the provider is called, so a provider that times out
    leaves a pending donation that the same form, submitted again, picks up.

    ``new_donation_check()`` runs only when this call makes a new donation, in its transaction;
    it returns "" to go on, or the donor-facing reason to refuse (the row is then not kept).
    The web form checks its proof of work this way, so that the same form sent twice at once
    (a double click landing on two servers) is one donation and never asks for a second proof.
    """
    check_donation(campaign, amount=amount, need=need)
    if registry.get(provider) is None:
        raise DonationRefused(_("Choose a payment method."))
    try:
        with transaction.atomic():
            donation = Donation.objects.create(
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
            refusal = new_donation_check() if new_donation_check is not None else ""
            if refusal:
                raise DonationRefused(refusal)
    except IntegrityError:
        donation = Donation.objects.get(idempotency_key=idempotency_key)
        if donation.campaign_id != campaign.pk:
            raise DonationRefused(_("This form was already used. Please reload the page.")) from None
    if donation.checkout_reference:
        return donation
    return _start_checkout(donation, success_url=success_url_for(donation), cancel_url=cancel_url_for(donation))


def _start_checkout(donation: Donation, *, success_url: str, cancel_url: str) -> Donation:
    provider = registry.get(donation.provider)
    if provider is None:
        # A donation started earlier, by the same form (same idempotency key), with a payment
        # method that has been switched off since: that form cannot be used again.
        raise DonationRefused(_("This form was already used. Please reload the page."))
    request = CheckoutRequest(
        donation_reference=str(donation.public_id),
        amount=donation.amount,
        currency=donation.currency,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"zbor-checkout-{donation.public_id}",
        language=donation.language,
    )
    for _attempt in range(5):
        try:
            start = provider.start_checkout(request)
        except ProviderUnavailable:
            log.warning("checkout could not start for donation %s", donation.public_id)
            raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again.")) from None
        try:
            with transaction.atomic():
                updated = Donation.objects.filter(pk=donation.pk, checkout_reference="").update(
                    checkout_reference=start.provider_reference, checkout_url=start.redirect_url
                )
        except IntegrityError:
            continue  # a bank reference collided with another donation's: draw a new one
        if updated:
            donation.checkout_reference, donation.checkout_url = start.provider_reference, start.redirect_url
        else:  # the same form, sent twice at once, started its checkout in the other request
            donation.refresh_from_db()
        return donation
    raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again."))


def _campaign_lines(campaign: Campaign, donation: Donation, amount: int) -> list[Line]:
    needs = list(Need.objects.filter(campaign=campaign).order_by("position", "id"))
    if campaign.status in ACCEPTING:
        money = campaign_money(campaign.pk, [n.pk for n in needs])
        earmark = donation.need_id if donation.need_id in {n.pk for n in needs} else None
        shares, beyond = allocate([(n.pk, n.amount) for n in needs], money.raised_by_need, amount, earmark)
    else:
        # Money that arrives after the campaign closed (a late bank transfer) is kept for the
        # campaign, beyond its goal, where finance sees it; it fills no need.
        shares, beyond = {}, amount
    clearing = accounts.provider_account(donation.provider, donation.currency)
    by_id = {n.pk: n for n in needs}
    lines = [
        Line(clearing, accounts.need_account(by_id[need_id], donation.currency), share, TransferKind.DONATION)
        for need_id, share in shares.items()
    ]
    if beyond:
        lines.append(Line(clearing, accounts.unallocated_account(campaign), beyond, TransferKind.DONATION))
    return lines


def confirm_donation(
    donation: Donation,
    *,
    amount: int,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
) -> bool:
    """Mark the donation succeeded and post its ledger group; False if it had succeeded before.

    Locks the campaign row first, so concurrent confirmations to one campaign allocate one
    after another and no need is filled twice. ``amount`` is what the provider received (a
    bank transfer may differ from the pledge).
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=donation.campaign_id)
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        if locked.status == DonationStatus.SUCCEEDED:
            return False
        if amount <= 0:
            raise ValueError(f"confirmed amount must be positive, not {amount}")
        locked.amount = amount
        lines = _campaign_lines(campaign, locked, amount)
        if fee > 0:
            clearing = accounts.provider_account(locked.provider, locked.currency)
            lines.append(Line(accounts.fees_account(locked.provider, locked.currency), clearing, fee, TransferKind.FEE))
        post_group(f"{locked.reference}:succeeded", kind=TransferKind.DONATION, reference=locked.reference, lines=lines)
        locked.status = DonationStatus.SUCCEEDED
        locked.fee = max(fee, 0)
        locked.succeeded_at = timezone.now()
        locked.payment_reference = payment_reference or locked.payment_reference
        locked.charge_reference = charge_reference or locked.charge_reference
        locked.save(update_fields=["amount", "status", "fee", "succeeded_at", "payment_reference", "charge_reference"])
        goal = sum(Need.objects.filter(campaign=campaign).values_list("amount", flat=True))
        if campaign.status == Status.PUBLISHED and goal and campaign_money(campaign.pk, []).collected >= goal:
            campaign_services.mark_funded(campaign, by=None)
        if locked.email:
            from .tasks import send_receipt

            # robust: a queue that is down must not turn a committed donation into an error;
            # the daily sweep (tasks.forget_donor_emails) queues any receipt left unsent.
            transaction.on_commit(lambda: send_receipt.enqueue(locked.pk), robust=True)
    donation.refresh_from_db()
    return True


def end_unpaid(donation: Donation, *, status: str) -> bool:
    """A pending donation failed, was cancelled or expired: nothing moves, and nothing the donor
    typed is kept (email, public name, message)."""
    updated = Donation.objects.filter(pk=donation.pk, status=DonationStatus.PENDING).update(
        status=status, email="", public_name="", message="", message_status=MessageStatus.NONE
    )
    donation.refresh_from_db()
    return bool(updated)


def _net_by_account(donation: Donation) -> dict[int, int]:
    """What the donation still holds on each campaign account it credited (given, minus refunds
    and disputes, plus reinstated disputes), from its own ledger transfers."""
    net: dict[int, int] = {}
    transfers = list(Transfer.objects.filter(group__reference=donation.reference))
    for t in transfers:
        if t.kind == TransferKind.DONATION:
            net[t.credit_account_id] = net.get(t.credit_account_id, 0) + t.amount
    for t in transfers:
        if t.kind in (TransferKind.REFUND, TransferKind.DISPUTE) and t.debit_account_id in net:
            net[t.debit_account_id] -= t.amount
        elif t.kind == TransferKind.REINSTATEMENT and t.credit_account_id in net:
            net[t.credit_account_id] += t.amount
    return net


def _disputed_by_account(donation: Donation) -> dict[int, int]:
    held: dict[int, int] = {}
    for t in Transfer.objects.filter(group__reference=donation.reference, kind__in=[TransferKind.DISPUTE, TransferKind.REINSTATEMENT]):
        if t.kind == TransferKind.DISPUTE:
            held[t.debit_account_id] = held.get(t.debit_account_id, 0) + t.amount
        else:
            held[t.credit_account_id] = held.get(t.credit_account_id, 0) - t.amount
    return held


def _proportional(amount: int, weights: dict[int, int]) -> list[tuple[Account, int]]:
    """``amount`` split over the accounts in proportion to their weights, whole units, none lost;
    accounts with nothing to give and zero parts are left out."""
    account_ids = sorted(a for a, weight in weights.items() if weight > 0)
    parts = split_proportionally(amount, [weights[a] for a in account_ids])
    by_id = Account.objects.in_bulk(account_ids)
    return [(by_id[a], part) for a, part in zip(account_ids, parts, strict=True) if part > 0]


def take_back(donation: Donation, *, kind: str, key: str, amount: int = 0, cumulative: int | None = None) -> bool:
    """Reverse part of a succeeded donation — a refund or a dispute; False if nothing to do.

    For a refund give ``cumulative``, the charge's total refunds as the provider reports them
    (so a refund event delivered twice or late changes nothing); for a dispute give ``amount``.
    The reversal mirrors what the donation did: each campaign account it credited is debited in
    proportion to what the donation still holds there, in whole minor units adding up exactly.
    Providers keep their fee, so the fee is not reversed.
    """
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=donation.campaign_id)
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        if locked.status != DonationStatus.SUCCEEDED:
            raise NotPaidYet(str(locked.public_id))
        group_key = f"{locked.reference}:{key}"
        if TransferGroup.objects.filter(key=group_key).exists():
            return False
        if kind == TransferKind.REFUND:
            amount = (cumulative if cumulative is not None else locked.refunded + amount) - locked.refunded
        amount = min(amount, locked.amount - locked.refunded - locked.disputed)
        if amount <= 0:
            return False
        # Credited to the refunds or disputes account: a contra account of the provider's
        # clearing, so what went back is readable in one row (see docs/ledger.md).
        returned = accounts.returned_account(kind, locked.provider, locked.currency)
        lines = [
            Line(account, returned, part, kind) for account, part in _proportional(amount, _net_by_account(locked))
        ]
        post_group(group_key, kind=kind, reference=locked.reference, lines=lines)
        column = "refunded" if kind == TransferKind.REFUND else "disputed"
        Donation.objects.filter(pk=locked.pk).update(**{column: getattr(locked, column) + amount})
    donation.refresh_from_db()
    return True


def reinstate_dispute(donation: Donation, *, amount: int, key: str) -> bool:
    """A dispute was won and the money came back: return it to the accounts it was taken from."""
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=donation.campaign_id)
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        group_key = f"{locked.reference}:{key}"
        if locked.status != DonationStatus.SUCCEEDED or TransferGroup.objects.filter(key=group_key).exists():
            return False
        amount = min(amount, locked.disputed)
        if amount <= 0:
            return False
        disputes = accounts.returned_account(TransferKind.DISPUTE, locked.provider, locked.currency)
        lines = [
            Line(disputes, account, part, TransferKind.REINSTATEMENT)
            for account, part in _proportional(amount, _disputed_by_account(locked))
        ]
        post_group(group_key, kind=TransferKind.REINSTATEMENT, reference=locked.reference, lines=lines)
        Donation.objects.filter(pk=locked.pk).update(disputed=locked.disputed - amount)
    donation.refresh_from_db()
    return True


def purge_expired_emails() -> int:
    """Forget emails of donations that never completed within the retention period, and let
    bank pledges nobody paid expire (their reference no longer matches a statement line)."""
    cutoff = timezone.now() - timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS)
    old = Donation.objects.filter(created_at__lt=cutoff, receipt_sent_at__isnull=True)
    expired = old.filter(status=DonationStatus.PENDING, provider="bank").update(
        status=DonationStatus.EXPIRED, email="", public_name="", message="", message_status=MessageStatus.NONE
    )
    return old.exclude(email="").update(email="") + expired


def moderate_message(donation: Donation, *, approve: bool, by) -> None:
    """Make words of support public, or keep them hidden for good. Editors' job; audited."""
    if by is None or not by.has_perm("donations.moderate_messages"):
        raise PermissionDenied("Your role may not moderate words of support.")
    with transaction.atomic():
        Donation.objects.filter(pk=donation.pk).exclude(message="").update(
            message_status=MessageStatus.APPROVED if approve else MessageStatus.REJECTED
        )
        audit(by, "donation.message.approve" if approve else "donation.message.reject", donation, fields=["message_status"])


def record_demo_donation(campaign: Campaign, *, amount: int, need: Need | None = None) -> Donation:
    """A donation through the demo provider, confirmed at once. Demo settings only: real money
    only ever enters through a payment provider's confirmation."""
    if not getattr(settings, "ZBOR_DEMO", False):
        raise ImproperlyConfigured("Demo donations can only be recorded with demo settings.")
    if need is not None and need.campaign_id != campaign.pk:
        raise ValueError("The need belongs to another campaign.")
    donation = Donation.objects.create(
        campaign=campaign,
        need=need,
        amount=amount,
        currency=campaign.currency,
        provider="demo",
        checkout_reference=f"demo_seed_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )
    confirm_donation(donation, amount=amount)
    return donation
