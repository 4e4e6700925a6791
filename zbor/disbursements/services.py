"""Payouts: request → a second person approves (or rejects) → paid with proof.

Worked example — €500.00 paid for need #7 by bank transfer abroad, group ``payout:12:paid``::

    need:7  →  payouts:need:7   500.00   (payout)

The need now holds €500.00 less; the campaign's collected is unchanged (collected counts the
payouts account too), and the page lists the payment under "How the money was spent".

A payout paid by bank transfer (``Channel.BANK_ABROAD``) also takes the money out of the bank,
in the same group: the transfer is sent but the bank has not shown it yet::

    disbursed:bank:EUR  →  outgoing:bank:EUR   500.00   (bank_out)

When its statement line is matched (``zbor.donations.bank_out``) the money leaves the bank's
account in the ledger: ``outgoing:bank:EUR → provider:bank:EUR``. Neither account belongs to a
campaign, so no public figure moves (docs/ledger.md, "The bank in the books").

A payout by crypto transfer (``Channel.CRYPTO``) takes its value out of the crypto wallet, in
the same group; it is gone when the transaction is sent, so there is no second step::

    disbursed:btcpay:EUR  →  provider:btcpay:EUR   500.00   (crypto_out)

Its proof is the transaction (``crypto_proof``), not a file.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor import private_files
from zbor.accounts.services import audit, require
from zbor.campaigns.models import Beneficiary, Campaign, Need
from zbor.campaigns.private import Purged
from zbor.crypto import decrypt_text, encrypt_text
from zbor.ledger import chart
from zbor.ledger.models import TransferKind
from zbor.ledger.selectors import credit_balances
from zbor.ledger.services import Line, post_group
from zbor.logs import event
from zbor.money import Money, format_money

from .crypto_proof import CryptoProof, SentCrypto, open_secret
from .exceptions import PayoutExceedsNeed, PayoutFourEyes, PayoutWrongState
from .models import PURGED, RESERVING, Channel, Payout, PayoutStatus
from .moves import requested_out

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def need_holds(need: Need) -> int:
    """What the need's account holds now (given for it, minus refunds and payouts made)."""
    return credit_balances([chart.need_code(need.pk)]).get(chart.need_code(need.pk), 0)


def available(need: Need, *, excluding: Payout | None = None) -> int:
    """What can still be requested: what the need holds minus payouts requested or approved,
    and minus moves of its money to elsewhere that wait for a second person (``moves``)."""
    reserved = Payout.objects.filter(need=need, status__in=RESERVING)
    if excluding is not None:
        reserved = reserved.exclude(pk=excluding.pk)
    return (
        need_holds(need)
        - (reserved.aggregate(total=Sum("amount"))["total"] or 0)
        - requested_out(need.campaign_id, need.pk)
    )


def _too_much(need: Need, amount: int, left: int) -> PayoutExceedsNeed:
    language = get_language() or "en"
    return PayoutExceedsNeed(
        _("The need holds only %(left)s that is not already spoken for; %(amount)s was asked.")
        % {
            "left": format_money(Money(max(left, 0), need.campaign.currency), language),
            "amount": format_money(Money(amount, need.campaign.currency), language),
        }
    )


def request_payout(need: Need, *, amount: int, channel: str, recipient: str, purpose: str, by: User) -> Payout:
    """Ask to pay ``amount`` for ``need``. Refused above what the need holds and is not yet
    spoken for — checked under the campaign's row lock, so two requests racing for the same
    money cannot both pass."""
    require(by, "disbursements.add_payout")
    if amount <= 0:
        raise PayoutExceedsNeed(_("Enter an amount greater than zero."))
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=need.campaign_id)
        left = available(need)
        if amount > left:
            raise _too_much(need, amount, left)
        payout = Payout.objects.create(
            campaign=campaign,
            need=need,
            amount=amount,
            currency=campaign.currency,
            channel=channel,
            purpose=purpose,
            recipient_secret=encrypt_text(recipient),
            requested_by=by,
        )
        audit(by, "payout.request", payout, fields=["amount", "channel", "recipient", "purpose"])
    return payout


