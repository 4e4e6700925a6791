"""Moving money between needs and campaigns: four eyes, limits, one currency, one ledger group,
audited; and what the public pages show afterwards."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from tests import factories
from tests.helpers import text_of
from tests.postgres import run_here_or_on_postgres
from zbor.accounts.models import AuditEvent
from zbor.campaigns.floors import need_floors
from zbor.campaigns.models import Status
from zbor.disbursements import moves, services
from zbor.disbursements.exceptions import (
    MoveFourEyes,
    MoveRefused,
    MoveTooLarge,
    MoveWrongState,
    PayoutExceedsNeed,
)
from zbor.disbursements.models import Move, MoveStatus
from zbor.disbursements.tests.test_payouts import receipt
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money, foundation_totals
from zbor.donations.services import record_demo_donation
from zbor.ledger.models import Transfer, TransferGroup, TransferKind
from zbor.ledger.selectors import credit_balances

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "finance": factories.role_user("finance", "mover-one"),
        "finance2": factories.role_user("finance", "mover-two"),
        "editor": factories.role_user("editor", "mover-ed"),
    }


@pytest.fixture
def funded():
    """Two campaigns in EUR: the first's needs hold €500 and €300, and €200 beyond its goal."""
    first = factories.campaign(slug="first", needs=(50000, 30000), category="relocation")
    second = factories.campaign(slug="second", needs=(40000,), category="legal_aid", title="A lawyer")
    a, b = first.needs.order_by("position")
    record_demo_donation(first, amount=50000, need=a)
    record_demo_donation(first, amount=30000, need=b)
    record_demo_donation(first, amount=20000)  # the needs are full: beyond the goal
    return first, second, a, b, second.needs.get()


def ask(first, need, second, target, amount, by, reason="The appeal was won; the coat is bought"):
    return moves.request_move(
        source_campaign=first,
        source_need=need,
        target_campaign=second,
        target_need=target,
        amount=amount,
        reason=reason,
        by=by,
    )


def figures(campaign):
    needs = list(campaign.needs.order_by("position").values_list("pk", flat=True))
    money = campaign_money(campaign.pk, needs)
    return money.collected, [money.raised_by_need[pk] for pk in needs], money.beyond_goal


def test_a_move_between_needs_of_one_campaign_keeps_collected_and_moves_the_needs_figures(funded, people):
    first, _second, a, b, _c = funded
    move = ask(first, a, first, b, 10000, people["finance"])
    assert move.status == MoveStatus.REQUESTED and figures(first) == (100000, [50000, 30000], 20000)
    moves.approve_move(move, by=people["finance2"])
    assert figures(first) == (100000, [40000, 40000], 20000)
    group = TransferGroup.objects.get(reference=move.reference)
    assert group.kind == TransferKind.MOVE
    (transfer,) = Transfer.objects.filter(group=group)
    assert (transfer.debit_account.code, transfer.credit_account.code, transfer.amount) == (
        f"need:{a.pk}",
        f"need:{b.pk}",
        10000,
    )
    assert foundation_totals()["EUR"].campaigns[first.pk] == [100000, 0]
    assert reconcile().ok, reconcile().lines()


def test_a_move_to_another_campaign_counts_where_the_money_is_and_says_so(client, funded, people):
    first, second, a, _b, c = funded
    moves.approve_move(ask(first, None, second, c, 15000, people["finance"]), by=people["finance2"])
    assert figures(first) == (85000, [50000, 30000], 5000)
    assert figures(second) == (15000, [15000], 0)
    totals = foundation_totals()["EUR"]
    assert totals.collected == 100000  # the foundation's total is unchanged
    assert totals.campaigns[first.pk] == [85000, 0] and totals.campaigns[second.pk] == [15000, 0]

    source = text_of(client.get("/en/campaigns/first/").content.decode())
    assert "€850 of €800" in source and "€50 beyond the goal" in source
    assert "€150 given here was moved by the foundation to other campaigns." in source
    api = client.get("/api/v1/campaigns/first?lang=en").json()
    assert (api["collected"]["amount"], api["beyond_goal"]["amount"]) == (85000, 5000)
    assert (api["moved_to_other_campaigns"]["formatted"], api["moved_from_other_campaigns"]["amount"]) == ("€150", 0)
    target = text_of(client.get("/en/campaigns/second/").content.decode())
    assert "€150 of €400" in target
    assert "Includes €150 the foundation moved here from other campaigns." in target
    transparency = text_of(client.get("/en/transparency/").content.decode())
    assert "Collected €1,000" in transparency and "Held for the campaigns €1,000" in transparency
    assert "Legal aid €150 €0 €150" in transparency and "Relocation €850 €0 €850" in transparency
    for language in ("ru", "be", "pl"):
        page = client.get(f"/{language}/campaigns/first/")
        assert page.status_code == 200 and "150" in text_of(page.content.decode())
    assert reconcile().ok, reconcile().lines()


