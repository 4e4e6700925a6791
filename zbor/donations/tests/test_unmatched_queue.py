"""The unmatched queue resolves everything (issue 16): a bank line no pledge claimed is attached
to its pledge, assigned to a campaign and need, marked not a donation, returned, or — a
reversal — marked handled; each by finance only, once, audited; and the queue shows them all."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Need
from zbor.donations import services
from zbor.donations.bank_import import import_statement
from zbor.donations.exceptions import DonationRefused, NotInReview
from zbor.donations.models import BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.test_amount_review import bank_pledge, statement
from zbor.ledger.selectors import credit_balances
from zbor.payments.bank import format_reference

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return factories.role_user("finance")


def unmatched(text: str = "for the family", amount: str = "25.00", currency: str = "EUR") -> BankStatementLine:
    key = uuid.uuid4().hex
    import_statement(statement(f"2026-11-28,{amount},{currency},{text},{key}"), by=factories.role_user("finance"))
    line = BankStatementLine.objects.get(key=f"csv:{key}")
    assert line.status == LineStatus.UNMATCHED
    return line


def test_a_line_is_attached_to_its_pledge_by_a_reference_in_any_spelling(campaign, finance):
    pledge = bank_pledge(campaign, 2500)
    line = unmatched("Transfer")  # the donor forgot the reference: the pledge waits
    typed = format_reference(pledge.checkout_reference).lower().replace("-", " ")
    donation = services.attach_line(line, reference=typed, by=finance)
    line.refresh_from_db()
    assert donation.pk == pledge.pk and donation.status == DonationStatus.SUCCEEDED and donation.amount == 2500
    assert (line.status, line.donation_id) == (LineStatus.ASSIGNED, pledge.pk)
    assert AuditEvent.objects.filter(action="bank_statement_line.attach", object_id=str(line.pk)).exists()
    with pytest.raises(NotInReview):
        services.attach_line(line, reference=typed, by=finance)


def test_attaching_to_a_reference_no_pending_pledge_has_is_refused(campaign, finance):
    line = unmatched()
    with pytest.raises(DonationRefused, match="No pending bank pledge"):
        services.attach_line(line, reference="ZB0000-00000", by=finance)
    line.refresh_from_db()
    assert line.status == LineStatus.UNMATCHED


def test_an_assigned_line_keeps_the_earmark_of_the_need_it_names(campaign, finance):
    need = Need.objects.filter(campaign=campaign).order_by("position").last()
    donation = services.assign_line(unmatched("for winter boots"), campaign=campaign, need=need, by=finance)
    assert (donation.campaign_id, donation.need_id, donation.amount) == (campaign.pk, need.pk, 2500)
    other = factories.campaign()
    with pytest.raises(DonationRefused, match="another campaign"):
        services.assign_line(unmatched(), campaign=other, need=need, by=finance)


def test_money_that_is_no_donation_is_booked_as_other_income_with_its_reason(campaign, finance):
    line = unmatched("Membership fee 2027", amount="12.00")
    with pytest.raises(DonationRefused):
        services.mark_not_a_donation(line, reason="  ", by=finance)
    services.mark_not_a_donation(line, reason="A member's yearly fee", by=finance)
    line.refresh_from_db()
    assert (line.status, line.reason) == (LineStatus.NOT_DONATION, "A member's yearly fee")
    assert credit_balances(["income:EUR"]) == {"income:EUR": 1200}
    assert not Donation.objects.filter(campaign=campaign).exists()
    assert reconcile().ok, reconcile().lines()


def test_an_unmatched_line_can_be_returned_to_its_sender(finance):
    line = unmatched("wrong account")
    services.return_line(line, reason="Sent to us by mistake", by=finance)
    line.refresh_from_db()
    assert (line.status, line.reason) == (LineStatus.TO_RETURN, "Sent to us by mistake")


def test_a_reversal_is_marked_handled_and_only_a_reversal(finance):
    line = unmatched()
    with pytest.raises(NotInReview):
        services.settle_reversal(line, reason="x", by=finance)
    BankStatementLine.objects.filter(pk=line.pk).update(status=LineStatus.REVERSAL)
    services.settle_reversal(line, reason="Returned by the donor's bank: the pledge expired", by=finance)
    line.refresh_from_db()
    assert line.status == LineStatus.REVERSAL_HANDLED


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_only_finance_decides(campaign, role):
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    line = unmatched()
    for decide in (
        lambda: services.assign_line(line, campaign=campaign, by=user),
        lambda: services.mark_not_a_donation(line, reason="fee", by=user),
        lambda: services.attach_line(line, reference="x", by=user),
    ):
        with pytest.raises(PermissionDenied):
            decide()


def test_the_queue_shows_reversals_too_and_the_line_page_attaches(client, campaign):
    client.force_login(factories.role_user("finance"))
    line = unmatched("no reference here")
    reversal = unmatched("RETURNED")
    BankStatementLine.objects.filter(pk=reversal.pk).update(status=LineStatus.REVERSAL)
    queue = client.get("/backoffice/donations/bankstatementline/?queue=waiting").content.decode()
    assert f"/{line.pk}/change/" in queue and f"/{reversal.pk}/change/" in queue
    pledge = bank_pledge(campaign, 2500)
    response = client.post(
        f"/backoffice/donations/bankstatementline/{line.pk}/change/",
        {"attach_to_pledge": pledge.checkout_reference},
        follow=True,
    )
    assert response.status_code == 200
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED
    response = client.post(
        "/backoffice/donations/bankstatementline/",
        {"action": "reversal_handled", "_selected_action": [str(reversal.pk)], "post": "yes", "reason": "Handled"},
        follow=True,
    )
    reversal.refresh_from_db()
    assert reversal.status == LineStatus.REVERSAL_HANDLED
