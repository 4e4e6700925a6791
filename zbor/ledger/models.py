"""The ledger: accounts and append-only, double-entry transfers.

This app imports no other domain. Owners of accounts (a campaign, a need) are referred to by
an opaque ``(owner_kind, owner_id)`` pair that only the calling domains interpret.

Every transfer moves a positive amount from one account (debited) to another (credited), in
one currency. A movement of money is a *group* of transfers written in one transaction under
a unique idempotency key. Neither groups nor transfers are ever updated or deleted: triggers in
the database refuse it (migration 0002); a correction is a new, reversing group.

Each account keeps running ``debits_posted`` and ``credits_posted`` totals, updated in the same
transaction as the transfers with ``F()`` expressions, so reading a balance costs one row
whatever the number of transfers. ``zbor reconcile`` proves the totals equal the transfers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    #: Money a payment provider (or the bank) holds for the foundation. Debit-normal.
    PROVIDER = "provider", _("Provider clearing")
    #: Money given for one need of one campaign. Credit-normal.
    NEED = "need", _("Need")
    #: Money given to a campaign beyond its goal. Credit-normal.
    UNALLOCATED = "unallocated", _("Campaign unallocated")
    #: Provider fees the foundation paid. Debit-normal.
    FEES = "fees", _("Fees")
    #: Money given back to donors. Credit-normal: a contra account of provider clearing.
    REFUNDS = "refunds", _("Refunds")
    #: Money taken back by card disputes. Credit-normal: a contra account of provider clearing.
    DISPUTES = "disputes", _("Disputes")
    #: Money paid out for a need (the disbursements issue). Credit-normal.
    PAYOUTS = "payouts", _("Payouts")
    #: The foundation's own money, where it covered a refund or a dispute of money a campaign
    #: had already paid out (docs/ledger.md). Credit-normal: a debit balance is what the
    #: foundation paid from its own pocket.
    RESERVE = "reserve", _("Foundation reserve")
    #: Money that came in but is no donation (a membership fee, a grant, a bank's interest),
    #: as finance marked a statement line. Credit-normal.
    INCOME = "income", _("Other income")
    #: Paid out of the bank for payouts (``disbursed:bank:<CUR>``), or of the crypto wallet
    #: (``disbursed:btcpay:<CUR>``). Debit-normal: with ``BANK_OUT`` (``CRYPTO_OUT``) it is the
    #: bank (wallet) side of a payout, whose public side is need → payouts:need.
    DISBURSED = "disbursed", _("Paid out through the bank or the crypto wallet")
    #: Bank transfers the foundation made that wait for their statement line
    #: (``outgoing:bank:<CUR>``). Credit-normal: what the bank still owes to take out.
    BANK_OUT = "bank_out", _("Sent, waiting for the statement")
    #: Money out of the bank that is no payout (a bank's charge, rent), as finance marked its
    #: statement line. Debit-normal.
    EXPENSES = "expenses", _("Other expenses")


class TransferKind(models.TextChoices):
    DONATION = "donation", _("Donation")
    FEE = "fee", _("Provider fee")
    REFUND = "refund", _("Refund")
    DISPUTE = "dispute", _("Dispute")
    #: A won dispute: the money comes back to the campaign accounts it was taken from.
    REINSTATEMENT = "reinstatement", _("Dispute reinstated")
    PAYOUT = "payout", _("Payout")
    #: Money in that finance marked as no donation (``AccountKind.INCOME``).
    INCOME = "income", _("Other income")
    #: The bank side of a payout paid by bank transfer: sent, then seen on the statement.
    BANK_OUT = "bank_out", _("Money out of the bank")
    #: Money out that finance marked as no payout (``AccountKind.EXPENSES``).
    EXPENSE = "expense", _("Other expense")
    #: Money finance moved from one need or campaign's money beyond its goal to another, with
    #: four eyes (zbor.disbursements ``Move``): debits the source, credits the target.
    MOVE = "move", _("Moved between needs or campaigns")
    #: The crypto side of a payout by crypto transfer: its value leaves the crypto wallet
    #: (``disbursed:btcpay → provider:btcpay``), in the payout's group.
    CRYPTO_OUT = "crypto_out", _("Money out of the crypto wallet")
    #: Crypto sold for money that arrived in the bank: what arrived moves from the crypto
    #: wallet to the bank (``provider:bank → provider:btcpay``); the rest of the crypto's book
    #: value, what selling cost, goes to ``fees:btcpay → provider:btcpay``, in the same group
    #: and of this kind too (a ``FEE`` transfer is a donation's, and reconcile checks it so).
    CONVERSION = "conversion", _("Conversion of crypto to money")


class Account(models.Model):
    code = models.CharField(_("code"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    owner_kind = models.CharField(_("owner kind"), max_length=32, blank=True)
    owner_id = models.BigIntegerField(_("owner id"), null=True, blank=True)
    debits_posted = models.BigIntegerField(_("debits"), default=0)
    credits_posted = models.BigIntegerField(_("credits"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [models.Index(fields=["owner_kind", "owner_id", "kind"], name="account_owner")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(debits_posted__gte=0, credits_posted__gte=0), name="account_totals_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def credit_balance(self) -> int:
        """Credits minus debits: what a need, campaign or payouts account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def debit_balance(self) -> int:
        """Debits minus credits: what a provider holds for us, or fees paid."""
        return self.debits_posted - self.credits_posted


class TransferGroup(models.Model):
    """One movement of money: its transfers were written together, in one transaction."""

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TransferKind.choices)
    #: An opaque reference for the calling domain, e.g. "donation:<public id>".
    reference = models.CharField(_("reference"), max_length=120, db_index=True)
    transfer_count = models.PositiveIntegerField(_("transfers"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer group")
        verbose_name_plural = _("transfer groups")
        permissions = [("export_ledger", _("Can export ledger transfers"))]

    def __str__(self) -> str:
        return self.key


class Transfer(models.Model):
    group = models.ForeignKey(TransferGroup, on_delete=models.PROTECT, related_name="transfers")
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    kind = models.CharField(_("kind"), max_length=16, choices=TransferKind.choices)
    key = models.CharField(_("idempotency key"), max_length=220, unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(debit_account=models.F("credit_account")), name="transfer_two_accounts"
            ),
        ]

    def __str__(self) -> str:
        return self.key
