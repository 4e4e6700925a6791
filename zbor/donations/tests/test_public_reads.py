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


def test_words_and_the_donor_count_are_read_together_and_the_count_kept():
    campaign = factories.campaign(donations=(1000, 2000))
    selectors.DONOR_COUNTS.clear()
    assert selectors.support_and_donor_count(campaign.pk) == ([], 2)
    first = Donation.objects.filter(campaign=campaign).order_by("pk").first()
    Donation.objects.filter(pk=first.pk).update(message="Hold on", message_status=MessageStatus.APPROVED)
    factories.record_demo_donation(campaign, amount=500)
    words, count = selectors.support_and_donor_count(campaign.pk)
    # The words at once; the count as it was read a moment ago (it moves in steps).
    assert [(w.public_name, w.message) for w in words] == [("", "Hold on")] and count == 2
    selectors.DONOR_COUNTS.clear()
    words, count = selectors.support_and_donor_count(campaign.pk)
    assert [w.message for w in words] == ["Hold on"] and count == 3
    assert selectors.support_and_donor_count(factories.campaign().pk) == ([], 0)
