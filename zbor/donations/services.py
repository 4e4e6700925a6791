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
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Campaign, Need, Status
from zbor.db import insert
from zbor.ledger import chart as accounts
from zbor.ledger.models import Account, Transfer, TransferGroup, TransferKind
from zbor.ledger.services import Line, NewGroup, post_group, post_new_groups
from zbor.money import Money, format_money, minor_digits, split_proportionally
from zbor.payments import registry
from zbor.payments.base import CheckoutRequest, ProviderUnavailable
from zbor.payments.models import EventStatus, PaymentEventRecord
from zbor.tasks import enqueue_on_commit

from .exceptions import DonationRefused, NotPaidYet, PaymentNotStarted
from .models import Confirmation, Donation, DonationStatus, MessageStatus
from .selectors import CampaignMoney, allocate, money_from_balances

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
                insert(donation)
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
        if donation.checkout_reference:
            return donation
        return _start_checkout(donation, return_url_for(donation))
    raise PaymentNotStarted(_("The payment could not be started. Nothing was charged; please try again."))


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


#: The most confirmations one turn of a campaign's lock books.
BATCH = 500


def confirm_donation(
    donation: Donation,
    *,
    amount: int,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
    event: PaymentEventRecord | None = None,
) -> bool:
    """Book a payment its provider confirmed: the donation succeeds and its ledger group is
    posted. False if it had succeeded before. ``amount`` is what the provider received (a bank
    transfer may differ from the pledge); ``event``, the provider's event, is marked processed
    in the same transaction as the ledger write. The ``donation`` object is not reloaded.

    Two steps, so that confirmations to one campaign arriving together are booked together
    (group commit): the confirmation is queued and committed, then the campaign's row is
    locked and every confirmation waiting for it is booked in one transaction
    (``book_confirmations``). Whoever holds the lock books the others' too, and they find their
    work done when their turn comes: a campaign receiving hundreds of donations a second takes
    its lock a few times a second. Concurrent confirmations to one campaign are booked one
    after another, so no need is filled twice. Inside an outer transaction (a bank statement
    import) both steps are part of it.
    """
    if amount <= 0:
        raise ValueError(f"confirmed amount must be positive, not {amount}")
    queued = _queue("id = %s", [donation.pk], amount, fee, payment_reference, charge_reference, event)
    if queued is None and not Confirmation.objects.filter(donation_id=donation.pk).exists():
        return False
    _book_with(donation.pk, donation.campaign_id)
    return queued is not None


def confirm_payment(
    provider: str,
    checkout_reference: str,
    *,
    amount: int,
    currency: str,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
    event: PaymentEventRecord | None = None,
) -> bool:
    """``confirm_donation`` for a provider's event, which names its donation by the checkout
    reference: one statement finds and queues it. True when this call booked the payment.

    False when it booked nothing: no donation of that provider has this reference, or one in
    another currency (``currency`` "" when the provider does not say), or it had succeeded,
    or a confirmation of it was already waiting. The caller then looks at the donation.
    """
    if amount <= 0 or not checkout_reference:
        return False
    queued = _queue(
        "provider = %s AND checkout_reference = %s AND (%s = '' OR currency = %s)",
        [provider, checkout_reference, currency, currency],
        amount,
        fee,
        payment_reference,
        charge_reference,
        event,
    )
    if queued is None:
        return False
    _book_with(*queued)
    return True


