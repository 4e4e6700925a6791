"""The benchmark data set (bench/fixture.py) is what the real code would have written, and
`zbor reconcile`, which it is used to measure, still finds every kind of difference."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils.html import escape

from bench.fixture import generate
from tests.helpers import text_of
from zbor.campaigns.models import Campaign, Need, Status
from zbor.donations.models import BankStatementLine, Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import allocate, campaign_money
from zbor.ledger.models import Account, Transfer, TransferGroup, TransferKind
from zbor.money import Money, format_money

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def fixture():
    return generate(20, 500, seed=7, now=NOW)


def test_the_generated_data_reconciles_and_its_pages_render(client, fixture):
    assert (fixture.campaigns, fixture.donations) == (20, 500)
    assert Donation.objects.filter(status=DonationStatus.SUCCEEDED).count() == 500
    assert TransferGroup.objects.count() == 500 and Transfer.objects.count() == fixture.transfers >= 500
    out = io.StringIO()
    call_command("reconcile", stdout=out)  # exits 1 on any difference
    assert out.getvalue().splitlines()[-1] == "clean: no differences"

    busiest = Campaign.objects.get(
        pk=Donation.objects.values("campaign").annotate(n=Sum("amount")).order_by("-n")[0]["campaign"]
    )
    collected = Donation.objects.filter(campaign=busiest).aggregate(total=Sum("amount"))["total"]
    assert campaign_money(busiest.pk, []).collected == collected > 0
    goal = sum(Need.objects.filter(campaign=busiest).values_list("amount", flat=True))
    response = client.get(f"/en/campaigns/{busiest.slug}/")
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert (
        f"Collected: {format_money(Money(collected, busiest.currency), 'en')} of {format_money(Money(goal, busiest.currency), 'en')}"
        in text
    )
    translation = Campaign._parler_meta.root_model.objects.exclude(language_code="en").select_related("master").first()
    page = client.get(f"/{translation.language_code}/campaigns/{translation.master.slug}/")
    assert page.status_code == 200 and escape(translation.title) in page.content.decode()
    assert client.get("/en/campaigns/").status_code == 200


def test_it_is_what_the_services_would_have_written(fixture):
    """Replay each campaign's donations, in the order they succeeded, through the allocation the
    services use: every group must hold exactly those transfers, to the accounts they use."""
    for campaign in Campaign.objects.all():
        assert campaign.status in (Status.PUBLISHED, Status.FUNDED) and campaign.review_round == 1
        needs = list(Need.objects.filter(campaign=campaign).order_by("position", "id"))
        raised: dict[int, int] = {}
        for donation in Donation.objects.filter(campaign=campaign).order_by("succeeded_at", "pk"):
            shares, beyond = allocate([(n.pk, n.amount) for n in needs], raised, donation.amount, donation.need_id)
            for need_id, share in shares.items():
                raised[need_id] = raised.get(need_id, 0) + share
            expected = [(f"need:{need_id}", share) for need_id, share in shares.items()]
            if beyond:
                expected.append((f"campaign:{campaign.pk}:unallocated", beyond))
            group = TransferGroup.objects.get(key=f"{donation.reference}:succeeded")
            assert (group.reference, group.kind, group.transfer_count) == (
                donation.reference,
                TransferKind.DONATION,
                len(expected),
            )
            transfers = list(group.transfers.select_related("debit_account", "credit_account").order_by("key"))
            assert [(t.credit_account.code, t.amount) for t in transfers] == expected
            assert {t.debit_account.code for t in transfers} == {f"provider:{donation.provider}:{donation.currency}"}
            assert [t.key for t in transfers] == [f"{group.key}#{n}" for n in range(len(expected))]
            if donation.provider == "bank":
                assert BankStatementLine.objects.get(donation=donation).amount == donation.amount
        goal = sum(n.amount for n in needs)
        assert (campaign.status == Status.FUNDED) == (campaign_money(campaign.pk, []).collected >= goal)
    for account in Account.objects.filter(owner_kind="campaign"):
        assert Campaign.objects.filter(pk=account.owner_id, currency=account.currency).exists()


def _reference_problems() -> set[str]:
    """The donation checks as reconcile made them before it compared in SQL: every group
    reference's sums in Python dictionaries. An oracle for the rewritten queries."""

    def sums(kind):
        return dict(
            Transfer.objects.filter(kind=kind).values_list("group__reference").annotate(total=Sum("amount")).order_by()
        )

    given, refunds, disputes = sums(TransferKind.DONATION), sums(TransferKind.REFUND), sums(TransferKind.DISPUTE)
    reinstated, fees = sums(TransferKind.REINSTATEMENT), sums(TransferKind.FEE)
    booked = set(given) | set(refunds) | set(disputes) | set(fees)
    problems, seen = set(), set()
    for d in Donation.objects.all():
        ref = d.reference
        seen.add(ref)
        if d.status == DonationStatus.SUCCEEDED:
            if given.get(ref, 0) != d.amount:
                problems.add(f"{ref}: succeeded with {d.amount}, ledger received {given.get(ref, 0)}")
            if refunds.get(ref, 0) != d.refunded:
                problems.add(f"{ref}: says {d.refunded} refunded, ledger refunded {refunds.get(ref, 0)}")
            if disputes.get(ref, 0) - reinstated.get(ref, 0) != d.disputed:
                problems.add(
                    f"{ref}: says {d.disputed} held by disputes, ledger {disputes.get(ref, 0) - reinstated.get(ref, 0)}"
                )
            if fees.get(ref, 0) != d.fee:
                problems.add(f"{ref}: fee {d.fee}, ledger fee {fees.get(ref, 0)}")
        elif ref in booked:
            problems.add(f"{ref}: {d.status} but has ledger transfers")
    return problems | {f"{ref}: ledger transfers for an unknown donation" for ref in booked - seen}


