"""The ledger: balanced groups, idempotent posting, append-only in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from zbor.ledger.checks import check_ledger
from zbor.ledger.exceptions import IdempotencyConflict, UnbalancedGroup
from zbor.ledger.models import Account, AccountKind, Transfer, TransferGroup, TransferKind
from zbor.ledger.services import Line, get_account, post_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    return (
        get_account("provider:stripe:EUR", kind=AccountKind.PROVIDER, currency="EUR"),
        get_account("need:1", kind=AccountKind.NEED, currency="EUR", owner_kind="campaign", owner_id=1),
        get_account("fees:stripe:EUR", kind=AccountKind.FEES, currency="EUR"),
    )


def test_a_card_donation_with_a_fee_moves_the_balances(accounts):
    """€25.00 given to need 1 with a €0.98 fee: the need holds 25.00, Stripe owes 24.02."""
    clearing, need, fees = accounts
    group, created = post_group(
        "donation:x:succeeded",
        kind=TransferKind.DONATION,
        reference="donation:x",
        lines=[
            Line(clearing, need, 2500, TransferKind.DONATION),
            Line(fees, clearing, 98, TransferKind.FEE),
        ],
    )
    assert created and group.transfer_count == 2
    for account in (clearing, need, fees):
        account.refresh_from_db()
    assert need.credit_balance == 2500
    assert clearing.debit_balance == 2402
    assert fees.debit_balance == 98
    assert check_ledger().ok


def test_posting_the_same_key_twice_writes_once(accounts):
    clearing, need, _ = accounts
    lines = [Line(clearing, need, 1000, TransferKind.DONATION)]
    post_group("k1", kind=TransferKind.DONATION, reference="r", lines=lines)
    group, created = post_group("k1", kind=TransferKind.DONATION, reference="r", lines=lines)
    assert not created
    assert Transfer.objects.count() == 1
    need.refresh_from_db()
    assert need.credit_balance == 1000


def test_the_same_key_with_other_transfers_is_a_conflict(accounts):
    clearing, need, _ = accounts
    post_group(
        "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 1000, TransferKind.DONATION)]
    )
    with pytest.raises(IdempotencyConflict):
        post_group(
            "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 999, TransferKind.DONATION)]
        )


@pytest.mark.parametrize("amount", [0, -5, 10.5])
def test_non_positive_or_non_integer_amounts_are_refused(accounts, amount):
    clearing, need, _ = accounts
    with pytest.raises(UnbalancedGroup):
        post_group(
            "bad",
            kind=TransferKind.DONATION,
            reference="r",
            lines=[Line(clearing, need, amount, TransferKind.DONATION)],
        )
    assert not TransferGroup.objects.exists()


def test_mixed_currencies_and_self_transfers_are_refused(accounts):
    clearing, need, _ = accounts
    pln = get_account("need:2", kind=AccountKind.NEED, currency="PLN")
    with pytest.raises(UnbalancedGroup):
        post_group(
            "bad", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, pln, 100, TransferKind.DONATION)]
        )
    with pytest.raises(UnbalancedGroup):
        post_group(
            "bad", kind=TransferKind.DONATION, reference="r", lines=[Line(need, need, 100, TransferKind.DONATION)]
        )
    with pytest.raises(UnbalancedGroup):
        post_group("bad", kind=TransferKind.DONATION, reference="r", lines=[])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_transfer SET amount = amount + 1",
        "DELETE FROM ledger_transfer",
        "UPDATE ledger_transfergroup SET reference = 'x'",
        "DELETE FROM ledger_transfergroup",
    ],
)
def test_the_database_refuses_to_change_or_delete_ledger_rows(accounts, statement):
    clearing, need, _ = accounts
    post_group(
        "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 1000, TransferKind.DONATION)]
    )
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Transfer.objects.get().amount == 1000


def test_the_orm_cannot_change_a_transfer_either(accounts):
    clearing, need, _ = accounts
    post_group(
        "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 1000, TransferKind.DONATION)]
    )
    transfer = Transfer.objects.get()
    transfer.amount = 1
    with pytest.raises(DatabaseError), transaction.atomic():
        transfer.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_truncate_too(accounts):
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"  # SQLite has no TRUNCATE: DELETE is the only way
        return
    clearing, need, _ = accounts
    post_group(
        "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 1000, TransferKind.DONATION)]
    )
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE ledger_transfer CASCADE")


def test_the_check_finds_totals_that_do_not_match_their_transfers(accounts):
    clearing, need, _ = accounts
    post_group(
        "k1", kind=TransferKind.DONATION, reference="r", lines=[Line(clearing, need, 1000, TransferKind.DONATION)]
    )
    Account.objects.filter(pk=need.pk).update(credits_posted=1500)
    report = check_ledger()
    assert not report.ok
    assert any("need:1" in p for p in report.problems)