def _decide(payout: Payout, *, by: User, to: str, reason: str = "") -> Payout:
    require(by, "disbursements.approve_payout")
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.status != PayoutStatus.REQUESTED:
            raise PayoutWrongState(_("Only a requested payout can be approved or rejected."))
        if locked.requested_by_id == by.pk:
            raise PayoutFourEyes(_("You requested this payout: someone else must decide on it."))
        locked.status, locked.decided_by, locked.decided_at, locked.decision_reason = to, by, timezone.now(), reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit(by, f"payout.{to}", locked, fields=["status"])
        if to == PayoutStatus.APPROVED:
            transaction.on_commit(partial(event, "payout.approved", payout_id=locked.pk))
    payout.refresh_from_db()
    return payout


def approve_payout(payout: Payout, *, by: User) -> Payout:
    """A second finance user approves. Two approvals racing: the second finds it approved."""
    return _decide(payout, by=by, to=PayoutStatus.APPROVED)


def reject_payout(payout: Payout, *, by: User, reason: str) -> Payout:
    if not reason.strip():
        raise PayoutWrongState(_("Say why the payout is rejected."))
    return _decide(payout, by=by, to=PayoutStatus.REJECTED, reason=reason.strip())


def cancel_payout(payout: Payout, *, by: User) -> Payout:
    """The requester withdraws the request before it is paid."""
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.requested_by_id != getattr(by, "pk", None):
            raise PayoutFourEyes(_("Only the person who requested a payout can cancel it."))
        if locked.status not in RESERVING:
            raise PayoutWrongState(_("A paid, rejected or cancelled payout cannot be cancelled."))
        locked.status = PayoutStatus.CANCELLED
        locked.save(update_fields=["status"])
        audit(by, "payout.cancel", locked, fields=["status"])
    payout.refresh_from_db()
    return payout


def _proof_for(payout: Payout, proof, crypto: CryptoProof | None) -> CryptoProof | None:
    """What marking ``payout`` paid needs: a file for every channel but crypto; for crypto, the
    network, the amount in the coin and the transaction id (a file is optional there). Returns
    the cleaned crypto proof; ValidationError for a wrong one, PayoutWrongState for a missing one."""
    if payout.channel != Channel.CRYPTO:
        if crypto is not None:
            raise PayoutWrongState(_("Only a payout by crypto transfer has a transaction id."))
        if proof is None:
            raise PayoutWrongState(_("Attach the proof of payment."))
        return None
    if crypto is None:
        raise PayoutWrongState(_("Record the network, the amount in the coin and the transaction id."))
    return crypto.cleaned()


def mark_paid(payout: Payout, *, by: User, proof=None, crypto: CryptoProof | None = None) -> Payout:
    """Record that the approved payout was made, with its proof, and post the ledger group.

    The proof is a receipt image or PDF (cleaned of metadata and encrypted), or for a payout
    by crypto transfer the transfer itself (``crypto``: network, amount in the coin, the
    transaction id and receiving address encrypted). ValidationError for an unreadable file or
    a malformed crypto proof; nothing is written then."""
    require(by, "disbursements.change_payout")
    crypto = _proof_for(payout, proof, crypto)
    clean = private_files.clean_upload(proof) if proof is not None else None
    stored = private_files.store(clean.data) if clean is not None else ""
    try:
        with transaction.atomic():
            Campaign.objects.select_for_update(no_key=True).get(pk=payout.campaign_id)
            locked = Payout.objects.select_for_update().select_related("need", "need__campaign").get(pk=payout.pk)
            if locked.status != PayoutStatus.APPROVED:
                raise PayoutWrongState(_("Only an approved payout can be marked as paid."))
            holds = need_holds(locked.need)
            if locked.amount > holds:
                raise _too_much(locked.need, locked.amount, holds)
            post_group(
                f"{locked.reference}:paid",
                kind=TransferKind.PAYOUT,
                reference=locked.reference,
                lines=_paid_lines(locked),
            )
            _record_paid(locked, by=by, stored=stored, content_type=clean.content_type if clean else "", crypto=crypto)
    except Exception:
        if stored:
            private_files.delete(stored)
        raise
    payout.refresh_from_db()
    return payout


