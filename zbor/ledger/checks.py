"""Proving the ledger consistent: the account totals equal their transfers, every group is whole.

Each check is one SQL statement that compares in the database and returns only the rows that
differ (and a few counts), so time grows with the tables but memory does not: a million
transfers cost no more memory than ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from .models import Account, Transfer, TransferGroup

#: At most this many examples of each kind of broken transfer or group are reported.
EXAMPLES = 100


@dataclass
class LedgerReport:
    accounts: int = 0
    transfers: int = 0
    groups: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "account": quote(Account._meta.db_table),
        "transfer": quote(Transfer._meta.db_table),
        "group": quote(TransferGroup._meta.db_table),
    }


def _accounts_that_differ() -> str:
    """Accounts whose running totals differ from the sums of their transfers, in pk order."""
    return """
        SELECT a.code, a.debits_posted, a.credits_posted, COALESCE(d.total, 0), COALESCE(c.total, 0)
        FROM {account} a
        LEFT JOIN (SELECT debit_account_id AS account_id, SUM(amount) AS total FROM {transfer} GROUP BY debit_account_id) d
            ON d.account_id = a.id
        LEFT JOIN (SELECT credit_account_id AS account_id, SUM(amount) AS total FROM {transfer} GROUP BY credit_account_id) c
            ON c.account_id = a.id
        WHERE a.debits_posted <> COALESCE(d.total, 0) OR a.credits_posted <> COALESCE(c.total, 0)
        ORDER BY a.id
    """.format(**_tables())  # noqa: S608 - table names from the models


def _transfers_in_another_currency() -> str:
    """Transfers whose currency is not that of their debited or credited account."""
    return """
        SELECT t.key
        FROM {transfer} t
        INNER JOIN {account} debited ON debited.id = t.debit_account_id
        INNER JOIN {account} credited ON credited.id = t.credit_account_id
        WHERE t.currency <> debited.currency OR t.currency <> credited.currency
    """.format(**_tables())  # noqa: S608 - table names from the models


def _first_examples(query: str) -> str:
    """The first EXAMPLES rows of a query that normally returns none.

    On PostgreSQL the query is materialised first: planned for all its rows, it scans and
    hashes; planned for a LIMIT it expects to reach soon, it walks indexes row by row, which
    takes many times longer when (as it should) nothing matches.
    """
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    return f"WITH found AS {materialized} ({query}) SELECT * FROM found LIMIT {EXAMPLES}"  # noqa: S608 - our own queries


def _groups_that_are_not_whole() -> str:
    """Groups whose number of transfers differs from the number they were written with."""
    return """
        SELECT g.key, g.transfer_count, COALESCE(t.found, 0)
        FROM {group} g
        LEFT JOIN (SELECT group_id, COUNT(*) AS found FROM {transfer} GROUP BY group_id) t ON t.group_id = g.id
        WHERE g.transfer_count <> COALESCE(t.found, 0)
    """.format(**_tables())  # noqa: S608 - table names from the models


def check_ledger() -> LedgerReport:
    report = LedgerReport()
    tables = _tables()
    with connection.cursor() as cursor:
        totals = "SELECT COUNT(*), COALESCE(SUM(debits_posted), 0), COALESCE(SUM(credits_posted), 0) FROM {account}"
        cursor.execute(totals.format(**tables))
        # PostgreSQL sums integers as numeric (Decimal): back to int, for the messages.
        report.accounts, total_debits, total_credits = (int(value) for value in cursor.fetchone())
        cursor.execute(_accounts_that_differ())
        for code, debits, credits, transfer_debits, transfer_credits in cursor:
            transfer_debits, transfer_credits = int(transfer_debits), int(transfer_credits)
            report.problems.append(
                f"account {code}: totals say debits {debits}, credits {credits}; "
                f"transfers add up to debits {transfer_debits}, credits {transfer_credits}"
            )
        if total_debits != total_credits:
            report.problems.append(f"all debits ({total_debits}) differ from all credits ({total_credits})")

        cursor.execute("SELECT COUNT(*) FROM {transfer}".format(**tables))  # noqa: S608
        report.transfers = cursor.fetchone()[0]
        cursor.execute(_first_examples(_transfers_in_another_currency()))
        for (key,) in cursor:
            report.problems.append(f"transfer {key}: its currency differs from an account's")
    for key in Transfer.objects.filter(amount__lte=0).order_by().values_list("key", flat=True)[:EXAMPLES]:
        report.problems.append(f"transfer {key}: amount is not positive")

    report.groups = TransferGroup.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(_first_examples(_groups_that_are_not_whole()))
        for key, declared, found in cursor:
            report.problems.append(f"group {key}: {declared} transfers written, {found} found")
    return report
