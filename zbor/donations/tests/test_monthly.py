"""Monthly gifts (issue 18): started with each provider that takes them, each month an
ordinary donation booked exactly once through the event path, an amount that differs waiting
for finance, and what the donor or staff change (stop, pause, resume, a new amount)."""

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Status
from zbor.donations import services
from zbor.donations.demo_monthly import advance_demo_month
from zbor.donations.events import receive_event
from zbor.donations.exceptions import DonationRefused
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.receipts import send_receipt
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.payments.base import EventType, PaymentEvent
from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


def start(campaign, provider="demo", amount=1000, email="donor@example.org") -> MonthlyGift:
    return services.start_monthly(
        campaign,
        amount=amount,
        provider=provider,
        email=email,
        language="en",
        idempotency_key=uuid.uuid4().hex,
    )


def first_month(gift: MonthlyGift) -> None:
    """What the demo checkout's "Complete" does: the subscription starts, the first month is paid."""
    receive_event(DemoProvider.subscription_started(gift.checkout_reference))
    receive_event(
        DemoProvider.monthly_paid(
            gift.reference, f"demo_inv_{gift.public_id.hex}_1", amount=gift.amount, currency=gift.currency
        )
    )
    gift.refresh_from_db()


def collected(campaign) -> int:
    return campaign_money(campaign.pk, []).collected


def test_demo_gift_starts_pending_with_its_checkout(campaign):
    gift = start(campaign)
    assert gift.status == MonthlyStatus.PENDING
    assert gift.reference.startswith("demo_sub_")
    assert gift.checkout_reference == gift.reference
    assert gift.checkout_url.endswith(f"/{gift.reference}/")


def test_the_same_form_twice_is_one_gift(campaign):
    key = uuid.uuid4().hex
    kwargs = dict(amount=1000, provider="demo", email="a@example.org", language="en", idempotency_key=key)
    assert services.start_monthly(campaign, **kwargs).pk == services.start_monthly(campaign, **kwargs).pk
    assert MonthlyGift.objects.count() == 1


def test_bank_gift_draws_a_permanent_reference(campaign):
    gift = start(campaign, provider="bank")
    assert gift.status == MonthlyStatus.PENDING
    assert gift.reference.startswith("ZB") and len(gift.reference) == 11
    assert gift.checkout_url == ""


def test_monthly_needs_an_email(campaign):
    with pytest.raises(DonationRefused, match="email"):
        start(campaign, email=" ")
    assert not MonthlyGift.objects.exists()


def test_demo_first_month_then_two_more_each_booked_once(campaign):
    gift = start(campaign)
    first_month(gift)
    assert gift.status == MonthlyStatus.ACTIVE and gift.last_paid_at is not None
    assert collected(campaign) == 1000

    assert advance_demo_month() == (1, 1)
    call_command("demo_advance_month", stdout=open("/dev/null", "w"))  # noqa: SIM115
    payments = Donation.objects.filter(monthly_gift=gift).order_by("pk")
    assert [d.status for d in payments] == [DonationStatus.SUCCEEDED] * 3
    assert [d.checkout_reference[-2:] for d in payments] == ["_1", "_2", "_3"]
    assert collected(campaign) == 3000

    # The third month's invoice delivered again (a new event id, the same invoice): booked once.
    receive_event(
        PaymentEvent(
            provider="demo",
            event_id="replayed",
            type=EventType.MONTHLY_PAID,
            checkout_reference=payments[2].checkout_reference,
            amount=1000,
            currency="EUR",
            extra={"subscription": gift.reference},
        )
    )
    # And the same event again.
    last = PaymentEventRecord.objects.get(event_id=f"demo_evt_{payments[2].checkout_reference}")
    receive_event(PaymentEvent.from_json("demo", last.event_id, last.data))
    assert Donation.objects.filter(monthly_gift=gift).count() == 3
    assert collected(campaign) == 3000
    assert reconcile().ok