def _queue(
    where: str,
    params: list,
    amount: int,
    fee: int,
    payment_reference: str,
    charge_reference: str,
    event: PaymentEventRecord | None,
) -> tuple[int, int] | None:
    """Queue the confirmation of the donation ``where`` names unless it has succeeded or a
    confirmation of it waits: one statement, committed at once (unless in an outer
    transaction). Returns (donation id, campaign id), or None when nothing was queued.

    One statement needs no transaction of its own (two round trips fewer), and inside an outer
    transaction (an import confirming hundreds of lines) no savepoint: past 64 subtransactions
    PostgreSQL checks every row they wrote the slow way."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Confirmation._meta.db_table} "  # noqa: S608 - table names from the models, values as parameters
            "(donation_id, campaign_id, amount, fee, payment_reference, charge_reference, event_id, requested_at) "
            f"SELECT id, campaign_id, %s, %s, %s, %s, %s, %s FROM {Donation._meta.db_table} WHERE {where} AND status <> %s "
            "ON CONFLICT (donation_id) DO NOTHING RETURNING donation_id, campaign_id",
            [
                amount,
                max(fee, 0),
                payment_reference,
                charge_reference,
                event.pk if event else None,
                now,
                *params,
                DonationStatus.SUCCEEDED,
            ],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _book_with(donation_id: int, campaign_id: int) -> None:
    """Take turns at the campaign's queue until this donation's confirmation is booked."""
    try:
        first = True
        while not _take_turn(donation_id, campaign_id, first=first):
            first = False
    except Exception:
        if connection.needs_rollback:
            raise  # in an outer transaction, which is lost anyway
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")  # a next booker's lock, if the error came between
        # A waiting confirmation cannot be booked: book this one alone, so that an error is its
        # own confirmation's only. One that fails alone leaves the queue (its provider delivers
        # the event again; a bank line is imported again) and the error is raised.
        log.warning("confirmations to campaign %s could not be booked together", campaign_id)
        try:
            book_confirmations(campaign_id, only=donation_id)
        except Exception:
            Confirmation.objects.filter(donation_id=donation_id).delete()
            raise


#: PostgreSQL advisory lock classes: the campaign's booking, and its next booker (see ``_take_turn``).
BOOKING, NEXT_BOOKER = 0x7A62, 0x7A63


def _take_turn(donation_id: int, campaign_id: int, *, first: bool = True) -> bool:
    """Book the confirmations waiting for the campaign, or wait for the turn that books this
    donation's. True once this donation's confirmation has left the queue.

    On PostgreSQL one process at a time is the campaign's *next booker*: it waits for the
    booking under way to end, then books every confirmation waiting. Whoever finds a next
    booker already named knows that booking will hold its confirmation (the next booker
    reads the queue only after it stops being next), so it waits for that booking to end (a
    shared hold of the booking's lock, which all who wait get at once) and leaves. So a few
    hundred confirmations a second are booked by a few turns a second, and nobody waits in
    line for the campaign's lock only to find their work done: such a line would make a
    chain of turns each booking only what arrived since the turn before. A turn after the
    first (the rare race where the next booker had not yet asked for the booking's lock)
    simply waits in line. SQLite has one writer at a time anyway (transactions begin
    IMMEDIATE): there every turn books.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return _book_turn(donation_id, campaign_id)
    booking, following = [BOOKING, campaign_id & 0x7FFFFFFF], [NEXT_BOOKER, campaign_id & 0x7FFFFFFF]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", following)  # session-level: released below
        if cursor.fetchone()[0]:
            with transaction.atomic():
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s), pg_advisory_unlock(%s, %s)", booking + following)
                return _book_turn(donation_id, campaign_id)
        if first:
            # Wait for the next booker's booking: take the booking's lock shared and let it go.
            cursor.execute(
                "SELECT pg_advisory_lock_shared(%s, %s), pg_advisory_unlock_shared(%s, %s)", booking + booking
            )
            return not _queued(cursor, donation_id)
        with transaction.atomic():
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", booking)
            return not _queued(cursor, donation_id) or _book_turn(donation_id, campaign_id)


def _book_turn(donation_id: int, campaign_id: int) -> bool:
    """The booking of a turn, in the caller's transaction."""
    _lock_campaign(campaign_id)
    booked = _book_waiting(campaign_id)
    return donation_id in booked or len(booked) < BATCH


def _queued(cursor, donation_id: int) -> bool:
    cursor.execute(f"SELECT 1 FROM {Confirmation._meta.db_table} WHERE donation_id = %s", [donation_id])  # noqa: S608
    return cursor.fetchone() is not None


def _lock_campaign(campaign_id: int) -> None:
    # FOR NO KEY UPDATE: rows that refer to the campaign (new donations, queued confirmations)
    # can still be inserted while it is held. Plain SQL: this runs once per confirmation.
    lock = connection.ops.for_update_sql(no_key=True) if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Campaign._meta.db_table} WHERE id = %s {lock}", [campaign_id])  # noqa: S608


