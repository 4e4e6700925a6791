"""Money whose amount differs from its pledge is decided by a person (services/review.py).

A bank line or a provider's payment naming a pending donation but bringing another amount
(under, over, above the per-donation maximum) or another currency is not booked: it waits with
both figures until finance accepts it as received (the donation's amount becomes what arrived)
or returns it. An exact match still books by itself.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations import services
from zbor.donations.bank_import import import_statement
from zbor.donations.events import receive_event
from zbor.donations.exceptions import DonationRefused, NotInReview
from zbor.donations.models import BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.ledger.models import TransferGroup
from zbor.payments.base import EventType
from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


def collected(campaign) -> int:
    return campaign_money(campaign.pk, []).collected


def bank_pledge(campaign, amount: int) -> Donation:
    return services.start_donation(
        campaign, amount=amount, need=None, provider="bank", idempotency_key=uuid.uuid4().hex
    )


def statement(*rows: str) -> bytes:
    return ("date,amount,currency,reference,transaction_id\n" + "".join(f"{r}\n" for r in rows)).encode()


def arrives(donation: Donation, amount: str, currency: str = "EUR", key: str | None = None) -> BankStatementLine:
    """A credit line naming the pledge's reference, imported by finance."""
    key = key or uuid.uuid4().hex
    import_statement(
        statement(f"2026-11-28,{amount},{currency},Donation {donation.checkout_reference},{key}"),
        by=factories.role_user("finance"),
    )
    return BankStatementLine.objects.latest("pk")


def demo_pledge(campaign, amount: int) -> Donation:
    return Donation.objects.create(
        campaign=campaign,
        amount=amount,
        currency=campaign.currency,
        provider="demo",
        checkout_reference=f"demo_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )


def paid(donation: Donation, amount: int, currency: str = "EUR") -> PaymentEventRecord:
    """The demo provider says the payment succeeded with ``amount``."""
    return receive_event(
        DemoProvider.event(donation.checkout_reference, EventType.SUCCEEDED, amount=amount, currency=currency)
    )


# -- bank lines ---------------------------------------------------------------------------


def test_a_line_of_exactly_the_pledged_amount_still_books_by_itself(campaign):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "60.00")
    donation.refresh_from_db()
    assert (line.status, donation.status, donation.amount) == (LineStatus.MATCHED, DonationStatus.SUCCEEDED, 6000)
    assert collected(campaign) == 6000


@pytest.mark.parametrize(
    ("pledged", "arrived", "currency"),
    [
        (6000, "6.00", "EUR"),  # under
        (6000, "600.00", "EUR"),  # over
        (20000, "20000.00", "EUR"),  # above the per-donation maximum (€10,000)
        (6000, "60.00", "PLN"),  # another currency
    ],
    ids=["under", "over", "above-maximum", "other-currency"],
)
def test_a_line_that_differs_waits_for_finance_with_both_figures(campaign, pledged, arrived, currency):
    donation = bank_pledge(campaign, pledged)
    line = arrives(donation, arrived, currency)
    donation.refresh_from_db()
    assert (line.status, line.donation_id, line.pledged) == (LineStatus.REVIEW, donation.pk, pledged)
    assert (donation.status, donation.amount) == (DonationStatus.PENDING, pledged)
    assert not TransferGroup.objects.filter(reference=donation.reference).exists()
    assert collected(campaign) == 0
    assert reconcile().ok


def test_the_pledge_does_not_expire_while_its_line_waits(campaign, settings):
    waiting, forgotten = bank_pledge(campaign, 6000), bank_pledge(campaign, 7000)
    arrives(waiting, "600.00")
    long_ago = timezone.now() - datetime.timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS + 1)
    Donation.objects.filter(pk__in=[waiting.pk, forgotten.pk]).update(created_at=long_ago)
    services.purge_expired_emails()
    assert Donation.objects.get(pk=waiting.pk).status == DonationStatus.PENDING
    assert Donation.objects.get(pk=forgotten.pk).status == DonationStatus.EXPIRED


def test_finance_accepts_a_line_as_received_and_the_donation_takes_its_amount(campaign):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "600.00")
    finance = factories.role_user("finance")
    services.accept_line(line, by=finance)
    donation.refresh_from_db()
    line.refresh_from_db()
    assert (donation.status, donation.amount) == (DonationStatus.SUCCEEDED, 60000)
    assert (line.status, line.pledged, line.amount, line.text) == (LineStatus.MATCHED, 6000, 60000, "")
    assert collected(campaign) == 60000
    actions = set(AuditEvent.objects.filter(actor=finance).values_list("action", "object_id"))
    assert ("donation.accept_amount", str(donation.pk)) in actions
    assert ("bank_statement_line.accept_amount", str(line.pk)) in actions
    assert reconcile().ok