def test_amount_that_differs_waits_for_finance(campaign):
    gift = start(campaign)
    first_month(gift)
    record = receive_event(
        DemoProvider.monthly_paid(gift.reference, "demo_inv_odd", amount=1500, currency=gift.currency)
    )
    assert record.status == EventStatus.REVIEW and record.pledged == 1000
    assert Donation.objects.get(checkout_reference="demo_inv_odd").status == DonationStatus.PENDING
    assert collected(campaign) == 1000
    services.accept_payment(record, by=factories.role_user("finance"))
    assert collected(campaign) == 2500


def test_a_month_paid_before_the_start_waits_for_it(campaign):
    """Out of order: the invoice names a subscription Zbor learns of only when the checkout's
    completion arrives (a card's sub_…); it is deferred, then booked."""
    gift = start(campaign)
    MonthlyGift.objects.filter(pk=gift.pk).update(reference="")  # as a card gift is before it starts
    paid = receive_event(DemoProvider.monthly_paid("demo_sub_later", "demo_inv_early", amount=1000, currency="EUR"))
    assert paid.status == EventStatus.DEFERRED
    receive_event(
        PaymentEvent(
            provider="demo",
            event_id="started",
            type=EventType.SUBSCRIPTION_STARTED,
            checkout_reference=gift.checkout_reference,
            extra={"subscription": "demo_sub_later", "customer": ""},
        )
    )
    paid.refresh_from_db()
    gift.refresh_from_db()
    assert paid.status == EventStatus.PROCESSED
    assert gift.status == MonthlyStatus.ACTIVE and gift.reference == "demo_sub_later"
    assert collected(campaign) == 1000


def test_closed_campaign_money_waits_for_finance(campaign):
    """Without a fund named for it (branch funds), a closed campaign's month has nowhere to go."""
    gift = start(campaign)
    first_month(gift)
    campaign.__class__.objects.filter(pk=campaign.pk).update(status=Status.CLOSED)
    gift.refresh_from_db()
    assert services.monthly_destination(gift) is None
    record = receive_event(DemoProvider.monthly_paid(gift.reference, "demo_inv_late", amount=1000, currency="EUR"))
    assert record.status == EventStatus.REVIEW


def test_destination_is_the_campaigns_monthly_target(campaign, monkeypatch):
    fund = factories.campaign()
    gift = start(campaign)
    first_month(gift)
    monkeypatch.setattr(type(campaign), "monthly_target", lambda self: fund, raising=False)
    receive_event(DemoProvider.monthly_paid(gift.reference, "demo_inv_fund", amount=1000, currency="EUR"))
    assert Donation.objects.get(checkout_reference="demo_inv_fund").campaign_id == fund.pk
    assert collected(fund) == 1000


def test_stop_by_donor_clears_email_and_is_audited(campaign):
    gift = start(campaign)
    first_month(gift)
    Donation.objects.filter(monthly_gift=gift).update(email="")  # its receipt went out
    assert services.stop_monthly(gift, reason=StopReason.DONOR)
    assert gift.status == MonthlyStatus.STOPPED and gift.email == "" and gift.stopped_at
    assert AuditEvent.objects.filter(action="monthly_gift.stop").exists()
    assert advance_demo_month() == (0, 0)
    assert not services.stop_monthly(gift, reason=StopReason.DONOR)


def test_stop_keeps_email_while_a_receipt_is_due(campaign):
    gift = start(campaign)
    first_month(gift)
    Donation.objects.filter(monthly_gift=gift).update(receipt_sent_at=None)
    services.stop_monthly(gift, reason=StopReason.DONOR)
    assert gift.email == "donor@example.org"


def test_staff_stop_needs_finance(campaign):
    gift = start(campaign)
    first_month(gift)
    with pytest.raises(PermissionDenied):
        services.stop_monthly(gift, reason=StopReason.STAFF, by=factories.role_user("editor"))
    services.stop_monthly(gift, reason=StopReason.STAFF, by=factories.role_user("finance"))
    assert gift.status == MonthlyStatus.STOPPED and gift.stop_reason == StopReason.STAFF


def test_pause_resume_and_change_amount(campaign):
    gift = start(campaign)
    first_month(gift)
    assert services.pause_monthly(gift)
    assert gift.status == MonthlyStatus.PAUSED
    assert advance_demo_month() == (0, 0)
    assert services.resume_monthly(gift)
    services.change_monthly_amount(gift, amount=2500)
    assert gift.amount == 2500
    assert advance_demo_month() == (1, 1)
    assert collected(campaign) == 3500
    with pytest.raises(DonationRefused):
        services.change_monthly_amount(gift, amount=0)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"monthly_gift.pause", "monthly_gift.resume", "monthly_gift.change_amount"} <= actions


