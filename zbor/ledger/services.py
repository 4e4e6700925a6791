"""Writing to the ledger: every movement of money goes through ``post_group`` (one group, once),
or ``post_new_groups`` (many new groups in a few statements: donations booked in batches).

Worked example — a €25.00 card donation to need #7 with a €0.98 Stripe fee::

    post_group("donation:3f2a…:succeeded", kind="donation", reference="donation:3f2a…", lines=[
        Line(debit=provider:stripe:EUR, credit=need:7,             amount=2500, kind="donation"),
        Line(debit=fees:stripe:EUR,     credit=provider:stripe:EUR, amount=98,   kind="fee"),
    ])

Afterwards need:7 holds 25.00 more (credit balance), Stripe owes the foundation 24.02 more
(debit balance of its clearing account: 25.00 − 0.98), and the fees account shows 0.98 spent.
Posting the same key again returns the first group and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When

from .exceptions import IdempotencyConflict, UnbalancedGroup
from .models import Account, Transfer, TransferGroup


@dataclass(frozen=True)
class Line:
    debit: Account
    credit: Account
    amount: int
    kind: str


def get_account(code: str, *, kind: str, currency: str, owner_kind: str = "", owner_id: int | None = None) -> Account:
    """The account with this code, created on first use (safe under concurrency)."""
    account, _created = Account.objects.get_or_create(
        code=code, defaults={"kind": kind, "currency": currency, "owner_kind": owner_kind, "owner_id": owner_id}
    )
    if account.currency != currency:
        raise UnbalancedGroup(f"Account {code} is in {account.currency}, not {currency}")
    return account


def _validate(lines: Sequence[Line]) -> str:
    if not lines:
        raise UnbalancedGroup("A group needs at least one transfer.")
    currencies = set()
    for line in lines:
        if not isinstance(line.amount, int) or isinstance(line.amount, bool) or line.amount <= 0:
            raise UnbalancedGroup(f"Transfer amounts are positive integers, not {line.amount!r}.")
        if line.debit.pk == line.credit.pk:
            raise UnbalancedGroup("A transfer moves money between two different accounts.")
        currencies |= {line.debit.currency, line.credit.currency}
    if len(currencies) != 1:
        raise UnbalancedGroup(f"A group is in one currency, not {sorted(currencies)}.")
    return currencies.pop()


def _same_lines(group: TransferGroup, lines: Sequence[Line]) -> bool:
    stored = sorted(group.transfers.values_list("debit_account_id", "credit_account_id", "amount", "kind"))
    wanted = sorted((line.debit.pk, line.credit.pk, line.amount, line.kind) for line in lines)
    return stored == wanted


def post_group(key: str, *, kind: str, reference: str, lines: Sequence[Line]) -> tuple[TransferGroup, bool]:
    """Write one movement of money, once. Returns (group, created).

    Runs in one transaction: the group, its transfers and the account totals are written
    together or not at all. The accounts are locked in primary-key order first, so groups
    posted concurrently to overlapping accounts queue instead of deadlocking.

    Posting a key that exists returns the existing group (``created`` False) — the database's
    unique constraint decides, not a check in Python — and raises IdempotencyConflict if the
    transfers asked for differ from those stored.
    """
    currency = _validate(lines)
    with transaction.atomic():
        existing = TransferGroup.objects.filter(key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    group = TransferGroup.objects.create(
                        key=key, kind=kind, reference=reference, transfer_count=len(lines)
                    )
            except IntegrityError:
                existing = TransferGroup.objects.get(key=key)
        if existing is not None:
            if not _same_lines(existing, lines):
                raise IdempotencyConflict(f"{key} was posted before with other transfers.")
            return existing, False

        _book([(group, lines, currency)])
    return group, True


@dataclass(frozen=True)
class NewGroup:
    key: str
    kind: str
    reference: str
    lines: Sequence[Line]


def post_new_groups(groups: Sequence[NewGroup]) -> list[TransferGroup]:
    """Write many movements of money at once: a few statements for the whole batch.

    For callers that know none of the keys was posted before, because they hold the lock that
    every posting of these keys takes (the confirmation of donations, booked in batches per
    campaign: zbor.donations.services). A key that exists anyway fails the whole batch on the
    database's unique constraint, and nothing is written.
    """
    currencies = [_validate(group.lines) for group in groups]
    if not groups:
        return []
    with transaction.atomic(savepoint=False):
        created = TransferGroup.objects.bulk_create(
            TransferGroup(key=group.key, kind=group.kind, reference=group.reference, transfer_count=len(group.lines))
            for group in groups
        )
        _book([(row, group.lines, currency) for row, group, currency in zip(created, groups, currencies, strict=True)])
    return created


def _book(groups: Sequence[tuple[TransferGroup, Sequence[Line], str]]) -> None:
    """Insert the groups' transfers and add them to the account totals, once per account.

    The accounts are locked in primary-key order first, so postings to overlapping accounts
    queue instead of deadlocking."""
    debits: dict[int, int] = {}
    credits: dict[int, int] = {}
    for _group, lines, _currency in groups:
        for line in lines:
            debits[line.debit.pk] = debits.get(line.debit.pk, 0) + line.amount
            credits[line.credit.pk] = credits.get(line.credit.pk, 0) + line.amount
    account_ids = sorted(debits.keys() | credits.keys())
    list(Account.objects.select_for_update(no_key=True).filter(pk__in=account_ids).order_by("pk").values_list("pk"))
    Transfer.objects.bulk_create(
        Transfer(
            group=group,
            debit_account=line.debit,
            credit_account=line.credit,
            amount=line.amount,
            currency=currency,
            kind=line.kind,
            key=f"{group.key}#{index}",
        )
        for group, lines, currency in groups
        for index, line in enumerate(lines)
    )

    def added(totals: dict[int, int]) -> Case:
        return Case(*(When(pk=pk, then=Value(amount)) for pk, amount in totals.items()), default=Value(0))

    Account.objects.filter(pk__in=account_ids).update(
        debits_posted=F("debits_posted") + added(debits), credits_posted=F("credits_posted") + added(credits)
    )
