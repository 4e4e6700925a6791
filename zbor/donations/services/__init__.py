"""Business actions on donations, one job per module; callers import them from here.

- ``start``: starting a donation and its checkout (and ending one never paid);
- ``booking``: the group-commit queue that books confirmed payments (read its header first);
- ``posting``: what one booking turn writes to the ledger and the donations;
- ``reversals``: refunds, disputes and reinstated disputes;
- ``review``: finance's decisions on money whose amount differs from its pledge;
- ``queue``: finance's decisions on bank lines no pledge claimed (the unmatched queue);
- ``refunds``: refunds staff give (bank and demo by hand, card through the provider), with four eyes;
- ``resend``: a receipt or credit note sent again on staff's request;
- ``erasure``: a donor's erasure on request; ``moderation``: words of support; ``housekeeping``: the daily clean-up; ``demo``: demo gifts;
- ``monthly``: monthly gifts (starting, each month's payment, stop, pause, new amount);
  ``standing_orders``: the bank's monthly gifts (a statement line's month, lapsing).
"""

from .booking import (
    BATCH,
    book_confirmations,
    book_stranded_confirmations,
    confirm_donation,
    confirm_donations,
    confirm_payment,
)
from .demo import record_demo_donation
from .erasure import erase_donor, erase_monthly_gifts
from .housekeeping import purge_expired_emails
from .moderation import moderate_message
from .monthly import (
    activate_monthly,
    gift_by_checkout,
    gift_by_reference,
    month_paid,
    monthly_destination,
    monthly_failed,
    monthly_supporters,
    record_monthly_payment,
    start_monthly,
)
from .monthly_changes import change_monthly_amount, pause_monthly, provider_updated, resume_monthly, stop_monthly
from .queue import assign_line, attach_line, mark_not_a_donation, pledge_named_by, settle_reversal
from .refunds import approve_refund, refundable, reject_refund, request_refund, settle_refund
from .resend import resend_credit_note, resend_receipt
from .reversals import reinstate_dispute, take_back
from .review import accept_line, accept_payment, payment_donation, return_line, return_payment, split_line
from .standing_orders import BOOKS_MONTHS, lapse_standing_orders, lapsed_count, line_month, standing_orders_named
from .start import ACCEPTING, REFERENCE_DRAWS, check_donation, end_unpaid, max_donation, start_donation

__all__ = [
    "activate_monthly",
    "change_monthly_amount",
    "gift_by_checkout",
    "gift_by_reference",
    "month_paid",
    "monthly_destination",
    "BOOKS_MONTHS",
    "lapse_standing_orders",
    "lapsed_count",
    "line_month",
    "standing_orders_named",
    "monthly_failed",
    "monthly_supporters",
    "pause_monthly",
    "provider_updated",
    "record_monthly_payment",
    "resume_monthly",
    "start_monthly",
    "stop_monthly",
    "ACCEPTING",
    "approve_refund",
    "refundable",
    "reject_refund",
    "request_refund",
    "settle_refund",
    "accept_line",
    "accept_payment",
    "assign_line",
    "attach_line",
    "BATCH",
    "REFERENCE_DRAWS",
    "book_confirmations",
    "book_stranded_confirmations",
    "check_donation",
    "confirm_donations",
    "confirm_donation",
    "confirm_payment",
    "end_unpaid",
    "erase_donor",
    "erase_monthly_gifts",
    "mark_not_a_donation",
    "max_donation",
    "moderate_message",
    "payment_donation",
    "pledge_named_by",
    "purge_expired_emails",
    "record_demo_donation",
    "reinstate_dispute",
    "return_line",
    "split_line",
    "return_payment",
    "settle_reversal",
    "resend_credit_note",
    "resend_receipt",
    "start_donation",
    "take_back",
]
