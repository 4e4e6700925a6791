"""Business actions on donations, one job per module; callers import them from here.

- ``start``: starting a donation and its checkout (and ending one never paid);
- ``booking``: the group-commit queue that books confirmed payments (read its header first);
- ``posting``: what one booking turn writes to the ledger and the donations;
- ``reversals``: refunds, disputes and reinstated disputes;
- ``resend``: a receipt sent again on staff's request;
- ``erasure``: a donor's erasure on request; ``moderation``: words of support; ``housekeeping``: the daily clean-up; ``demo``: demo gifts.
"""

from .booking import BATCH, book_confirmations, book_stranded_confirmations, confirm_donation, confirm_payment
from .demo import record_demo_donation
from .erasure import erase_donor
from .housekeeping import purge_expired_emails
from .moderation import moderate_message
from .resend import resend_receipt
from .reversals import reinstate_dispute, take_back
from .start import ACCEPTING, REFERENCE_DRAWS, check_donation, end_unpaid, max_donation, start_donation

__all__ = [
    "ACCEPTING",
    "BATCH",
    "REFERENCE_DRAWS",
    "book_confirmations",
    "book_stranded_confirmations",
    "check_donation",
    "confirm_donation",
    "confirm_payment",
    "end_unpaid",
    "erase_donor",
    "max_donation",
    "moderate_message",
    "purge_expired_emails",
    "record_demo_donation",
    "reinstate_dispute",
    "resend_receipt",
    "start_donation",
    "take_back",
]
