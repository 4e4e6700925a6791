"""The admin screens for moves of money, as each role: request through the add form (which
offers only valid choices and says why it refuses), decide with the list's actions (four eyes
in the service, refusals as messages, never a 500)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.helpers import text_of
from zbor.campaigns.models import Status
from zbor.disbursements import moves
from zbor.disbursements.models import Move, MoveStatus
from zbor.donations.services import record_demo_donation
from zbor.ledger.models import TransferGroup

pytestmark = pytest.mark.django_db

LIST = reverse("admin:disbursements_move_changelist")
ADD = reverse("admin:disbursements_move_add")


@pytest.fixture
def places():
    first = factories.campaign(slug="first", needs=(50000,), title="Winter coat")
    second = factories.campaign(slug="second", needs=(40000,), title="A lawyer")
    record_demo_donation(first, amount=50000, need=first.needs.get())
    return first, second


def logged_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def form_data(first, second, **changes):
    return {
        "source_campaign": first.pk,
        "source_need": first.needs.get().pk,
        "target_campaign": second.pk,
        "target_need": second.needs.order_by("position").first().pk,
        "amount": "150",
        "reason": "The coat was given by a neighbour",
        **changes,
    }


def test_finance_requests_a_move_and_another_approves_it_from_the_list(places):
    first, second = places
    one, two = factories.role_user("finance", "fin-a"), factories.role_user("finance", "fin-b")
    requester = logged_in(one)
    response = requester.post(ADD, form_data(first, second), follow=True)
    assert response.status_code == 200
    assert "Move requested. Someone else in finance must approve it." in text_of(response.content.decode())
    move = Move.objects.get()
    assert (move.amount, move.currency, move.requested_by, move.status) == (15000, "EUR", one, MoveStatus.REQUESTED)

    listing = text_of(requester.get(LIST).content.decode())
    for column in ("Winter coat — Need 1", "A lawyer — Need 1", "€150", "Requested", "fin-a"):
        assert column in listing, column
    detail = text_of(requester.get(reverse("admin:disbursements_move_change", args=[move.pk])).content.decode())
    assert "€150" in detail and "The coat was given by a neighbour" in detail

    # The requester's own approval is refused with a message, and nothing is booked.
    action = {"action": "approve", "_selected_action": [move.pk]}
    refused = text_of(requester.post(LIST, action, follow=True).content.decode())
    assert "someone else in finance must decide on it" in refused
    assert not TransferGroup.objects.filter(reference=move.reference).exists()

    approved = text_of(logged_in(two).post(LIST, action, follow=True).content.decode())
    assert f"Move #{move.pk} decided." in approved
    move.refresh_from_db()
    assert (move.status, move.decided_by) == (MoveStatus.APPROVED, two)
    assert TransferGroup.objects.filter(reference=move.reference).count() == 1
    again = text_of(logged_in(two).post(LIST, action, follow=True).content.decode())
    assert "This move was decided before." in again
    listing = text_of(requester.get(LIST + "?status__exact=approved").content.decode())
    assert "fin-b" in listing and "Approved and booked" in listing


def test_the_list_rejects_with_the_action_and_money_stays(places):
    first, second = places
    move = moves.request_move(
        source_campaign=first,
        source_need=first.needs.get(),
        target_campaign=second,
        target_need=None,
        amount=1,
        reason="x",
        by=factories.role_user("finance"),
    )
    response = logged_in(factories.role_user("finance")).post(
        LIST, {"action": "reject", "_selected_action": [move.pk]}, follow=True
    )
    assert response.status_code == 200
    move.refresh_from_db()
    assert move.status == MoveStatus.REJECTED and not TransferGroup.objects.filter(reference=move.reference).exists()


def test_the_add_form_offers_valid_choices_and_says_why_it_refuses(places):
    first, second = places
    draft = factories.campaign(slug="draft", status=Status.DRAFT, title="Not yet public")
    zloty = factories.campaign(slug="zloty", needs=(10000,), currency="PLN", title="In zloty")
    client = logged_in(factories.role_user("finance"))
    page = text_of(client.get(ADD).content.decode())
    assert "Winter coat (EUR)" in page and "In zloty (PLN)" in page and "Not yet public" not in page
    assert "Leave empty for the campaign's money beyond its goal." in page

    refusals = {
        "other currency": (form_data(first, zloty, target_need=""), "one currency: EUR is not PLN"),
        "too much": (form_data(first, second, amount="500.01"), "holds only €500 that"),
        "same place": (form_data(first, first, target_need=first.needs.get().pk), "The money is there already"),
        "need of another campaign": (form_data(first, second, target_need=first.needs.get().pk), "not one of"),
        "not an amount": (form_data(first, second, amount="lots"), "Enter a number"),
        "a draft": (form_data(first, draft, target_need=""), "Select a valid choice"),
        "no reason": (form_data(first, second, reason=""), "This field is required"),
    }
    for name, (data, message) in refusals.items():
        response = client.post(ADD, data)
        assert response.status_code == 200, name
        assert message in text_of(response.content.decode()), name
    assert not Move.objects.exists()


@pytest.mark.parametrize("role", ["none", "editor", "admin"])
def test_other_roles_cannot_see_request_or_decide_moves(places, role):
    first, second = places
    move = moves.request_move(
        source_campaign=first,
        source_need=first.needs.get(),
        target_campaign=second,
        target_need=None,
        amount=1,
        reason="x",
        by=factories.role_user("finance"),
    )
    user = factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)
    client = logged_in(user)
    assert client.get(LIST).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form_data(first, second)).status_code == 403
    assert client.post(LIST, {"action": "approve", "_selected_action": [move.pk]}).status_code == 403
    assert client.get(reverse("admin:disbursements_move_change", args=[move.pk])).status_code == 403
    move.refresh_from_db()
    assert move.status == MoveStatus.REQUESTED and Move.objects.count() == 1