def book_confirmations(campaign_id: int, *, only: int | None = None) -> set[int]:
    """Book the confirmations waiting for the campaign, oldest first, at most ``BATCH``, in one
    transaction under the campaign's lock (or only the one of donation ``only``). Returns the
    ids of the donations whose confirmations left the queue.

    A few statements for the whole batch: the allocation runs in memory from the balances read
    once; the ledger groups, the donations and the events are written in bulk.
    """
    with transaction.atomic():
        _lock_campaign(campaign_id)
        return _book_waiting(campaign_id, only=only)


def book_stranded_confirmations(older_than: timedelta = timedelta(minutes=1)) -> int:
    """Book the confirmations queued longer ago than ``older_than``: their requests died before
    their turn. Returns how many were booked; one that cannot be booked is logged and stays."""
    booked = 0
    stranded = Confirmation.objects.filter(requested_at__lt=timezone.now() - older_than)
    for campaign_id in set(stranded.values_list("campaign_id", flat=True)):
        for donation_id in (
            stranded.filter(campaign_id=campaign_id).order_by("pk").values_list("donation_id", flat=True)
        ):
            try:
                booked += len(book_confirmations(campaign_id, only=donation_id))
            except Exception:
                log.exception("a stranded confirmation of donation %s could not be booked", donation_id)
    return booked


def _book_waiting(campaign_id: int, *, only: int | None = None) -> set[int]:
    """``book_confirmations`` in the caller's transaction, which holds the campaign's lock."""
    waiting_qs = Confirmation.objects.select_for_update(no_key=True, of=("self", "donation")).select_related(
        "donation"
    )
    waiting_qs = waiting_qs.filter(campaign_id=campaign_id)
    if only is not None:
        waiting_qs = waiting_qs.filter(donation_id=only)
    waiting = list(waiting_qs.order_by("pk")[:BATCH])
    if not waiting:
        return set()
    # A confirmation of a donation that succeeded meanwhile books nothing; its event is done.
    fresh = [c for c in waiting if c.donation.status != DonationStatus.SUCCEEDED]
    if fresh:
        _book(Campaign.objects.get(pk=campaign_id), fresh)
    events = [c.event_id for c in waiting if c.event_id]
    if events:
        PaymentEventRecord.objects.filter(pk__in=events).update(
            status=EventStatus.PROCESSED, attempts=F("attempts") + 1, error="", processed_at=timezone.now()
        )
    Confirmation.objects.filter(pk__in=[c.pk for c in waiting]).delete()
    return {c.donation_id for c in waiting}


def _book(campaign: Campaign, confirmations: list[Confirmation]) -> None:
    needs = list(Need.objects.filter(campaign=campaign).order_by("position", "id"))
    ledger_accounts = _AccountCache(campaign, needs, confirmations)
    money = ledger_accounts.money()
    raised = dict(money.raised_by_need)
    groups = []
    for confirmation in confirmations:
        donation = confirmation.donation
        lines = _campaign_lines(campaign, raised, donation, confirmation.amount, ledger_accounts)
        if confirmation.fee > 0:
            clearing = ledger_accounts.provider(donation.provider, donation.currency)
            lines.append(
                Line(
                    ledger_accounts.fees(donation.provider, donation.currency),
                    clearing,
                    confirmation.fee,
                    TransferKind.FEE,
                )
            )
        groups.append(NewGroup(f"{donation.reference}:succeeded", TransferKind.DONATION, donation.reference, lines))
    post_new_groups(groups)
    # One statement for the batch, each donation taking its values from its confirmation.
    donations = [c.donation for c in confirmations]

    def confirmed(field: str) -> Subquery:
        return Subquery(Confirmation.objects.filter(donation_id=OuterRef("pk")).values(field)[:1])

    Donation.objects.filter(pk__in=[d.pk for d in donations]).update(
        status=DonationStatus.SUCCEEDED,
        succeeded_at=timezone.now(),
        amount=confirmed("amount"),
        fee=confirmed("fee"),
        payment_reference=Coalesce(NullIf(confirmed("payment_reference"), Value("")), F("payment_reference")),
        charge_reference=Coalesce(NullIf(confirmed("charge_reference"), Value("")), F("charge_reference")),
    )
    goal = sum(n.amount for n in needs)
    collected = money.collected + sum(c.amount for c in confirmations)
    if campaign.status == Status.PUBLISHED and goal and collected >= goal:
        campaign_services.mark_funded(campaign, by=None)
    for donation in donations:
        if donation.email:
            from .tasks import send_receipt

            # A queue that is down must not turn a committed donation into an error: the
            # receipt is then sent by the sweep (tasks.send_unsent_receipts).
            enqueue_on_commit(send_receipt, donation.pk)