def test_a_line_above_the_maximum_can_still_be_accepted_by_a_person(campaign):
    donation = bank_pledge(campaign, 20000)
    line = arrives(donation, "20000.00")
    services.accept_line(line, by=factories.role_user("finance"))
    assert Donation.objects.get(pk=donation.pk).amount == 2000000
    assert collected(campaign) == 2000000


def test_a_line_in_another_currency_can_only_be_returned(campaign):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "60.00", "PLN")
    finance = factories.role_user("finance")
    with pytest.raises(DonationRefused, match="PLN"):
        services.accept_line(line, by=finance)
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    services.return_line(line, reason="Sent in złoty", by=finance)
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.TO_RETURN


def test_finance_returns_a_line_and_the_pledge_can_still_be_paid_right(campaign):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "6.00")
    finance = factories.role_user("finance")
    with pytest.raises(DonationRefused):
        services.return_line(line, reason="  ", by=finance)  # a reason is required
    services.return_line(line, reason="The donor meant €60; sent back", by=finance)
    line.refresh_from_db()
    assert (line.status, line.donation_id, line.reason) == (
        LineStatus.TO_RETURN,
        None,
        "The donor meant €60; sent back",
    )
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert AuditEvent.objects.filter(actor=finance, action="bank_statement_line.return").exists()
    assert collected(campaign) == 0
    # The donor sends the right amount later: it books by itself.
    assert arrives(donation, "60.00").status == LineStatus.MATCHED
    assert collected(campaign) == 6000


def test_a_line_decided_twice_is_refused_clearly(campaign):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "600.00")
    finance = factories.role_user("finance")
    services.accept_line(line, by=finance)
    with pytest.raises(NotInReview, match="not waiting for a decision"):
        services.accept_line(line, by=finance)
    with pytest.raises(NotInReview):
        services.return_line(line, reason="changed my mind", by=finance)
    assert TransferGroup.objects.filter(reference=donation.reference).count() == 1
    assert collected(campaign) == 60000


def test_finance_splits_money_above_the_pledge_between_the_pledge_and_a_need(campaign):
    """€60 pledged, €600 arrived: the pledge is booked at €60 and €540 becomes a second gift,
    earmarked to the need the donor's words named; the campaign collected the €600 once."""
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "600.00")
    need = campaign.needs.order_by("position").last()
    finance = factories.role_user("finance")
    rest = services.split_line(line, campaign=campaign, need=need, by=finance)
    donation.refresh_from_db()
    line.refresh_from_db()
    assert (donation.status, donation.amount) == (DonationStatus.SUCCEEDED, 6000)
    assert (rest.status, rest.amount, rest.need_id, rest.provider) == (
        DonationStatus.SUCCEEDED,
        54000,
        need.pk,
        "bank",
    )
    assert (line.status, line.donation_id, line.pledged, line.text) == (LineStatus.MATCHED, donation.pk, 6000, "")
    assert line.key in rest.checkout_reference
    assert collected(campaign) == 60000
    actions = set(AuditEvent.objects.filter(actor=finance).values_list("action", flat=True))
    assert {"bank_statement_line.split", "donation.split"} <= actions
    with pytest.raises(NotInReview):
        services.split_line(line, campaign=campaign, by=finance)
    assert collected(campaign) == 60000
    assert reconcile().ok


def test_the_rest_of_a_split_can_go_to_another_campaign_of_the_same_currency(campaign):
    other = factories.campaign(slug="other-fund")
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "100.00")
    rest = services.split_line(line, campaign=other, by=factories.role_user("finance"))
    assert (rest.campaign_id, rest.amount, rest.need_id) == (other.pk, 4000, None)
    assert (collected(campaign), collected(other)) == (6000, 4000)
    assert reconcile().ok