def test_paid_out_and_held_stay_consistent_after_moving_what_a_need_had_left(client, funded, people):
    first, second, a, _b, c = funded
    payout = services.request_payout(a, amount=30000, channel="cash", recipient="x", purpose="y", by=people["finance"])
    services.approve_payout(payout, by=people["finance2"])
    services.mark_paid(payout, by=people["finance"], proof=receipt())
    moves.approve_move(ask(first, a, second, c, 20000, people["finance"]), by=people["finance2"])
    # Need a raised €500, paid €300 of it, and €200 moved on: it shows €300, all paid out.
    assert figures(first) == (80000, [30000, 30000], 20000)
    assert credit_balances([f"need:{a.pk}"])[f"need:{a.pk}"] == 0
    page = text_of(client.get("/en/campaigns/first/").content.decode())
    assert "€800 of €800" in page and "Paid out so far: €300" in page
    # Its amount still may not go below what was paid out for it.
    assert need_floors([a.pk])[a.pk] == 30000
    with pytest.raises(MoveTooLarge):
        ask(first, a, second, c, 1, people["finance"])
    assert reconcile().ok, reconcile().lines()


def test_a_move_is_limited_to_what_the_source_holds_and_has_not_promised(funded, people):
    first, second, a, _b, c = funded
    with pytest.raises(MoveTooLarge, match="only €500 that"):
        ask(first, a, second, c, 50001, people["finance"])
    with pytest.raises(MoveTooLarge):
        ask(first, None, second, c, 20001, people["finance"])  # beyond the goal: €200 there
    with pytest.raises(MoveTooLarge):
        ask(first, a, second, c, 0, people["finance"])
    # A payout requested from the need and a move waiting both hold their money back.
    services.request_payout(a, amount=20000, channel="cash", recipient="x", purpose="y", by=people["finance"])
    assert moves.movable(first.pk, a.pk) == 30000
    waiting = ask(first, a, second, c, 30000, people["finance"])
    with pytest.raises(MoveTooLarge):
        ask(first, a, second, c, 1, people["finance"])
    # ...and the move waiting lowers what the need can still pay.
    assert services.available(a) == 0
    with pytest.raises(PayoutExceedsNeed):
        services.request_payout(a, amount=1, channel="cash", recipient="x", purpose="y", by=people["finance"])
    moves.reject_move(waiting, by=people["finance2"])
    assert services.available(a) == 30000 and moves.movable(first.pk, a.pk) == 30000


def test_an_approval_is_refused_when_a_refund_took_the_money_meanwhile(funded, people):
    from zbor.donations.models import Donation
    from zbor.donations.services import take_back

    first, second, a, _b, c = funded
    move = ask(first, a, second, c, 50000, people["finance"])
    gift = Donation.objects.get(campaign=first, need=a)
    take_back(gift, kind=TransferKind.REFUND, key="refund:test", cumulative=10000)
    with pytest.raises(MoveTooLarge, match="only €400 that"):
        moves.approve_move(move, by=people["finance2"])
    move.refresh_from_db()
    assert move.status == MoveStatus.REQUESTED and not TransferGroup.objects.filter(reference=move.reference).exists()
    moves.reject_move(move, by=people["finance2"])
    assert reconcile().ok


def test_money_moves_in_one_currency_between_real_places(funded, people):
    first, second, a, b, c = funded
    zloty = factories.campaign(slug="zloty", needs=(100000,), currency="PLN")
    with pytest.raises(MoveRefused, match="EUR is not PLN"):
        ask(first, a, zloty, None, 100, people["finance"])
    with pytest.raises(MoveRefused, match="there already"):
        ask(first, a, first, a, 100, people["finance"])
    with pytest.raises(MoveRefused, match="there already"):
        ask(first, None, first, None, 100, people["finance"])
    with pytest.raises(MoveRefused, match="not one of the campaign's needs"):
        ask(first, c, second, a, 100, people["finance"])
    with pytest.raises(MoveRefused, match="Say why"):
        ask(first, a, second, c, 100, people["finance"], reason="  ")
    draft = factories.campaign(slug="draft", status=Status.DRAFT)
    with pytest.raises(MoveRefused, match="published"):
        ask(first, a, draft, None, 100, people["finance"])
    assert not Move.objects.exists()


