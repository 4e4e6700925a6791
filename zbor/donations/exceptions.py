"""What can go wrong with a donation, and who sees it.

DonationError               base; str(exc) is a translated message for the donor
├── DonationRefused         the form's input cannot become a donation (campaign closed,
│                           amount over the limit, unknown need); the form shows why
├── PaymentNotStarted       the provider could not start the payment; nothing was charged
├── NotInReview             finance decided on money that no longer waits for a decision
│                           (decided before, or booked meanwhile); the admin shows why
└── ReceiptNotResent        staff asked to send a receipt again and it cannot be (its email
                            was forgotten, by design, or the donation has not succeeded); the
                            admin shows why
NotPaidYet                  internal: a refund or dispute names a payment Zbor has not
                            seen succeed yet; the event waits (deferred) until it has
"""


class DonationError(Exception):
    pass


class DonationRefused(DonationError):
    pass


class PaymentNotStarted(DonationError):
    pass


class ReceiptNotResent(DonationError):
    pass


class NotPaidYet(Exception):
    pass


class NotInReview(DonationError):
    pass