def _record_paid(locked: Payout, *, by: User, stored: str, content_type: str, crypto: CryptoProof | None) -> None:
    locked.status, locked.paid_by, locked.paid_at = PayoutStatus.PAID, by, timezone.now()
    fields = ["status", "paid_by", "paid_at"]
    if stored:
        locked.proof_name, locked.proof_content_type = stored, content_type
        fields += ["proof_name", "proof_content_type"]
    if crypto is not None:
        locked.crypto_network, locked.crypto_amount = crypto.network, crypto.coin_amount
        locked.crypto_proof_secret = crypto.secret()
        fields += ["crypto_network", "crypto_amount", "crypto_proof_secret"]
    locked.save(update_fields=fields)
    # The audit names what was recorded, never the transaction id or the address.
    audit(
        by,
        "payout.paid",
        locked,
        fields=["status", *(["proof"] if stored else []), *(["crypto_proof"] if crypto else [])],
    )


def _paid_lines(payout: Payout) -> list[Line]:
    """The public side (need → payouts:need) and, paid by bank transfer or in crypto, the side
    of the bank or of the crypto wallet."""
    lines = [
        Line(
            chart.need_account(payout.need, payout.currency),
            chart.payouts_account(payout.need, payout.currency),
            payout.amount,
            TransferKind.PAYOUT,
        )
    ]
    if payout.channel == Channel.BANK_ABROAD:
        lines.append(
            Line(
                chart.disbursed_account(payout.currency),
                chart.bank_outgoing_account(payout.currency),
                payout.amount,
                TransferKind.BANK_OUT,
            )
        )
    elif payout.channel == Channel.CRYPTO:
        lines.append(
            Line(
                chart.crypto_disbursed_account(payout.currency),
                chart.crypto_wallet_account(payout.currency),
                payout.amount,
                TransferKind.CRYPTO_OUT,
            )
        )
    return lines


def read_recipient(payout: Payout, *, by: User) -> str:
    require(by, "disbursements.view_payout_recipient")
    with transaction.atomic():
        audit(by, "payout.recipient.read", payout, fields=["recipient"])
    return decrypt_text(payout.recipient_secret)


def read_crypto_proof(payout: Payout, *, by: User) -> SentCrypto | None:
    """A crypto payout's transaction id and receiving address, for whoever may read recipient
    details; every read is audited. None when there is none (not paid yet, another channel, or
    destroyed with the beneficiary's private data)."""
    require(by, "disbursements.view_payout_recipient")
    if not payout.crypto_proof_secret:
        return None
    with transaction.atomic():
        audit(by, "payout.crypto_proof.read", payout, fields=["crypto_proof"])
    return open_secret(payout.crypto_proof_secret)


def read_proof(payout: Payout, *, by: User) -> tuple[bytes, str]:
    require(by, "disbursements.view_payout")
    if payout.proof_name in ("", PURGED):
        raise PermissionDenied("This proof was destroyed when the beneficiary's private data was purged.")
    with transaction.atomic():
        audit(by, "payout.proof.read", payout, fields=["proof"])
    return private_files.load(payout.proof_name), payout.proof_content_type


def purge_payout_details(sender, *, beneficiary: Beneficiary, **kwargs) -> Purged:
    """Receiver of ``zbor.campaigns.private.private_data_purged``, inside the purge's transaction:
    recipients, purposes and proofs of the payouts made for this person can name them too. The
    amounts, dates and ledger stay; a purged proof is marked so, its file deleted after commit.
    A crypto payout's transaction id, address and amount in the coin go too (any of them finds
    the transfer on the public chain); its network stays, to show it had its proof."""
    payouts = Payout.objects.select_for_update().filter(campaign__beneficiary=beneficiary)
    files = list(payouts.exclude(proof_name__in=["", PURGED]).values_list("proof_name", flat=True))
    payouts.update(recipient_secret="", purpose="", decision_reason="", crypto_amount="", crypto_proof_secret="")
    payouts.exclude(proof_name="").update(proof_name=PURGED)
    return Purged(fields=("payout recipients", "payout proofs", "payout transactions"), files=tuple(files))
