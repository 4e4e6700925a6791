"""Finance decides on money whose amount differs in the back office: both figures in major units
with the currency, a confirmation page (with the warning above the maximum) before anything is
decided, a clear message (never a 500) when a line was decided before, no screen for other roles.
A Stripe payment signed with the real SDK for 100 times the donation waits too."""

import uuid

import pytest

from tests import factories
from tests.fake_stripe import stripe_enabled
from tests.helpers import text_of
from zbor.donations.models import BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.tests.test_amount_review import arrives, bank_pledge, demo_pledge, paid
from zbor.payments.models import EventStatus, PaymentEventRecord
from zbor.payments.tests.test_stripe import SECRET, send, session_completed, start_card_donation

pytestmark = pytest.mark.django_db

LINES = "/backoffice/donations/bankstatementline/"
PAYMENTS = "/backoffice/donations/paymentinreview/"


@pytest.fixture
def finance(client):
    client.force_login(factories.role_user("finance"))
    return client


def act(client, url, action, pks, **extra):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}, follow=True)


def test_the_review_queue_shows_both_figures_and_the_warning_above_the_maximum(campaign, finance):
    small = arrives(bank_pledge(campaign, 6000), "600.00")
    large = arrives(bank_pledge(campaign, 20000), "20000.00")
    page = text_of(finance.get(f"{LINES}?status__exact=review").content.decode())
    assert "€600" in page and "€60" in page and "€20,000" in page and "€200" in page
    assert "Above the per-donation maximum of €10,000" in page
    confirm = act(finance, LINES, "accept_as_received", [small.pk, large.pk])
    text = text_of(confirm.content.decode())
    assert confirm.status_code == 200 and "Above the per-donation maximum" in text and "€20,000" in text
    # Nothing is decided until the confirmation is posted.
    assert BankStatementLine.objects.get(pk=small.pk).status == LineStatus.REVIEW
    done = act(finance, LINES, "accept_as_received", [small.pk, large.pk], post="yes")
    assert done.status_code == 200 and "2 decided" in text_of(done.content.decode())
    amounts = set(Donation.objects.filter(provider="bank").values_list("status", "amount"))
    assert amounts == {(DonationStatus.SUCCEEDED, 60000), (DonationStatus.SUCCEEDED, 2000000)}


def test_return_asks_for_a_reason_and_deciding_twice_says_so(campaign, finance):
    line = arrives(bank_pledge(campaign, 6000), "6.00")
    empty = act(finance, LINES, "return_to_sender", [line.pk], post="yes", reason="")
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    act(finance, LINES, "return_to_sender", [line.pk], post="yes", reason="Pledged €60, sent back by hand")
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.TO_RETURN
    again = act(finance, LINES, "accept_as_received", [line.pk], post="yes")
    assert again.status_code == 200 and "not waiting for a decision" in again.content.decode()
    assert Donation.objects.get(provider="bank").status == DonationStatus.PENDING


def test_finance_splits_a_line_on_its_page_and_only_a_line_above_its_pledge_offers_it(campaign, finance):
    over = arrives(bank_pledge(campaign, 6000), "600.00")
    under = arrives(bank_pledge(campaign, 6000), "6.00")
    assert "split_rest_to" not in finance.get(f"{LINES}{under.pk}/change/").content.decode()
    page = finance.get(f"{LINES}{over.pk}/change/")
    assert page.status_code == 200 and "split_rest_to" in page.content.decode()
    need = campaign.needs.order_by("position").first()
    done = finance.post(f"{LINES}{over.pk}/change/", {"split_need": str(need.pk)}, follow=True)
    assert "the rest, €540, is a donation to" in text_of(done.content.decode())
    assert BankStatementLine.objects.get(pk=over.pk).status == LineStatus.MATCHED
    assert set(Donation.objects.filter(status=DonationStatus.SUCCEEDED).values_list("amount", "need_id")) == {
        (6000, None),
        (54000, need.pk),
    }
    # Posting the split again finds the line decided: a message, never a 500.
    again = finance.post(f"{LINES}{over.pk}/change/", {"split_rest_to": str(campaign.pk)}, follow=True)
    assert again.status_code == 200
    assert Donation.objects.filter(status=DonationStatus.SUCCEEDED).count() == 2


def test_payments_whose_amount_differs_are_decided_on_their_own_screen(campaign, finance):
    over = paid(demo_pledge(campaign, 5000), 500000)
    under = paid(demo_pledge(campaign, 5000), 500)
    page = text_of(finance.get(PAYMENTS).content.decode())
    assert "€5,000" in page and "€50" in page and "€5" in page
    act(finance, PAYMENTS, "accept_as_received", [over.pk], post="yes")
    act(finance, PAYMENTS, "return_to_sender", [under.pk], post="yes", reason="Refunded in the dashboard")
    assert PaymentEventRecord.objects.get(pk=over.pk).status == EventStatus.PROCESSED
    assert PaymentEventRecord.objects.get(pk=under.pk).status == EventStatus.DECLINED
    twice = act(finance, PAYMENTS, "return_to_sender", [over.pk], post="yes", reason="again")
    assert twice.status_code == 200 and "not waiting for a decision" in twice.content.decode()


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_other_roles_see_no_review_screen_and_cannot_decide(client, campaign, role):
    line = arrives(bank_pledge(campaign, 6000), "600.00")
    event = paid(demo_pledge(campaign, 5000), 500)
    client.force_login(factories.role_user(role) if role else factories.staff_user(superuser=False))
    assert client.get(PAYMENTS).status_code == 403
    assert client.get(LINES).status_code == 403
    assert act(client, LINES, "accept_as_received", [line.pk], post="yes").status_code == 403
    assert act(client, PAYMENTS, "accept_as_received", [event.pk], post="yes").status_code == 403
    assert BankStatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    assert PaymentEventRecord.objects.get(pk=event.pk).status == EventStatus.REVIEW


def test_a_signed_stripe_payment_of_100_times_the_donation_waits_for_finance(client, funded_campaign, settings):
    with stripe_enabled(settings, SECRET):
        start_card_donation(client, amount="25")
        session = Donation.objects.get(provider="stripe").checkout_reference
        response = send(client, "checkout.session.completed", session_completed(session, amount=250000))
    assert response.status_code == 200
    record = PaymentEventRecord.objects.get()
    assert (record.status, record.pledged) == (EventStatus.REVIEW, 2500)
    donation = Donation.objects.get(provider="stripe")
    assert (donation.status, donation.amount) == (DonationStatus.PENDING, 2500)


def test_a_bank_import_reports_lines_that_differ(client, campaign):
    client.force_login(factories.role_user("finance"))
    donation = bank_pledge(campaign, 6000)
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = f"date,amount,currency,reference,transaction_id\n2026-11-28,600.00,EUR,{donation.checkout_reference},{uuid.uuid4().hex}\n"
    response = client.post(
        "/backoffice/donations/bankstatement/import/",
        {"file": SimpleUploadedFile("s.csv", csv.encode())},
        follow=True,
    )
    assert "1 with an amount that differs" in text_of(response.content.decode())
