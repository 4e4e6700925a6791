"""Why a payout action was refused; every message is shown to finance staff as is.

PayoutError
├── PayoutExceedsNeed     more than the need holds (minus payouts already spoken for)
├── PayoutFourEyes        approving or rejecting one's own request
└── PayoutWrongState      e.g. paying a payout nobody approved, cancelling a paid one
"""


class PayoutError(Exception):
    pass


class PayoutExceedsNeed(PayoutError):
    pass


class PayoutFourEyes(PayoutError):
    pass


class PayoutWrongState(PayoutError):
    pass
