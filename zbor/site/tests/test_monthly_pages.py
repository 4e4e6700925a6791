"""A donor chooses "Monthly" on the donate form (no JavaScript needed), pays the first month
through the demo checkout, sees the next months arrive, and the campaign page counts them."""

import re
import uuid

import pytest

from tests import factories
from tests.helpers import CAMPAIGN, text_of
from zbor.donations.demo_monthly import advance_demo_month
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus
from zbor.donations.selectors import DONOR_COUNTS
from zbor.donations.services.monthly import SUPPORTER_COUNTS

pytestmark = pytest.mark.django_db

URL = f"/en/campaigns/{CAMPAIGN}/donate/"


def monthly(**overrides):
    data = {
        "frequency": "monthly",
        "monthly_preset": "1000",
        "amount": "",
        "need": "",
        "public_name": "",
        "email": "donor@example.org",
        "message": "",
        "method": "bank",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    if data["method"] == "demo" and "challenge" not in overrides:
        data["challenge"] = factories.solved_challenge()
    return data


def test_the_form_offers_once_or_monthly_without_javascript(client, campaign):
    page = client.get(URL).content.decode()
    assert 'name="frequency" value="once"' in page and 'name="frequency" value="monthly"' in page
    assert "€10.00 a month" in text_of(page) or "€10 a month" in text_of(page)
    assert "to change or stop it" in text_of(page)


def test_monthly_by_standing_order_without_javascript(client, campaign):
    """A bank standing order needs no script: the form posts, the page shows what to set up."""
    response = client.post(URL, monthly())
    assert response.status_code == 302
    assert re.fullmatch(r"/en/monthly/[0-9a-f-]{36}/", response["Location"])  # nothing personal
    gift = MonthlyGift.objects.get()
    assert (gift.amount, gift.provider, gift.status) == (1000, "bank", MonthlyStatus.PENDING)
    page = text_of(client.get(response["Location"]).content.decode())
    assert "standing order" in page and "every month" in page
    assert gift.reference[:6] in page and "PL61 1090" in page
    assert "<svg" in client.get(response["Location"]).content.decode()  # the EPC QR code


def test_monthly_without_email_is_refused_clearly(client, campaign):
    response = client.post(URL, monthly(email=""))
    assert response.status_code == 400
    assert "A monthly gift needs your email" in text_of(response.content.decode())
    assert not MonthlyGift.objects.exists()


def test_monthly_without_amount_is_refused(client, campaign):
    response = client.post(URL, monthly(monthly_preset=""))
    assert response.status_code == 400 and "Enter an amount." in response.content.decode()


def test_once_is_still_the_default(client, campaign):
    data = monthly(frequency="", monthly_preset="", amount="25", email="")
    assert client.post(URL, data).status_code == 302
    assert Donation.objects.get().amount == 2500 and not MonthlyGift.objects.exists()


def test_demo_monthly_first_month_then_the_next_and_the_count(client, campaign):
    response = client.post(URL, monthly(method="demo", amount="10", monthly_preset=""))
    assert response.status_code == 302 and "/donations/test-checkout/demo_sub_" in response["Location"]
    checkout = client.get(response["Location"]).content.decode()
    assert "every month" in checkout and "Complete test payment" in checkout
    done = client.post(response["Location"], {"outcome": "complete"})
    assert done.status_code == 302
    gift = MonthlyGift.objects.get()
    assert gift.status == MonthlyStatus.ACTIVE
    assert "You give €10.00 every month" in text_of(client.get(done["Location"]).content.decode()) or (
        "You give €10 every month" in text_of(client.get(done["Location"]).content.decode())
    )
    advance_demo_month()
    paid = Donation.objects.filter(monthly_gift=gift, status=DonationStatus.SUCCEEDED)
    assert paid.count() == 2
    SUPPORTER_COUNTS.clear()
    DONOR_COUNTS.clear()
    page = text_of(client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode())
    assert "1 person gives monthly" in page


def test_demo_monthly_cancelled_takes_nothing(client, campaign):
    response = client.post(URL, monthly(method="demo"))
    back = client.post(response["Location"], {"outcome": "cancel"})
    assert "Payment cancelled" in text_of(client.get(back["Location"]).content.decode())
    assert MonthlyGift.objects.get().status == MonthlyStatus.PENDING and not Donation.objects.exists()


def test_the_status_page_says_how_to_stop_and_when_stopped(client, campaign):
    from zbor.donations import services
    from zbor.donations.models import StopReason

    response = client.post(URL, monthly(method="demo"))
    done = client.post(response["Location"], {"outcome": "complete"})
    page = text_of(client.get(done["Location"]).content.decode())
    assert "every month" in page and "change or stop your monthly gift at any time" in page
    assert "donor@example.org" not in page and campaign.slug not in page
    services.stop_monthly(MonthlyGift.objects.get(), reason=StopReason.DONOR)
    page = text_of(client.get(done["Location"]).content.decode())
    assert "Your monthly gift has stopped" in page
