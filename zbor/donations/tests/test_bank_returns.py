"""Money sent back by hand shows up as a debit line of a later statement: finance links it to
the bank refund it sent (booked at approval: nothing more is booked) or to the line finance
returned (neither is booked), and the bank and the books agree again (issue 16)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations import bank_returns, services
from zbor.donations.bank_import import import_statement
from zbor.donations.exceptions import DonationRefused
from zbor.donations.models import BankStatementLine, LineStatus, Refund
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.test_amount_review import arrives, bank_pledge
from zbor.donations.tests.test_bank_books import balance_of, camt, entry
from zbor.donations.tests.test_staff_refunds import gift
from zbor.ledger.models import TransferGroup

pytestmark = pytest.mark.django_db

LINES = "/backoffice/donations/bankstatementline/"


@pytest.fixture
def people():
    return [factories.role_user("finance", f"fin-{n}") for n in range(2)]


def bank_refund(campaign, people, *, amount=2000) -> Refund:
    donation = gift(campaign, 5000, provider="bank")
    refund = services.request_refund(donation, amount=amount, reason="Sent twice", by=people[0])
    return services.approve_refund(refund, by=people[1])


def money_out(minor: int, people) -> BankStatementLine:
    import_statement(camt(entry(minor, text="Zwrot")), by=people[0])
    return BankStatementLine.objects.latest("pk")


def test_the_money_out_of_a_bank_refund_is_linked_to_it_and_books_nothing_more(campaign, people):
    refund = bank_refund(campaign, people)
    line = money_out(2000, people)
    assert line.status == LineStatus.OUTGOING
    groups = TransferGroup.objects.count()
    bank_returns.match_to_refund(line, refund=refund, by=people[0])
    line.refresh_from_db()
    assert (line.status, line.refund_id) == (LineStatus.SENT_BACK, refund.pk)
    assert TransferGroup.objects.count() == groups
    assert not bank_returns.unsent_bank_refunds().exists()
    assert AuditEvent.objects.filter(action="bank_statement_line.match_refund", object_id=str(line.pk)).exists()
    with pytest.raises(DonationRefused):  # decided: not waiting any more
        bank_returns.match_to_refund(line, refund=refund, by=people[0])


def test_a_returned_line_and_its_money_out_are_paired_and_neither_is_booked(campaign, people):
    returned = arrives(bank_pledge(campaign, 6000), "6.00")
    services.return_line(returned, reason="Pledged €60, €6 sent back", by=people[0])
    line = money_out(600, people)
    groups = TransferGroup.objects.count()
    bank_returns.match_to_return(line, returned=returned, by=people[1])
    line.refresh_from_db()
    returned.refresh_from_db()
    assert (line.status, line.returned_line_id, returned.status) == (
        LineStatus.SENT_BACK,
        returned.pk,
        LineStatus.RETURNED,
    )
    assert TransferGroup.objects.count() == groups and balance_of("provider:bank:EUR") == 0
    assert reconcile().ok, reconcile().lines()


def test_money_out_of_another_amount_is_not_what_was_sent_back(campaign, people):
    refund = bank_refund(campaign, people)
    returned = arrives(bank_pledge(campaign, 6000), "6.00")
    services.return_line(returned, reason="wrong amount", by=people[0])
    line = money_out(2100, people)
    with pytest.raises(DonationRefused, match="differ"):
        bank_returns.match_to_refund(line, refund=refund, by=people[0])
    with pytest.raises(DonationRefused, match="differ"):
        bank_returns.match_to_return(line, returned=returned, by=people[0])
    with pytest.raises(DonationRefused, match="not money waiting to be returned"):
        bank_returns.match_to_return(line, returned=line, by=people[0])
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.OUTGOING


def test_a_demo_refund_is_no_bank_refund(campaign, people):
    donation = gift(campaign, 5000)
    refund = services.approve_refund(
        services.request_refund(donation, amount=2000, reason="x", by=people[0]), by=people[1]
    )
    line = money_out(2000, people)
    with pytest.raises(DonationRefused, match="not a bank refund"):
        bank_returns.match_to_refund(line, refund=refund, by=people[0])


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_only_finance_says_what_money_out_sent_back(campaign, people, role):
    refund = bank_refund(campaign, people)
    line = money_out(2000, people)
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    with pytest.raises(PermissionDenied):
        bank_returns.match_to_refund(line, refund=refund, by=user)


def test_reconcile_names_a_bank_refund_whose_money_out_never_showed(campaign, people, settings):
    refund = bank_refund(campaign, people)
    assert not any("refund #" in p for p in reconcile().problems)
    Refund.objects.filter(pk=refund.pk).update(
        decided_at=timezone.now() - timedelta(days=settings.ZBOR_PAYOUT_LINE_DAYS + 1)
    )
    assert any(f"refund #{refund.pk}" in p for p in reconcile().problems)


def test_finance_links_money_out_on_its_page_choosing_among_what_fits(client, campaign, people):
    fits = bank_refund(campaign, people)
    other = bank_refund(campaign, people, amount=1500)
    line = money_out(2000, people)
    client.force_login(people[0])
    page = client.get(f"{LINES}{line.pk}/change/").content.decode()
    assert f'value="{fits.pk}"' in page and f'value="{other.pk}"' not in page
    both = client.post(f"{LINES}{line.pk}/change/", {"match_refund": fits.pk, "match_payout": 9})
    assert both.status_code == 200 and "not several" in both.content.decode()
    done = client.post(f"{LINES}{line.pk}/change/", {"match_refund": fits.pk}, follow=True)
    assert done.status_code == 200 and "sent back to the donor" in done.content.decode()
    assert BankStatementLine.objects.get(pk=line.pk).refund_id == fits.pk
