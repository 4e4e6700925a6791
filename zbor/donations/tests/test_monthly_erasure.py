"""`zbor erase_donor` covers monthly gifts: each is stopped as the donor would stop it (the
provider stops billing and deletes its customer) and forgets the address, audited without it."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.services import erase_donor, erase_monthly_gifts
from zbor.payments.base import ProviderUnavailable
from zbor.payments.demo import DemoProvider

pytestmark = pytest.mark.django_db

EMAIL = "erase.monthly.quokka@example.org"


@pytest.fixture
def provider(monkeypatch):
    told: list[tuple[str, str]] = []
    monkeypatch.setattr(DemoProvider, "cancel_subscription", lambda self, ref: told.append(("cancel", ref)))
    monkeypatch.setattr(DemoProvider, "delete_customer", lambda self, ref: told.append(("delete", ref)))
    return told


def test_erasing_a_donor_stops_their_monthly_gifts_and_forgets_the_address(campaign, provider):
    running = factories.monthly_gift(campaign, email=EMAIL, customer_reference="demo_cus_1")
    paused = factories.monthly_gift(campaign, email=EMAIL.upper(), status=MonthlyStatus.PAUSED)
    bank = factories.monthly_gift(campaign, email=EMAIL, provider="bank", status=MonthlyStatus.PENDING)
    # Stopped earlier, its address kept for a receipt still to send.
    stopped = factories.monthly_gift(campaign, email=EMAIL, status=MonthlyStatus.STOPPED, stop_reason=StopReason.DONOR)
    other = factories.monthly_gift(campaign, email="stays@example.org")
    payment = Donation.objects.create(
        campaign=campaign,
        amount=1000,
        currency="EUR",
        provider="demo",
        idempotency_key="k1",
        status=DonationStatus.SUCCEEDED,
        email=EMAIL,
        monthly_gift=running,
    )
    assert erase_donor(f" {EMAIL.title()} ", by=None, label="zbor erase_donor") == 1
    for gift in (running, paused, bank, stopped):
        gift.refresh_from_db()
        assert (gift.status, gift.email, gift.customer_reference) == (MonthlyStatus.STOPPED, "", "")
    assert running.stop_reason == paused.stop_reason == bank.stop_reason == StopReason.DONOR
    assert ("cancel", running.reference) in provider and ("cancel", paused.reference) in provider
    assert ("delete", "demo_cus_1") in provider
    assert ("cancel", stopped.reference) not in provider  # it had stopped: the provider is not asked again
    other.refresh_from_db()
    assert (other.status, other.email) == (MonthlyStatus.ACTIVE, "stays@example.org")
    payment.refresh_from_db()
    assert payment.email == "" and payment.amount == 1000
    event = AuditEvent.objects.get(action="donor.erase_monthly")
    assert event.actor_label == "zbor erase_donor" and "quokka" not in str(event.fields) + event.actor_label
    assert AuditEvent.objects.filter(action="monthly_gift.stop").count() == 3
    assert erase_monthly_gifts(EMAIL, by=None) == 0  # again: nothing left to do


def test_a_provider_that_cannot_be_reached_leaves_the_address_in_place(campaign, monkeypatch):
    def down(self, ref):
        raise ProviderUnavailable("down")

    monkeypatch.setattr(DemoProvider, "cancel_subscription", down)
    gift = factories.monthly_gift(campaign, email=EMAIL)
    with pytest.raises(CommandError, match="Run the same command again"):
        call_command("erase_donor", EMAIL, stdout=io.StringIO())
    gift.refresh_from_db()
    assert (gift.status, gift.email) == (MonthlyStatus.ACTIVE, EMAIL)  # still billed: still manageable
    monkeypatch.undo()
    out = io.StringIO()
    call_command("erase_donor", EMAIL, stdout=out)
    gift.refresh_from_db()
    assert (gift.status, gift.email) == (MonthlyStatus.STOPPED, "")
    assert "1 monthly gift(s), stopped" in out.getvalue()


def test_an_empty_address_erases_no_gift(campaign, provider):
    gift = factories.monthly_gift(campaign, email="")
    assert erase_monthly_gifts("  ", by=None) == 0
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE and provider == []


def test_stopping_forgets_the_address_and_the_customer(campaign, provider):
    """What `stop_monthly` does, on which this erasure and the donor's own stop rely."""
    from zbor.donations.services import stop_monthly

    gift = factories.monthly_gift(campaign, email=EMAIL, customer_reference="demo_cus_2")
    assert stop_monthly(gift, reason=StopReason.DONOR)
    assert (gift.email, gift.customer_reference, gift.status) == ("", "", MonthlyStatus.STOPPED)
    assert provider == [("cancel", gift.reference), ("delete", "demo_cus_2")]
    assert MonthlyGift.objects.filter(email=EMAIL).count() == 0
