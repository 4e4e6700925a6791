"""`make run` loads the demo once; running it again changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from zbor.campaigns.models import Campaign, Need, Note, Status
from zbor.donations.models import Donation
from zbor.donations.selectors import campaign_money

pytestmark = pytest.mark.django_db


def _counts():
    return (Campaign.objects.count(), Need.objects.count(), Note.objects.count(), Donation.objects.count())


def test_load_demo_twice_adds_nothing_the_second_time():
    call_command("load_demo", stdout=io.StringIO())
    first = _counts()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert _counts() == first
    assert "already present" in out.getvalue()


def test_demo_has_the_reference_campaign_and_campaigns_across_states():
    call_command("load_demo", stdout=io.StringIO())
    main = Campaign.objects.get(slug="from-prison-to-family")
    assert [n.amount for n in main.needs.order_by("position")] == [50000, 50000, 100000]
    assert campaign_money(main.pk, []).collected == 68300  # from recorded donations, through the ledger
    assert set(main.translations.values_list("language_code", flat=True)) == {"en", "ru"}
    statuses = set(Campaign.objects.values_list("status", flat=True))
    assert {Status.PUBLISHED, Status.FUNDED, Status.CLOSED, Status.DRAFT} <= statuses
    assert len(set(Campaign.objects.values_list("category", flat=True))) >= 4


def test_demo_refuses_without_demo_settings(settings):
    settings.ZBOR_DEMO = False
    with pytest.raises(CommandError, match="only loaded with demo settings"):
        call_command("load_demo", stdout=io.StringIO())
    assert _counts() == (0, 0, 0, 0)


def test_demo_is_not_added_to_a_database_with_real_people():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("real-finance-officer", password="x" * 20, is_staff=True)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "were not added" in out.getvalue()
    assert _counts() == (0, 0, 0, 0)
    assert not get_user_model().objects.filter(username="demo").exists()
