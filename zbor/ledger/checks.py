"""Proving the ledger consistent: the account totals equal their transfers, every group is whole.

Reads each table once, streaming aggregates from the database, so memory stays flat however
many transfers there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Sum

from .models import Account, Transfer, TransferGroup


@dataclass
class LedgerReport:
    accounts: int = 0
    transfers: int = 0
    groups: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_ledger() -> LedgerReport:
    report = LedgerReport()
    debit_sums = dict(Transfer.objects.order_by().values("debit_account").annotate(s=Sum("amount")).values_list("debit_account", "s"))
    credit_sums = dict(Transfer.objects.order_by().values("credit_account").annotate(s=Sum("amount")).values_list("credit_account", "s"))
    total_debits = total_credits = 0
    for pk, code, debits, credits in Account.objects.order_by("pk").values_list(
        "pk", "code", "debits_posted", "credits_posted"
    ).iterator(chunk_size=2000):
        report.accounts += 1
        total_debits += debits
        total_credits += credits
        if debits != debit_sums.get(pk, 0) or credits != credit_sums.get(pk, 0):
            report.problems.append(
                f"account {code}: totals say debits {debits}, credits {credits}; "
                f"transfers add up to debits {debit_sums.get(pk, 0)}, credits {credit_sums.get(pk, 0)}"
            )
    if total_debits != total_credits:
        report.problems.append(f"all debits ({total_debits}) differ from all credits ({total_credits})")

    report.transfers = Transfer.objects.count()
    mismatched = Transfer.objects.exclude(currency=F("debit_account__currency")) | Transfer.objects.exclude(
        currency=F("credit_account__currency")
    )
    for key in mismatched.values_list("key", flat=True)[:100]:
        report.problems.append(f"transfer {key}: its currency differs from an account's")
    for key in Transfer.objects.filter(amount__lte=0).values_list("key", flat=True)[:100]:
        report.problems.append(f"transfer {key}: amount is not positive")

    groups = TransferGroup.objects.annotate(found=Count("transfers")).order_by()
    report.groups = TransferGroup.objects.count()
    for key, declared, found in groups.exclude(found=F("transfer_count")).values_list("key", "transfer_count", "found")[:100]:
        report.problems.append(f"group {key}: {declared} transfers written, {found} found")
    return report
