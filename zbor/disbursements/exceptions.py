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


class MoveError(Exception):
    """Why a move of money was refused; shown to finance staff as is.

    MoveError
    ├── MoveRefused      no reason, the same place twice, another currency, a need of another campaign
    ├── MoveTooLarge     more than the source holds and has not promised (payouts, other moves)
    ├── MoveFourEyes     deciding on one's own request
    └── MoveWrongState   deciding on a move that was decided before
    """


class MoveRefused(MoveError):
    pass


class MoveTooLarge(MoveError):
    pass


class MoveFourEyes(MoveError):
    pass


class MoveWrongState(MoveError):
    pass