class _AccountCache:
    """The ledger accounts one batch posts to, read in one query (created on first use), and
    the campaign's needs in their order."""

    def __init__(self, campaign: Campaign, needs: list[Need], confirmations: list[Confirmation]):
        self.campaign, self.needs = campaign, {n.pk: n for n in needs}
        providers = {(c.donation.provider, c.donation.currency) for c in confirmations}
        codes = [accounts.provider_code(p, cur) for p, cur in providers] + [
            accounts.fees_code(p, cur) for p, cur in providers
        ]
        # The campaign's own accounts (their balances are what it has collected) and the providers'.
        found = Account.objects.filter(Q(owner_kind=accounts.OWNER, owner_id=campaign.pk) | Q(code__in=codes))
        self.accounts = {a.code: a for a in found}

    def money(self) -> CampaignMoney:
        """What the campaign has collected, from the balances read with its accounts."""
        collected = [
            (a.code, a.credits_posted, a.debits_posted)
            for a in self.accounts.values()
            if a.owner_kind == accounts.OWNER and a.owner_id == self.campaign.pk and a.kind in accounts.COLLECTED_KINDS
        ]
        return money_from_balances(self.campaign.pk, list(self.needs), collected)

    def _get(self, code: str, make: Callable[[], Account]) -> Account:
        if code not in self.accounts:
            self.accounts[code] = make()
        return self.accounts[code]

    def need(self, need_id: int, currency: str) -> Account:
        return self._get(accounts.need_code(need_id), lambda: accounts.need_account(self.needs[need_id], currency))

    def unallocated(self) -> Account:
        return self._get(
            accounts.unallocated_code(self.campaign.pk), lambda: accounts.unallocated_account(self.campaign)
        )

    def provider(self, provider: str, currency: str) -> Account:
        return self._get(
            accounts.provider_code(provider, currency), lambda: accounts.provider_account(provider, currency)
        )

    def fees(self, provider: str, currency: str) -> Account:
        return self._get(accounts.fees_code(provider, currency), lambda: accounts.fees_account(provider, currency))


def _campaign_lines(
    campaign: Campaign, raised: dict[int, int], donation: Donation, amount: int, ledger_accounts: _AccountCache
) -> list[Line]:
    """The donation's transfers from its provider's clearing account to the campaign's needs
    (``ledger_accounts.needs``, in order), filling them from ``raised`` (updated in place, for
    the next donation of the batch)."""
    needs = ledger_accounts.needs
    if campaign.status in ACCEPTING:
        earmark = donation.need_id if donation.need_id in needs else None
        shares, beyond = allocate([(n.pk, n.amount) for n in needs.values()], raised, amount, earmark)
    else:
        # Money that arrives after the campaign closed (a late bank transfer) is kept for the
        # campaign, beyond its goal, where finance sees it; it fills no need.
        shares, beyond = {}, amount
    clearing = ledger_accounts.provider(donation.provider, donation.currency)
    lines = []
    for need_id, share in shares.items():
        raised[need_id] = raised.get(need_id, 0) + share
        lines.append(Line(clearing, ledger_accounts.need(need_id, donation.currency), share, TransferKind.DONATION))
    if beyond:
        lines.append(Line(clearing, ledger_accounts.unallocated(), beyond, TransferKind.DONATION))
    return lines


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
    for t in Transfer.objects.filter(
        group__reference=donation.reference, kind__in=[TransferKind.DISPUTE, TransferKind.REINSTATEMENT]
    ):
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
        Campaign.objects.select_for_update(no_key=True).get(pk=donation.campaign_id)
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
        Campaign.objects.select_for_update(no_key=True).get(pk=donation.campaign_id)
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
        audit(
            by,
            "donation.message.approve" if approve else "donation.message.reject",
            donation,
            fields=["message_status"],
        )


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
    donation.refresh_from_db()
    return donation