@pytest.mark.parametrize(
    ("arrived", "currency", "target", "fault"),
    [
        ("6.00", "EUR", "same", "Only money above the pledge can be split"),
        ("60.00", "PLN", "same", "only be returned"),
        ("600.00", "EUR", "pln", "the campaign collects PLN"),
        ("600.00", "EUR", "foreign-need", "The need belongs to another campaign"),
    ],
    ids=["under", "other-currency", "campaign-in-another-currency", "need-of-another-campaign"],
)
def test_a_split_that_cannot_be_is_refused_and_books_nothing(campaign, arrived, currency, target, fault):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, arrived, currency)
    pln = factories.campaign(slug="pln-fund", currency="PLN")
    kwargs = {
        "same": {"campaign": campaign},
        "pln": {"campaign": pln},
        "foreign-need": {"campaign": campaign, "need": pln.needs.first()},
    }[target]
    with pytest.raises(DonationRefused, match=fault):
        services.split_line(line, by=factories.role_user("finance"), **kwargs)
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    assert Donation.objects.filter(status=DonationStatus.SUCCEEDED).count() == 0
    assert Donation.objects.count() == 1


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_only_finance_decides(campaign, role):
    donation = bank_pledge(campaign, 6000)
    line = arrives(donation, "600.00")
    event = paid(demo_pledge(campaign, 5000), 500)
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    for decide in (
        lambda: services.accept_line(line, by=user),
        lambda: services.return_line(line, reason="no", by=user),
        lambda: services.split_line(line, campaign=campaign, by=user),
        lambda: services.accept_payment(event, by=user),
        lambda: services.return_payment(event, reason="no", by=user),
    ):
        with pytest.raises(PermissionDenied):
            decide()
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    assert PaymentEventRecord.objects.get(pk=event.pk).status == EventStatus.REVIEW


# -- provider payments ----------------------------------------------------------------------


def test_a_payment_of_exactly_the_pledged_amount_still_books_by_itself(campaign):
    donation = demo_pledge(campaign, 5000)
    assert paid(donation, 5000).status == EventStatus.PROCESSED
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("pledged", "arrived", "currency"),
    [(5000, 500, "EUR"), (5000, 500000, "EUR"), (5000, 1000001, "EUR"), (5000, 5000, "USD")],
    ids=["under", "over", "above-maximum", "other-currency"],
)
def test_a_payment_that_differs_waits_for_finance(campaign, pledged, arrived, currency):
    donation = demo_pledge(campaign, pledged)
    record = paid(donation, arrived, currency)
    assert (record.status, record.pledged) == (EventStatus.REVIEW, pledged)
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert collected(campaign) == 0
    # Delivered again, it stays waiting.
    assert (
        receive_event(
            DemoProvider.event(donation.checkout_reference, EventType.SUCCEEDED, amount=arrived, currency=currency)
        ).status
        == EventStatus.REVIEW
    )
    report = reconcile()
    assert not report.ok and any("waiting for finance" in p for p in report.problems)


def test_finance_accepts_a_payment_as_received(campaign):
    donation = demo_pledge(campaign, 5000)
    record = paid(donation, 500000)
    finance = factories.role_user("finance")
    services.accept_payment(record, by=finance)
    donation.refresh_from_db()
    record.refresh_from_db()
    assert (donation.status, donation.amount) == (DonationStatus.SUCCEEDED, 500000)
    assert (record.status, record.pledged) == (EventStatus.PROCESSED, 5000)
    assert collected(campaign) == 500000
    assert AuditEvent.objects.filter(actor=finance, action="donation.accept_amount").exists()
    assert reconcile().ok
    with pytest.raises(NotInReview):
        services.accept_payment(record, by=finance)
    with pytest.raises(NotInReview):
        services.return_payment(record, reason="too late", by=finance)
    assert collected(campaign) == 500000


def test_finance_returns_a_payment_and_nothing_is_booked(campaign):
    donation = demo_pledge(campaign, 5000)
    record = paid(donation, 500)
    finance = factories.role_user("finance")
    services.return_payment(record, reason="Refund at the provider by hand", by=finance)
    record.refresh_from_db()
    assert (record.status, record.reason) == (EventStatus.DECLINED, "Refund at the provider by hand")
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert AuditEvent.objects.filter(actor=finance, action="payment_event.return").exists()
    assert collected(campaign) == 0
    with pytest.raises(NotInReview):
        services.accept_payment(record, by=finance)
    assert reconcile().ok


def test_a_payment_in_another_currency_cannot_be_accepted(campaign):
    record = paid(demo_pledge(campaign, 5000), 5000, "USD")
    with pytest.raises(DonationRefused, match="USD"):
        services.accept_payment(record, by=factories.role_user("finance"))
    assert PaymentEventRecord.objects.get(pk=record.pk).status == EventStatus.REVIEW


def test_a_second_payment_unlike_the_one_booked_needs_attention(campaign):
    donation = demo_pledge(campaign, 5000)
    paid(donation, 5000)
    assert paid(donation, 9000).status == EventStatus.ATTENTION
    assert Donation.objects.get(pk=donation.pk).amount == 5000
    assert collected(campaign) == 5000