def test_four_eyes_and_a_decision_counts_once(funded, people):
    first, second, a, _b, c = funded
    move = ask(first, a, second, c, 10000, people["finance"])
    with pytest.raises(MoveFourEyes):
        moves.approve_move(move, by=people["finance"])
    with pytest.raises(MoveFourEyes):
        moves.reject_move(move, by=people["finance"])
    moves.approve_move(move, by=people["finance2"])
    with pytest.raises(MoveWrongState):
        moves.approve_move(move, by=people["finance2"])
    with pytest.raises(MoveWrongState):
        moves.reject_move(move, by=people["finance2"])
    assert TransferGroup.objects.filter(reference=move.reference).count() == 1
    assert figures(second) == (10000, [10000], 0)
    move.refresh_from_db()
    assert (move.requested_by, move.decided_by) == (people["finance"], people["finance2"])
    assert move.decided_at is not None


def test_only_finance_moves_money(funded, people):
    first, second, a, _b, c = funded
    for user in (people["editor"], factories.role_user("admin"), None):
        with pytest.raises(PermissionDenied):
            ask(first, a, second, c, 100, user)
    move = ask(first, a, second, c, 100, people["finance"])
    with pytest.raises(PermissionDenied):
        moves.approve_move(move, by=people["editor"])
    with pytest.raises(PermissionDenied):
        moves.reject_move(move, by=factories.role_user("admin"))


def test_every_request_and_decision_is_in_the_audit_log(funded, people):
    first, second, a, _b, c = funded
    approved = ask(first, a, second, c, 100, people["finance"])
    moves.approve_move(approved, by=people["finance2"])
    rejected = ask(first, None, second, None, 100, people["finance2"])
    moves.reject_move(rejected, by=people["finance"])
    rows = list(
        AuditEvent.objects.filter(object_type="disbursements.move")
        .order_by("pk")
        .values_list("actor__username", "action", "object_id", "fields")
    )
    assert rows == [
        ("mover-one", "move.request", str(approved.pk), ["amount", "reason", "source", "target"]),
        ("mover-two", "move.approve", str(approved.pk), ["status"]),
        ("mover-two", "move.request", str(rejected.pk), ["amount", "reason", "source", "target"]),
        ("mover-one", "move.reject", str(rejected.pk), ["status"]),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_racing_book_the_move_once():
    if not run_here_or_on_postgres(f"{__file__}::test_two_approvals_racing_book_the_move_once"):
        return
    first = factories.campaign(slug="race-first", needs=(50000,))
    second = factories.campaign(slug="race-second", needs=(50000,))
    record_demo_donation(first, amount=50000, need=first.needs.get())
    requester = factories.role_user("finance", "race-requester")
    approvers = [factories.role_user("finance", f"race-approver{i}") for i in range(2)]
    move = ask(first, first.needs.get(), second, second.needs.get(), 50000, requester)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            moves.approve_move(Move.objects.get(pk=move.pk), by=user)
            outcomes.append("ok")
        except MoveWrongState:
            outcomes.append("decided before")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["decided before", "ok"]
    assert TransferGroup.objects.filter(reference=move.reference).count() == 1
    assert figures(second)[0] == 50000 and figures(first)[0] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_payout_racing_for_the_same_money_cannot_both_pass():
    if not run_here_or_on_postgres(f"{__file__}::test_a_move_and_a_payout_racing_for_the_same_money_cannot_both_pass"):
        return
    first = factories.campaign(slug="race2-first", needs=(50000,))
    second = factories.campaign(slug="race2-second", needs=(50000,))
    need = first.needs.get()
    record_demo_donation(first, amount=50000, need=need)
    users = [factories.role_user("finance", f"race2-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def pay(user):
        try:
            barrier.wait()
            services.request_payout(need, amount=40000, channel="cash", recipient="x", purpose="y", by=user)
            outcomes.append("ok")
        except PayoutExceedsNeed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    def move(user):
        try:
            barrier.wait()
            ask(first, need, second, None, 40000, user)
            outcomes.append("ok")
        except MoveTooLarge:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(users[0],)), threading.Thread(target=move, args=(users[1],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
