"""Donations, holding only what a donation needs.

No account, no phone, no address, no IP. A public name only if the donor typed one; an email
only if they asked for a receipt (a bank pledge's transfer details go to it too), deleted once
the receipt is sent or the donation fails, and after ``ZBOR_EMAIL_RETENTION_DAYS`` at the latest.
"""

from .bank import BankStatement, BankStatementLine, LineStatus, PaymentInReview, StatementFormat
from .donations import Confirmation, Donation, DonationStatus, MessageStatus, ReceiptCounter, WordsOfSupport
from .monthly import MonthlyGift, MonthlyStatus, StopReason
from .reconcile_runs import ReconcileRun
from .refunds import CreditNote, CreditNoteCounter, Refund, RefundCover, RefundStatus

__all__ = [
    "BankStatement",
    "BankStatementLine",
    "Confirmation",
    "CreditNote",
    "CreditNoteCounter",
    "Donation",
    "DonationStatus",
    "LineStatus",
    "MessageStatus",
    "MonthlyGift",
    "MonthlyStatus",
    "PaymentInReview",
    "ReceiptCounter",
    "ReconcileRun",
    "Refund",
    "RefundCover",
    "RefundStatus",
    "StatementFormat",
    "StopReason",
    "WordsOfSupport",
]
