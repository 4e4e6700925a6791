"""`zbor reconcile --stripe-monthly` (issue 18): Stripe's subscriptions and paid invoices, read
page by page through the SDK from the local fake, against the monthly gifts and their donations.
A clean run says so; each kind of difference is one line naming ids and amounts; a month whose
webhook never arrived can be booked through the webhook's own path, once."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.fake_stripe import stripe_enabled
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.stripe_monthly import SECRET, completed, first_invoice, post, start
from zbor.payments import stripe_billing
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db
HOUR_AGO = int(time.time()) - 3600


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        fake.billing.now = HOUR_AGO  # long enough ago for every webhook to have arrived
        yield fake


def running_gift(client, campaign, fake, amount=1000) -> MonthlyGift:
    """A gift whose checkout and first month arrived."""
    gift = start(campaign, amount=amount)
    completed(client, fake, gift)
    assert post(client, "invoice.paid", first_invoice(fake, gift)) == EventStatus.PROCESSED
    return gift


def differences() -> list[str]:
    report = reconcile(stripe_monthly=True)
    return [line for line in report.lines() if line.startswith("DIFFERENCE")]


def test_a_clean_run_reads_every_page_and_finds_nothing(client, campaign, fake, monkeypatch):
    monkeypatch.setattr(stripe_billing, "PAGE", 2)  # the fake's lists are short: small pages
    gifts = [running_gift(client, campaign, fake, amount=1000 + n) for n in range(3)]
    post(client, "invoice.paid", fake.billing.bill(gifts[0].reference))
    services.pause_monthly(gifts[1])
    services.stop_monthly(gifts[2], reason=StopReason.DONOR)
    # Something else the foundation bills on the account: not a monthly gift, not compared.
    other = start(campaign)
    session = fake.billing.complete_checkout(other.checkout_reference)
    fake.billing.subscriptions[session["subscription"]]["metadata"] = {}
    for invoice in fake.billing.invoices.values():
        if invoice["parent"]["subscription_details"]["subscription"] == session["subscription"]:
            invoice["parent"]["subscription_details"]["metadata"] = {}

    report = reconcile(stripe_monthly=True)
    assert report.ok, report.lines()
    assert "Stripe subscriptions checked: 3, paid invoices: 5" in report.lines()
    pages = [r["path"] for r in fake.requests if r["method"] == "GET" and r["path"].startswith("/v1/invoices?")]
    assert len(pages) == 3 and "starting_after=in_" in pages[1] and "status=paid" in pages[0]
    assert any("starting_after=sub_" in r["path"] for r in fake.requests if r["path"].startswith("/v1/subscriptions?"))


def test_without_the_flag_stripe_is_not_read(client, campaign, fake):
    running_gift(client, campaign, fake)
    asked = len(fake.requests)
    report = reconcile()
    assert report.ok and len(fake.requests) == asked
    assert not any(line.startswith("Stripe subscriptions") for line in report.lines())


def test_a_paid_month_whose_webhook_never_arrived_is_named_then_booked_once(client, campaign, fake):
    gift = running_gift(client, campaign, fake)
    lost = fake.billing.bill(gift.reference)
    assert differences() == [
        f"DIFFERENCE: Stripe invoice {lost['id']} (1000 EUR, subscription {gift.reference}) "
        "was paid, Zbor has no donation for it"
    ]

    report = reconcile(stripe_monthly=True, book_missing_months=True)
    assert report.ok, report.lines()
    assert f"BOOKED: Stripe invoice {lost['id']}: its month was missing, now processed" in report.lines()
    month = Donation.objects.get(checkout_reference=lost["id"])
    assert month.status == DonationStatus.SUCCEEDED and month.monthly_gift_id == gift.pk
    assert month.payment_reference.startswith("pi_") and month.fee > 0
    assert PaymentEventRecord.objects.get(event_id=f"reconcile:{lost['id']}").status == EventStatus.PROCESSED

    # The webhook arrives after all, and the next run books nothing more.
    assert post(client, "invoice.paid", lost) == EventStatus.PROCESSED
    report = reconcile(stripe_monthly=True, book_missing_months=True)
    assert report.ok and report.booked == []
    assert Donation.objects.filter(monthly_gift=gift).count() == 2


def test_only_the_recent_months_are_compared_and_not_the_last_moments(client, campaign, fake, settings):
    gift = running_gift(client, campaign, fake)
    fake.billing.now = int(time.time())
    fake.billing.bill(gift.reference)  # its webhook is on its way
    fake.billing.now = int(time.time()) - (settings.ZBOR_STRIPE_INVOICE_DAYS + 1) * 86400
    fake.billing.bill(gift.reference)  # long before the period reconciled: not asked for
    assert differences() == []
    [listing] = [r["path"] for r in fake.requests if r["path"].startswith("/v1/invoices?")]
    assert "created%5Bgte%5D=" in listing or "created[gte]=" in listing


def test_a_month_booked_for_another_amount_is_named(client, campaign, fake):
    gift = running_gift(client, campaign, fake)
    invoice = first_invoice(fake, gift)
    fake.billing.invoices[invoice["id"]]["amount_paid"] = 1200
    [line] = differences()
    assert line.startswith(f"DIFFERENCE: Stripe invoice {invoice['id']}: Stripe 1200 EUR, Zbor donation:")
    assert line.endswith(" 1000 EUR")


def test_lost_subscription_events_show_as_state_differences(client, campaign, fake):
    failing, changed, ended = (running_gift(client, campaign, fake) for _ in range(3))
    fake.billing.bill(failing.reference, paid=False)  # invoice.payment_failed never arrived
    fake.billing.subscriptions[changed.reference]["items"]["data"][0]["price"]["unit_amount"] = 2000
    fake.billing.subscriptions[ended.reference]["status"] = "canceled"  # deleted at Stripe
    assert sorted(differences()) == sorted(
        [
            f"DIFFERENCE: Stripe subscription {failing.reference} (past_due): monthly gift {failing.public_id} "
            "is active in Zbor, past due or unpaid at Stripe",
            f"DIFFERENCE: Stripe subscription {changed.reference} (active) bills 2000 EUR a month, "
            f"monthly gift {changed.public_id} says 1000 EUR",
            f"DIFFERENCE: monthly gift {ended.public_id} is active in Zbor, its subscription {ended.reference} "
            "is canceled at Stripe",
        ]
    )


def test_a_paused_or_failing_gift_is_compared_as_such(client, campaign, fake):
    paused = running_gift(client, campaign, fake)
    services.pause_monthly(paused)
    failing = running_gift(client, campaign, fake)
    post(client, "invoice.payment_failed", fake.billing.bill(failing.reference, paid=False))
    assert differences() == []
    fake.billing.subscriptions[paused.reference]["pause_collection"] = None  # resumed at Stripe only
    [line] = differences()
    assert line.endswith(f"monthly gift {paused.public_id} is paused in Zbor, active at Stripe")


def test_subscriptions_zbor_does_not_know_or_stopped_are_named(client, campaign, fake):
    stopped = running_gift(client, campaign, fake)
    MonthlyGift.objects.filter(pk=stopped.pk).update(status=MonthlyStatus.STOPPED)  # the cancel was lost
    pending = start(campaign)
    session = fake.billing.complete_checkout(pending.checkout_reference)  # its completion never arrived
    strange = start(campaign)
    other = fake.billing.complete_checkout(strange.checkout_reference)
    stranger = "notazborgift"  # another system's id: names no gift either
    fake.billing.subscriptions[other["subscription"]]["metadata"] = {"zbor_gift": stranger}
    for invoice in fake.billing.invoices.values():
        subscription = invoice["parent"]["subscription_details"]
        if subscription["subscription"] == other["subscription"]:
            subscription["metadata"] = {"zbor_gift": stranger}
    pending_invoice = [
        i["id"]
        for i in fake.billing.invoices.values()
        if i["parent"]["subscription_details"]["subscription"] == session["subscription"]
    ][0]
    lines = differences()
    assert (
        f"DIFFERENCE: Stripe subscription {stopped.reference} (active) still bills monthly gift "
        f"{stopped.public_id}, stopped in Zbor: cancel it at Stripe"
    ) in lines
    assert (
        f"DIFFERENCE: Stripe subscription {session['subscription']} (active) bills monthly gift "
        f"{pending.public_id}; Zbor has it pending (its checkout never completed)"
    ) in lines
    assert (
        f"DIFFERENCE: Stripe subscription {other['subscription']} (active) names a monthly gift {stranger} "
        "unknown to Zbor"
    ) in lines
    assert any(line.startswith(f"DIFFERENCE: Stripe invoice {pending_invoice} ") for line in lines)
    assert len(lines) == 5  # and the stranger's paid invoice


def test_stripe_that_cannot_be_read_is_a_difference_not_a_crash(client, campaign, fake, settings):
    running_gift(client, campaign, fake)
    fake.fail_next_read = True
    [line] = differences()
    assert line.startswith("DIFFERENCE: Stripe monthly gifts could not be read: Stripe refused to list the")
    settings.ZBOR_PAYMENT_PROVIDERS = ["bank", "demo"]
    from zbor.payments import registry

    registry._providers.cache_clear()
    assert differences() == ["DIFFERENCE: Stripe monthly gifts: Stripe is not configured, nothing was compared"]


def test_the_command_takes_the_flags(client, campaign, fake):
    gift = running_gift(client, campaign, fake)
    out = io.StringIO()
    call_command("reconcile", "--stripe-monthly", stdout=out)
    assert "Stripe subscriptions checked: 1, paid invoices: 1" in out.getvalue()
    assert "clean: no differences" in out.getvalue()
    lost = fake.billing.bill(gift.reference)
    with pytest.raises(SystemExit):
        call_command("reconcile", "--stripe-monthly", stdout=io.StringIO())
    out = io.StringIO()
    call_command("reconcile", "--stripe-monthly", "--book-missing-months", stdout=out)
    assert f"BOOKED: Stripe invoice {lost['id']}" in out.getvalue()
    with pytest.raises(CommandError, match="needs --stripe-monthly"):
        call_command("reconcile", "--book-missing-months")


def test_a_month_waiting_for_finance_is_named_once_and_not_after_it_is_returned(client, campaign, fake):
    gift = running_gift(client, campaign, fake)
    odd = fake.billing.bill(gift.reference)
    fake.billing.invoices[odd["id"]]["amount_paid"] = odd["amount_paid"] = 1700
    assert post(client, "invoice.paid", odd) == EventStatus.REVIEW
    record = PaymentEventRecord.objects.get(checkout_reference=odd["id"])
    assert differences() == [
        f"DIFFERENCE: stripe event {record.event_id}: its amount differs, waiting for finance to decide"
    ]
    services.return_payment(record, reason="Not what the donor pledged", by=factories.role_user("finance"))
    assert differences() == []


def test_a_month_that_cannot_be_read_to_book_it_is_named_with_the_rest(client, campaign, fake):
    gift = running_gift(client, campaign, fake)
    lost = fake.billing.bill(gift.reference)
    fake.billing.subscriptions[gift.reference]["items"]["data"][0]["price"]["unit_amount"] = 2000
    real = fake.billing.answer

    def refuse_the_invoice(method, path, form):
        if path.startswith(f"/v1/invoices/{lost['id']}"):
            return 402, {"error": {"type": "invalid_request_error", "message": "refused"}}
        return real(method, path, form)

    fake.billing.answer = refuse_the_invoice
    report = reconcile(stripe_monthly=True, book_missing_months=True)
    lines = [line for line in report.lines() if line.startswith("DIFFERENCE")]
    assert lines[0].startswith(f"DIFFERENCE: Stripe invoice {lost['id']} could not be read to book it: ")
    assert any("was paid, Zbor has no donation for it" in line for line in lines)
    assert any("bills 2000 EUR a month" in line for line in lines)  # the other checks ran too
    assert report.booked == []