def test_reconcile_still_finds_every_kind_of_difference(fixture):
    first, second, third, fourth, fifth, sixth = Donation.objects.order_by("pk")[:6]
    Donation.objects.filter(pk=first.pk).update(amount=first.amount + 1)
    Donation.objects.filter(pk=second.pk).update(refunded=1)
    Donation.objects.filter(pk=third.pk).update(disputed=2)
    Donation.objects.filter(pk=fourth.pk).update(fee=3)
    Donation.objects.filter(pk=fifth.pk).update(status=DonationStatus.FAILED)
    unpaid = Donation.objects.create(
        campaign=sixth.campaign,
        amount=500,
        currency=sixth.currency,
        status=DonationStatus.SUCCEEDED,
        provider="demo",
        idempotency_key=uuid.uuid4().hex,
    )
    need = Account.objects.filter(code__startswith="need:").order_by("pk").first()
    clearing = Account.objects.get(code=f"provider:demo:{need.currency}")
    Account.objects.filter(pk=need.pk).update(credits_posted=need.credits_posted + 7)
    stranger = f"donation:{uuid.uuid4()}"
    group = TransferGroup.objects.create(
        key=f"{stranger}:succeeded", kind=TransferKind.DONATION, reference=stranger, transfer_count=2
    )
    Transfer.objects.create(
        group=group,
        debit_account=clearing,
        credit_account=need,
        amount=100,
        currency="XXX",
        kind=TransferKind.DONATION,
        key=f"{group.key}#0",
    )
    # A reinstatement alone is not "booked": no difference for a reference with only that.
    lonely = TransferGroup.objects.create(
        key="donation:lonely:reinstated",
        kind=TransferKind.REINSTATEMENT,
        reference="donation:lonely",
        transfer_count=1,
    )
    Transfer.objects.create(
        group=lonely,
        debit_account=clearing,
        credit_account=need,
        amount=5,
        currency=need.currency,
        kind=TransferKind.REINSTATEMENT,
        key=f"{lonely.key}#0",
    )

    report = reconcile()
    assert not report.ok
    assert report.donations == 501 and report.ledger.groups == 502 and report.ledger.transfers == fixture.transfers + 2
    expected_donations = {
        f"{first.reference}: succeeded with {first.amount + 1}, ledger received {first.amount}",
        f"{second.reference}: says 1 refunded, ledger refunded 0",
        f"{third.reference}: says 2 held by disputes, ledger 0",
        f"{fourth.reference}: fee 3, ledger fee 0",
        f"{fifth.reference}: failed but has ledger transfers",
        f"{unpaid.reference}: succeeded with 500, ledger received 0",
        f"{stranger}: ledger transfers for an unknown donation",
    }
    assert set(report.problems) == expected_donations == _reference_problems()
    # In donation order, then the references that name no donation.
    assert report.problems[-1] == f"{stranger}: ledger transfers for an unknown donation"
    assert report.problems[0].startswith(first.reference)
    ledger = report.ledger.problems
    assert any(
        p.startswith(
            f"account {need.code}: totals say debits {need.debits_posted}, credits {need.credits_posted + 7}; "
        )
        for p in ledger
    )
    assert any(p.startswith(f"account {clearing.code}: totals say ") for p in ledger)
    assert any(p.startswith("all debits (") for p in ledger)
    assert f"transfer {group.key}#0: its currency differs from an account's" in ledger
    assert f"group {group.key}: 2 transfers written, 1 found" in ledger
    lines = report.lines()
    assert lines[:2] == [
        f"accounts: {report.ledger.accounts}, transfer groups: 502, transfers: {fixture.transfers + 2}",
        "donations checked: 501",
    ]
    assert all(line.startswith("DIFFERENCE: ") for line in lines[2:]) and len(lines) == 2 + len(ledger) + len(
        report.problems
    )