def test_provider_events_fail_update_and_end(campaign):
    gift = start(campaign)
    first_month(gift)

    def event(kind, **extra):
        receive_event(
            PaymentEvent(
                provider="demo",
                event_id=uuid.uuid4().hex,
                type=kind,
                extra={"subscription": gift.reference, **extra},
            )
        )
        gift.refresh_from_db()

    event(EventType.MONTHLY_FAILED)
    assert gift.status == MonthlyStatus.FAILING
    event(EventType.SUBSCRIPTION_UPDATED, amount=700, paused=True)
    assert (gift.amount, gift.status) == (700, MonthlyStatus.PAUSED)
    event(EventType.SUBSCRIPTION_ENDED)
    assert gift.status == MonthlyStatus.STOPPED and gift.stop_reason == StopReason.PROVIDER


def test_monthly_supporters_counts_active_gifts(campaign):
    first_month(start(campaign))
    start(campaign)  # pending: not counted
    assert services.monthly_supporters(campaign) == 1


def test_each_month_has_a_receipt_saying_it_is_monthly(campaign, mailoutbox):
    gift = start(campaign)
    first_month(gift)
    send_receipt(Donation.objects.get(monthly_gift=gift).pk)  # queued on commit in production
    assert len(mailoutbox) == 1
    assert "one month's payment of your monthly gift" in mailoutbox[0].body
    assert "has closed" not in mailoutbox[0].body


def test_a_month_sent_to_the_fund_says_so(campaign, monkeypatch, mailoutbox):
    fund = factories.campaign()
    gift = start(campaign)
    first_month(gift)
    monkeypatch.setattr(type(campaign), "monthly_target", lambda self: fund, raising=False)
    advance_demo_month()
    send_receipt(Donation.objects.get(checkout_reference__endswith="_2").pk)
    assert "went to the foundation's fund named for it" in mailoutbox[-1].body
    assert campaign.safe_translation_getter("title") not in mailoutbox[-1].body


def test_an_email_kept_for_a_receipt_goes_after_the_retention_period(campaign, settings):
    gift = start(campaign)
    first_month(gift)
    services.stop_monthly(gift, reason=StopReason.DONOR)
    assert gift.email  # the first month's receipt is still to send
    services.purge_expired_emails()
    gift.refresh_from_db()
    assert gift.email  # stopped just now: within the retention period
    MonthlyGift.objects.filter(pk=gift.pk).update(
        stopped_at=gift.stopped_at - datetime.timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS + 1)
    )
    services.purge_expired_emails()
    gift.refresh_from_db()
    assert gift.email == ""


@pytest.mark.parametrize("provider", ["demo", "bank"])
def test_a_gift_whose_first_payment_never_came_stops_and_forgets_its_email(campaign, settings, provider):
    waiting = factories.monthly_gift(
        campaign, email="never.paid@example.org", provider=provider, status=MonthlyStatus.PENDING
    )
    running = factories.monthly_gift(campaign, email="pays@example.org", provider=provider)
    days = settings.ZBOR_MONTHLY_PENDING_DAYS
    MonthlyGift.objects.filter(pk__in=[waiting.pk, running.pk]).update(
        created_at=timezone.now() - datetime.timedelta(days=days - 1)
    )
    services.purge_expired_emails()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.email) == (MonthlyStatus.PENDING, "never.paid@example.org")  # still in time

    MonthlyGift.objects.filter(pk__in=[waiting.pk, running.pk]).update(
        created_at=timezone.now() - datetime.timedelta(days=days + 1)
    )
    services.purge_expired_emails()
    waiting.refresh_from_db()
    running.refresh_from_db()
    assert (waiting.status, waiting.stop_reason, waiting.email) == (MonthlyStatus.STOPPED, StopReason.LAPSED, "")
    assert waiting.stopped_at is not None
    assert (running.status, running.email) == (MonthlyStatus.ACTIVE, "pays@example.org")  # an active gift stays
