"""Ledger errors. None of them is shown to donors; staff and logs see them.

LedgerError
├── UnbalancedGroup       a group with no transfers, a non-positive amount, mixed currencies
└── IdempotencyConflict   the same key was posted before with different transfers
"""


class LedgerError(Exception):
    pass


class UnbalancedGroup(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    pass
