"""`zbor reconcile --stripe-monthly`: Zbor's monthly card gifts against Stripe Billing.

Stripe is read first (``zbor.payments.stripe_billing``: the subscriptions it still bills, the
paid invoices of the last ``ZBOR_STRIPE_INVOICE_DAYS`` days), then compared with the gifts and
donations, so that a month booked while Stripe was being read is never a false difference.
Each line names ids, amounts and statuses only, never a donor.

1. Every paid invoice of a Zbor subscription has its month's donation, succeeded, for the
   invoice's amount. An invoice paid within ``ZBOR_STRANDED_EVENT_SECONDS`` is skipped (its
   webhook may be on its way); one whose month waits for finance is listed by the events check,
   and one finance returned (declined) is settled.
   With ``book_missing`` (``--book-missing-months``) a month whose webhook never arrived is
   booked now, through the path a webhook takes (``events.receive_event``) under the event id
   ``reconcile:<invoice>``: the month's donation is unique per invoice, so a webhook that arrives
   later books nothing.
2. Every running Zbor gift (active, failing, paused) has its subscription running at Stripe in
   the same state (active, past due or unpaid, paused) and for the same amount.
3. No subscription Stripe bills with Zbor's ``zbor_gift`` metadata is unknown to Zbor, waits
   as pending (its checkout's completion never arrived), or belongs to a stopped gift.

Example, a month whose webhook was lost:
    DIFFERENCE: Stripe invoice in_1Q… (1000 EUR, subscription sub_1P…) was paid, Zbor has no donation for it
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from zbor.payments import registry
from zbor.payments.base import ProviderUnavailable
from zbor.payments.models import EventStatus, PaymentEventRecord
from zbor.payments.stripe import StripeProvider
from zbor.payments.stripe_billing import RUNNING, PaidInvoice, SubscriptionState

from . import events
from .models import DonationStatus, MonthlyGift, MonthlyStatus
from .selectors import by_checkout, in_chunks

#: What Stripe says of a subscription whose Zbor gift is in each running status.
EXPECTED: dict[str, str] = {
    MonthlyStatus.ACTIVE: "active",
    MonthlyStatus.FAILING: "past due or unpaid",
    MonthlyStatus.PAUSED: "paused",
}


@dataclass
class StripeBilling:
    """What Stripe was read to hold. ``readable`` False: it could not be read, ``problems`` says
    why, and nothing is compared."""

    readable: bool = True
    subscriptions: list[SubscriptionState] = field(default_factory=list)
    invoices: list[PaidInvoice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Months booked now (``book_missing``), one line each.
    booked: list[str] = field(default_factory=list)


def read_billing(*, book_missing: bool = False) -> StripeBilling:
    """Read Stripe (configured: else a problem says so), and book the months whose webhook
    never arrived when ``book_missing``."""
    billing = StripeBilling()
    provider = registry.get("stripe")
    if not isinstance(provider, StripeProvider):
        billing.problems.append("Stripe monthly gifts: Stripe is not configured, nothing was compared")
        billing.readable = False
        return billing
    since = timezone.now() - timedelta(days=settings.ZBOR_STRIPE_INVOICE_DAYS)
    try:
        billing.subscriptions = list(provider.running_subscriptions())
        billing.invoices = list(provider.paid_invoices(since))
    except ProviderUnavailable as exc:
        billing.problems.append(f"Stripe monthly gifts could not be read: {exc}")
        billing.readable = False
        return billing
    if book_missing:
        _book_missing(billing, provider)
    return billing


def _settled(invoices: list[PaidInvoice]) -> list[PaidInvoice]:
    """Invoices paid long enough ago that their webhook should have been handled."""
    before = timezone.now() - timedelta(seconds=settings.ZBOR_STRANDED_EVENT_SECONDS)
    return [i for i in invoices if i.paid_at is None or i.paid_at < before]


def _zbors(billing: StripeBilling) -> list[PaidInvoice]:
    """The invoices of Zbor's subscriptions: by the gift in their metadata, or a known reference."""
    known: set[str] = set()
    for chunk in in_chunks(sorted({i.subscription for i in billing.invoices if not i.gift})):
        known.update(
            MonthlyGift.objects.filter(provider="stripe", reference__in=chunk).values_list("reference", flat=True)
        )
    return [i for i in _settled(billing.invoices) if i.gift or i.subscription in known]


def _book_missing(billing: StripeBilling, provider: StripeProvider) -> None:
    invoices = _zbors(billing)
    booked = by_checkout("stripe", [i.reference for i in invoices])
    for invoice in invoices:
        if invoice.reference in booked:
            continue
        try:
            event = provider.invoice_paid_event(invoice.reference, f"reconcile:{invoice.reference}")
        except ProviderUnavailable as exc:
            billing.problems.append(f"Stripe invoice {invoice.reference} could not be read to book it: {exc}")
            continue
        if event is None:
            continue
        record = events.receive_event(event)
        billing.booked.append(f"Stripe invoice {invoice.reference}: its month was missing, now {record.status}")


