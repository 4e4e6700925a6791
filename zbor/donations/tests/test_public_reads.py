"""Words of support as the public pages read them: approved, of succeeded donations, newest
first, and nothing but the name and the message."""

import datetime

import pytest
from django.utils import timezone

from tests import factories
from zbor.donations import selectors
from zbor.donations.models import Donation, DonationStatus, MessageStatus

pytestmark = pytest.mark.django_db


def test_only_approved_words_of_succeeded_donations_are_read_newest_first():
    campaign = factories.campaign(donations=(1000, 2000, 3000, 4000))
    first, second, third, fourth = Donation.objects.filter(campaign=campaign).order_by("pk")
    now = timezone.now()
    for donation, status, message_status, minutes in [
        (first, DonationStatus.SUCCEEDED, MessageStatus.APPROVED, 3),
        (second, DonationStatus.SUCCEEDED, MessageStatus.APPROVED, 1),
        (third, DonationStatus.SUCCEEDED, MessageStatus.REJECTED, 2),
        (fourth, DonationStatus.FAILED, MessageStatus.APPROVED, 0),
    ]:
        Donation.objects.filter(pk=donation.pk).update(
            status=status,
            message_status=message_status,
            message=f"Words {donation.pk}",
            public_name="Ala" if donation is second else "",
            succeeded_at=now - datetime.timedelta(minutes=minutes),
        )
    read = selectors.approved_messages(campaign.pk)
    assert [(m.public_name, m.message) for m in read] == [("Ala", f"Words {second.pk}"), ("", f"Words {first.pk}")]
    assert read[0].given_on == now.date()
    assert read[0].public_name == "Ala" and read[0].message == f"Words {second.pk}"
    assert selectors.approved_messages(campaign.pk, limit=1) == read[:1]
