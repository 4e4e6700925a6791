"""The refund admin screen (zbor/donations/refund_admin.py) for each role: only finance sees,
requests and approves refunds, never its own; a card refund Stripe refuses, or that fails in
an unforeseen way, is a message on the list, never an error page."""

import pytest

from tests import factories
from tests.fake_stripe import stripe_enabled
from zbor.donations import services
from zbor.donations.models import Donation, Refund, RefundCover, RefundStatus
from zbor.donations.tests.test_card_refunds import SECRET, card_gift, refund_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


@pytest.fixture
def people():
    return [factories.role_user("finance", f"admin-fin-{n}") for n in range(2)]


def post_request(client, donation, amount="20.00", cover="automatic"):
    return client.post(
        "/backoffice/donations/refund/add/",
        {"donation": str(donation.pk), "amount": amount, "reason": "Donor asked", "cover": cover},
        follow=True,
    )


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_other_roles_can_neither_see_nor_request_nor_approve_refunds(client, campaign, fake, people, role):
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=1000, reason="x", by=people[0])
    client.force_login(user)
    assert client.get("/backoffice/donations/refund/").status_code == 403
    assert post_request(client, donation).status_code == 403
    response = client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    assert response.status_code == 403
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED and refund_requests(fake) == []


def test_finance_requests_a_card_refund_in_the_admin_and_another_approves_it(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    client.force_login(people[0])
    assert client.get("/backoffice/donations/refund/add/").status_code == 200
    response = post_request(client, donation, cover="reserve")
    assert response.status_code == 200, response.content
    refund = Refund.objects.get(donation=donation)
    assert (refund.amount, refund.cover) == (2000, RefundCover.RESERVE)
    # The requester's own approval is refused with a message, not an error page.
    response = client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    assert response.status_code == 200 and "someone else" in response.content.decode()
    client.force_login(people[1])
    response = client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    assert response.status_code == 200
    refund.refresh_from_db()
    assert (refund.status, refund.provider_refund_id) == (RefundStatus.BOOKED, "re_test_1")
    assert client.get(f"/backoffice/donations/refund/{refund.pk}/change/").status_code == 200


def test_a_refused_card_refund_shows_stripes_reason_in_the_admin(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.payments[donation.payment_reference]["amount_refunded"] = 5000
    refund = services.request_refund(donation, amount=1000, reason="x", by=people[0])
    client.force_login(people[1])
    response = client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert "has already been refunded" in response.content.decode()
    listing = client.get("/backoffice/donations/refund/?status__exact=failed").content.decode()
    assert "has already been refunded" in listing


def test_the_admin_refuses_a_refund_without_a_cover_choice(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    client.force_login(people[0])
    response = client.post(
        "/backoffice/donations/refund/add/",
        {"donation": str(donation.pk), "amount": "10", "reason": "Donor asked"},
    )
    assert response.status_code == 200 and not Refund.objects.exists()


def test_an_unforeseen_error_asking_stripe_is_a_message_not_an_error_page(client, campaign, fake, people, monkeypatch):
    from zbor.payments.stripe import StripeProvider

    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(StripeProvider, "refund", broken)
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    client.force_login(people[1])
    response = client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    assert response.status_code == 200 and "did not answer" in response.content.decode()
    refund.refresh_from_db()
    assert (refund.status, refund.failure) == (RefundStatus.SENT, "a bug")
    assert Donation.objects.get(pk=donation.pk).refunded == 0