def problems(billing: StripeBilling) -> list[str]:
    """The differences between Stripe (as read) and Zbor's gifts and donations."""
    out = list(billing.problems)
    if not billing.readable:
        return out
    out += _invoice_problems(_zbors(billing))
    out += _subscription_problems(billing.subscriptions)
    out += _gift_problems({s.reference for s in billing.subscriptions})
    return out


def _invoice_problems(invoices: list[PaidInvoice]) -> list[str]:
    out = []
    donations = by_checkout("stripe", [i.reference for i in invoices])
    waiting = [r for r, d in donations.items() if d.status != DonationStatus.SUCCEEDED]
    # A month waiting for finance is the events check's line; one finance returned is settled.
    decided = set(
        PaymentEventRecord.objects.filter(
            provider="stripe", status__in=[EventStatus.REVIEW, EventStatus.DECLINED], checkout_reference__in=waiting
        ).values_list("checkout_reference", flat=True)
    )
    for invoice in invoices:
        money = f"{invoice.amount} {invoice.currency}"
        donation = donations.get(invoice.reference)
        if donation is None:
            out.append(
                f"Stripe invoice {invoice.reference} ({money}, subscription {invoice.subscription}) "
                "was paid, Zbor has no donation for it"
            )
        elif donation.status != DonationStatus.SUCCEEDED:
            if invoice.reference not in decided:
                out.append(f"Stripe invoice {invoice.reference} ({money}) was paid, its donation is {donation.status}")
        elif (donation.amount, donation.currency) != (invoice.amount, invoice.currency):
            out.append(
                f"Stripe invoice {invoice.reference}: Stripe {money}, "
                f"Zbor donation:{donation.public_id} {donation.amount} {donation.currency}"
            )
    return out


def _stripe_state(subscription: SubscriptionState) -> str:
    if subscription.paused:
        return "paused"
    if subscription.status in ("past_due", "unpaid"):
        return "past due or unpaid"
    return subscription.status


def _is_public_id(value: str) -> bool:
    """A gift id as Zbor writes it (32 hexadecimal digits): anything else names no gift."""
    try:
        return uuid.UUID(hex=value).hex == value
    except ValueError:
        return False


def _subscription_problems(subscriptions: list[SubscriptionState]) -> list[str]:
    ours = [s for s in subscriptions if s.gift]
    gifts: dict[str, MonthlyGift] = {}
    for chunk in in_chunks([s.gift for s in ours if _is_public_id(s.gift)]):
        for found in MonthlyGift.objects.filter(public_id__in=chunk).only(
            "public_id", "provider", "reference", "status", "amount", "currency"
        ):
            gifts[found.public_id.hex] = found
    out = []
    for subscription in ours:
        gift = gifts.get(subscription.gift)
        name = f"Stripe subscription {subscription.reference} ({subscription.status})"
        if gift is None or gift.provider != "stripe":
            out.append(f"{name} names a monthly gift {subscription.gift} unknown to Zbor")
        elif gift.status == MonthlyStatus.STOPPED:
            out.append(f"{name} still bills monthly gift {gift.public_id}, stopped in Zbor: cancel it at Stripe")
        elif gift.reference != subscription.reference:
            known = (
                f"knows it by {gift.reference}" if gift.reference else "has it pending (its checkout never completed)"
            )
            out.append(f"{name} bills monthly gift {gift.public_id}; Zbor {known}")
        elif EXPECTED.get(gift.status) != _stripe_state(subscription):
            out.append(
                f"{name}: monthly gift {gift.public_id} is {gift.status} in Zbor, {_stripe_state(subscription)} at Stripe"
            )
        elif (subscription.amount, subscription.currency) != (gift.amount, gift.currency):
            out.append(
                f"{name} bills {subscription.amount} {subscription.currency} a month, "
                f"monthly gift {gift.public_id} says {gift.amount} {gift.currency}"
            )
    return out


def _gift_problems(running: set[str]) -> list[str]:
    """Zbor's running gifts whose subscription Stripe does not bill any more (each one read)."""
    provider = registry.get("stripe")
    out = []
    gifts = (
        MonthlyGift.objects.filter(provider="stripe", status__in=list(EXPECTED))
        .exclude(reference="")
        .only("public_id", "reference", "status")
    )
    for gift in gifts.iterator():
        if gift.reference in running:
            continue  # compared by _subscription_problems
        try:
            state = provider.subscription_state(gift.reference) if isinstance(provider, StripeProvider) else None
        except ProviderUnavailable as exc:
            out.append(f"monthly gift {gift.public_id}: its subscription {gift.reference} could not be read: {exc}")
            continue
        if state is not None and state.status in RUNNING:
            continue  # it started running while the list was read
        at_stripe = f"is {state.status}" if state is not None else "does not exist"
        out.append(
            f"monthly gift {gift.public_id} is {gift.status} in Zbor, its subscription {gift.reference} {at_stripe} at Stripe"
        )
    return out
