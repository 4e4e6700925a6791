"""A need's amount cannot be set below what was paid out or is on its way for it: neither in
the admin's form nor by approving a revision typed before the payout (issue 16)."""

import pytest

from tests import factories
from zbor.campaigns import revisions
from zbor.campaigns import services as campaign_services
from zbor.campaigns.exceptions import CampaignNotReady
from zbor.campaigns.forms import NeedForm
from zbor.campaigns.models import Need
from zbor.disbursements import services
from zbor.disbursements.tests.test_payouts import receipt
from zbor.donations.services import record_demo_donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_need():
    """A campaign's first need (€500 goal, €500 given) with €300 paid out and €100 requested."""
    campaign = factories.campaign(slug="floor", needs=(50000, 50000))
    need = Need.objects.get(campaign=campaign, position=0)
    record_demo_donation(campaign, amount=50000, need=need)
    finance, finance2 = factories.role_user("finance"), factories.role_user("finance")
    paid = services.request_payout(need, amount=30000, channel="cash", recipient="x", purpose="rent", by=finance)
    services.approve_payout(paid, by=finance2)
    services.mark_paid(paid, by=finance, proof=receipt())
    services.request_payout(need, amount=10000, channel="cash", recipient="x", purpose="food", by=finance)
    return need


def _form(need, amount: str):
    return NeedForm(data={"position": "0", "amount": amount, "description": "Rent"}, instance=need, currency="EUR")


def test_the_admin_form_refuses_an_amount_below_what_was_paid_out_or_requested(paid_need):
    form = _form(paid_need, "399.99")
    assert not form.is_valid()
    assert form.errors["amount"] == [
        "€400 was already paid out or requested for this need: its amount cannot be lower."
    ]
    assert _form(paid_need, "400").is_valid()


def test_a_need_nothing_was_paid_for_may_go_down_to_anything():
    campaign = factories.campaign(needs=(50000,))
    need = Need.objects.get(campaign=campaign)
    assert _form(need, "1").is_valid()


def test_a_revision_typed_before_a_payout_cannot_lower_the_need_below_it(paid_need):
    campaign = paid_need.campaign
    editor = factories.role_user("editor")
    revision = revisions.start_revision(campaign, by=editor)
    copy = revision.needs.get(replaces=paid_need)
    assert not _form(copy, "100").is_valid()  # the revision's form answers for the live need
    copy.amount = 10000  # typed past the form, or before the payouts were made
    copy.save()
    campaign_services.record_editor(revision, editor)
    with pytest.raises(CampaignNotReady, match="cannot be lower"):
        revisions.approve_revision(
            revision, by=factories.role_user("editor"), seen=revisions.revision_digest(revision)
        )
    paid_need.refresh_from_db()
    assert paid_need.amount == 50000
