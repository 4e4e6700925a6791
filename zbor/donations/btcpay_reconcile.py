"""`zbor reconcile --btcpay`: Zbor's Bitcoin donations against the BTCPay Server store.

BTCPay is read through its Greenfield API (``zbor.payments.btcpay``: the store's settled
invoices, a page at a time), then compared with the donations. Each line names invoice ids,
amounts and statuses only, never a donor.

1. Every settled invoice of the store names a donation of Zbor's, succeeded. One still pending
   (or expired) whose webhook never arrived is booked now, through the path a webhook takes
   (``events.receive_event``) under the webhook's own event id (``<invoice>:InvoiceSettled``):
   the webhook arriving later finds that event and books nothing. A settlement whose amount
   differs waits in finance's review queue (listed by the events check); one finance returned
   is settled.
2. A pending donation whose invoice expired or turned invalid at BTCPay, its webhook lost, ends
   now as that webhook would have ended it (same event id); money on an expired invoice goes to
   finance's review queue.
3. Every succeeded Bitcoin donation has its invoice settled at BTCPay for the donation's amount
   (what arrived, at BTCPay's rate), or was accepted by finance from money that arrived on an
   expired invoice (BTCPay: Expired, PaidLate or PaidPartial) for what arrived.

Example, a webhook that was lost, then a donation BTCPay does not know as settled:
    BOOKED: BTCPay invoice 9Mp6sJg6Gc8UEMXKi4jk2t: 25.00 EUR settled, booked now
    DIFFERENCE: Bitcoin donation 3f0c… (2500 EUR) is succeeded, its BTCPay invoice 7Xq… is Invalid
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from zbor.money import minor_digits
from zbor.payments import registry
from zbor.payments.base import EventType, ProviderUnavailable
from zbor.payments.btcpay import BtcpayProvider, settled_event_id
from zbor.payments.models import EventStatus, PaymentEventRecord

from . import events
from .models import Donation, DonationStatus
from .selectors import by_checkout, in_chunks

CHUNK = 500
#: BTCPay's additional statuses of an expired invoice that money reached (finance decides).
ARRIVED_LATE = ("PaidLate", "PaidPartial")


@dataclass
class BtcpayStore:
    """What the store was read to hold and what comparing it found."""

    settled: int = 0
    booked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _decided(references: list[str]) -> set[str]:
    """Invoices whose payment waits for finance or was returned by finance: not booked here."""
    decided: set[str] = set()
    for chunk in in_chunks(references):
        decided.update(
            PaymentEventRecord.objects.filter(
                provider="btcpay",
                checkout_reference__in=chunk,
                status__in=[EventStatus.REVIEW, EventStatus.DECLINED, EventStatus.ATTENTION],
            ).values_list("checkout_reference", flat=True)
        )
    return decided


def reconcile_store() -> BtcpayStore:
    """Read the store, book what a lost webhook left unbooked, and list the differences."""
    store = BtcpayStore()
    provider = registry.get("btcpay")
    if not isinstance(provider, BtcpayProvider):
        store.problems.append("BTCPay: the btcpay provider is not configured, nothing was compared")
        return store
    try:
        settled = {str(i["id"]): i for i in provider.invoices(status=("Settled",)) if i.get("id")}
        store.settled = len(settled)
        _book_settled(store, provider, settled)
        _end_pending(store, provider, settled)
        _check_succeeded(store, provider, settled)
    except ProviderUnavailable as exc:
        store.problems.append(f"BTCPay could not be read: {exc}")
    return store


def _book_settled(store: BtcpayStore, provider: BtcpayProvider, settled: dict[str, dict]) -> None:
    references = sorted(settled)
    donations = by_checkout("btcpay", references)
    decided = _decided(references)
    for invoice_id, invoice in settled.items():
        donation = donations.get(invoice_id)
        if donation is None:
            store.problems.append(
                f"BTCPay invoice {invoice_id} ({invoice.get('amount')} {invoice.get('currency')}) is settled, "
                "Zbor has no donation for it"
            )
            continue
        if donation.status == DonationStatus.SUCCEEDED or invoice_id in decided:
            continue
        record = events.receive_event(provider.paid_event(invoice, event_id=settled_event_id(invoice_id)))
        if record.status == EventStatus.PROCESSED:
            store.booked.append(
                f"BTCPay invoice {invoice_id}: {invoice.get('amount')} {invoice.get('currency')} settled, booked now"
            )
        # Otherwise it waits for finance (REVIEW) or needs a look (ATTENTION): the events check lists it.


def _end_pending(store: BtcpayStore, provider: BtcpayProvider, settled: dict[str, dict]) -> None:
    """A pending donation whose invoice expired or turned invalid at BTCPay without its webhook
    arriving ends now, as the webhook would have ended it (the same event id); money on an
    expired invoice goes to the review queue."""
    pending = (
        Donation.objects.filter(provider="btcpay", status=DonationStatus.PENDING)
        .exclude(checkout_reference="")
        .values_list("checkout_reference", flat=True)
    )
    for invoice_id in [i for i in pending.iterator(chunk_size=CHUNK) if i not in settled]:
        invoice = provider.invoice(invoice_id)
        event = provider.state_event(invoice)
        if event is None:
            continue  # still open at BTCPay
        record = events.receive_event(event)
        if record.status == EventStatus.PROCESSED and event.type in (EventType.EXPIRED, EventType.FAILED):
            store.booked.append(
                f"BTCPay invoice {invoice_id} is {invoice.get('status')}: its pending donation ended now"
            )
        # Money on an expired invoice waits for finance (REVIEW): the events check lists it.


def _check_succeeded(store: BtcpayStore, provider: BtcpayProvider, settled: dict[str, dict]) -> None:
    succeeded = Donation.objects.filter(provider="btcpay", status=DonationStatus.SUCCEEDED).only(
        "checkout_reference", "amount", "currency", "public_id"
    )
    for donation in succeeded.iterator(chunk_size=CHUNK):
        invoice_id = donation.checkout_reference
        invoice = settled.get(invoice_id) or provider.invoice(invoice_id)
        status, additional = invoice.get("status"), invoice.get("additionalStatus")
        named = f"Bitcoin donation {donation.public_id} ({donation.amount} {donation.currency})"
        if status != "Settled" and not (status == "Expired" and additional in ARRIVED_LATE):
            store.problems.append(f"{named} is succeeded, its BTCPay invoice {invoice_id} is {status}")
            continue
        # Paid as asked: the invoice's own amount; overpaid, marked, or money on an expired
        # invoice: what arrived (one more request, for the few that are).
        arrived = _amount_of(invoice, donation) if status == "Settled" and additional == "None" else None
        if arrived is None:
            arrived = provider.paid_event(invoice, event_id="").amount
        currency = str(invoice.get("currency", "")).upper()
        if currency != donation.currency or arrived != donation.amount:
            store.problems.append(f"{named}: its BTCPay invoice {invoice_id} ({status}) brought {arrived} {currency}")


def _amount_of(invoice: dict, donation: Donation) -> int | None:
    """The invoice's own amount in the donation's minor units, when it reads exactly."""
    try:
        value = Decimal(str(invoice.get("amount"))).scaleb(minor_digits(donation.currency))
    except (InvalidOperation, ValueError):
        return None
    return int(value) if value == value.to_integral_value() else None
