"""Bank standing orders (issue 18): a monthly gift's one permanent reference, on each month's
transfer, makes that month a donation of the gift when the statement is imported, booked once;
the next transfer is expected a month after the last; two missed months list it as lapsed for
finance, and a transfer after that makes it active again. Amounts that differ wait for finance;
a stopped standing order's transfer waits in the unmatched queue."""

import uuid
from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from zbor.donations import services, tasks
from zbor.donations.bank_import import import_statement
from zbor.donations.exceptions import DonationRefused
from zbor.donations.models import (
    BankStatementLine,
    Donation,
    DonationStatus,
    LineStatus,
    MonthlyGift,
    MonthlyStatus,
    StopReason,
)
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.donations.tests.test_bank_books import camt, entry
from zbor.ledger.models import TransferGroup
from zbor.payments.bank import format_reference

pytestmark = pytest.mark.django_db

MONTHS = [date(2026, 9, 3), date(2026, 10, 3), date(2026, 11, 3)]


def standing_order(campaign, amount: int = 1000) -> MonthlyGift:
    return services.start_monthly(
        campaign,
        amount=amount,
        provider="bank",
        email="monthly@example.org",
        language="en",
        idempotency_key=uuid.uuid4().hex,
    )


def csv_statement(*rows: tuple[date, str, str, str]) -> bytes:
    """Zbor's own CSV: (booking day, amount, text, the bank's id) per credit line, in euros."""
    lines = "".join(f"{day},{amount},EUR,{text},{key}\n" for day, amount, text, key in rows)
    return ("date,amount,currency,reference,transaction_id\n" + lines).encode()


def camt_statement(*rows: tuple[date, int, str, str]) -> bytes:
    """A camt.053: (booking day, amount in cents, text, the bank's id) per credit line."""
    return camt(*(entry(minor, indicator="CRDT", text=text, ref=key, booked=day) for day, minor, text, key in rows))


def finance():
    return factories.role_user("finance", f"fin-{uuid.uuid4().hex[:6]}")


def months_of(gift: MonthlyGift) -> list[Donation]:
    return list(Donation.objects.filter(monthly_gift=gift).order_by("pk"))


def booked_once(donation: Donation) -> bool:
    return TransferGroup.objects.filter(key=f"{donation.reference}:succeeded").count() == 1


def collected(campaign) -> int:
    return campaign_money(campaign.pk, []).collected


@pytest.mark.parametrize("kind", ["camt053", "csv"])
def test_three_months_of_a_standing_order_are_three_donations_and_a_missed_fourth_lapses(campaign, kind):
    gift = standing_order(campaign)
    text = f"Monthly {format_reference(gift.reference)} thank you"
    if kind == "csv":
        data = csv_statement(*((day, "10.00", text, f"tx-{i}") for i, day in enumerate(MONTHS)))
    else:
        data = camt_statement(*((day, 1000, text, f"tx-{i}") for i, day in enumerate(MONTHS)))
    report = import_statement(data, by=finance())
    assert (report.new, report.matched, report.unmatched, report.review) == (3, 3, 0, 0)
    months = months_of(gift)
    assert [m.status for m in months] == [DonationStatus.SUCCEEDED] * 3
    assert all(m.amount == 1000 and m.campaign_id == campaign.pk and booked_once(m) for m in months)
    lines = BankStatementLine.objects.order_by("booked_on")
    assert [(line.status, line.donation_id, line.monthly_gift_id, line.text) for line in lines] == [
        (LineStatus.MATCHED, month.pk, gift.pk, "") for month in months
    ]
    gift.refresh_from_db()
    assert (gift.status, gift.next_expected_on) == (MonthlyStatus.ACTIVE, date(2026, 12, 3))
    assert collected(campaign) == 3000

    # The same statement again books nothing.
    assert import_statement(data, by=finance()).new == 0
    assert len(months_of(gift)) == 3 and collected(campaign) == 3000

    # December's transfer never comes, nor January's: still active until the grace after
    # January's expected day has passed (3 January + 10 days), lapsed the day after.
    assert services.lapse_standing_orders(today=date(2027, 1, 13)) == 0
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE
    assert services.lapse_standing_orders(today=date(2027, 1, 14)) == 1
    gift.refresh_from_db()
    assert (gift.status, gift.stop_reason, gift.email) == (
        MonthlyStatus.LAPSED,
        StopReason.NONE,
        "monthly@example.org",
    )
    assert services.lapsed_count() == 1
    assert services.lapse_standing_orders(today=date(2027, 1, 15)) == 0  # once is enough
    # Lapsing is no difference in the books.
    assert reconcile().ok, reconcile().lines()


def test_the_daily_task_lapses_overdue_standing_orders_only(campaign):
    overdue, on_time, card_like, never_paid = (standing_order(campaign) for _ in range(4))
    MonthlyGift.objects.filter(pk__in=[overdue.pk, on_time.pk]).update(status=MonthlyStatus.ACTIVE)
    MonthlyGift.objects.filter(pk=overdue.pk).update(next_expected_on=date(2020, 1, 3))
    MonthlyGift.objects.filter(pk=on_time.pk).update(next_expected_on=date(2999, 1, 3))
    # Only bank standing orders lapse; a gift with no transfer yet never started, so it cannot.
    MonthlyGift.objects.filter(pk=card_like.pk).update(
        provider="demo", status=MonthlyStatus.ACTIVE, next_expected_on=date(2020, 1, 3)
    )
    tasks.lapse_standing_orders.call_local()
    statuses = dict(MonthlyGift.objects.values_list("pk", "status"))
    assert statuses == {
        overdue.pk: MonthlyStatus.LAPSED,
        on_time.pk: MonthlyStatus.ACTIVE,
        card_like.pk: MonthlyStatus.ACTIVE,
        never_paid.pk: MonthlyStatus.PENDING,
    }


def test_a_lapsed_standing_order_that_pays_again_is_active_again(campaign):
    gift = standing_order(campaign)
    import_statement(csv_statement((MONTHS[0], "10.00", gift.reference, "tx-1")), by=finance())
    assert services.lapse_standing_orders(today=date(2026, 12, 14)) == 1
    import_statement(csv_statement((date(2027, 2, 5), "10.00", gift.reference, "tx-2")), by=finance())
    gift.refresh_from_db()
    assert (gift.status, gift.next_expected_on) == (MonthlyStatus.ACTIVE, date(2027, 3, 5))
    assert len(months_of(gift)) == 2


def test_an_older_statement_imported_late_does_not_move_the_expected_day_back(campaign):
    gift = standing_order(campaign)
    import_statement(csv_statement((MONTHS[2], "10.00", gift.reference, "tx-nov")), by=finance())
    import_statement(csv_statement((MONTHS[0], "10.00", gift.reference, "tx-sep")), by=finance())
    gift.refresh_from_db()
    assert gift.next_expected_on == date(2026, 12, 3) and len(months_of(gift)) == 2


def test_two_standing_orders_and_a_one_off_pledge_in_one_statement(campaign):
    other_campaign = factories.campaign(slug="other")
    first, second = standing_order(campaign, 1000), standing_order(other_campaign, 2500)
    pledge = services.start_donation(
        campaign, amount=4000, need=None, provider="bank", idempotency_key=uuid.uuid4().hex
    )
    # Written as donors write it: with a hyphen, in lower case, one with a typing slip.
    slip = first.reference[:-2] + first.reference[-1] + first.reference[-2]
    data = camt_statement(
        (MONTHS[0], 1000, f"monthly {slip.lower()}", "a"),
        (MONTHS[0], 2500, format_reference(second.reference), "b"),
        (MONTHS[0], 4000, pledge.checkout_reference, "c"),
        (MONTHS[1], 1000, first.reference, "d"),
    )
    report = import_statement(data, by=finance())
    assert (report.matched, report.unmatched) == (4, 0)
    assert [m.amount for m in months_of(first)] == [1000, 1000]
    assert [(m.amount, m.campaign_id) for m in months_of(second)] == [(2500, other_campaign.pk)]
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED and pledge.monthly_gift_id is None
    assert collected(campaign) == 6000 and collected(other_campaign) == 2500
    assert reconcile().ok, reconcile().lines()


def test_the_same_reference_twice_in_one_month_is_two_months(campaign):
    """A donor may send an extra month: both are gifts of the standing order."""
    gift = standing_order(campaign)
    data = csv_statement(
        (MONTHS[0], "10.00", gift.reference, "tx-1"),
        (date(2026, 9, 20), "10.00", gift.reference, "tx-2"),
    )
    assert import_statement(data, by=finance()).matched == 2
    months = months_of(gift)
    assert len(months) == 2 and all(m.status == DonationStatus.SUCCEEDED and booked_once(m) for m in months)
    gift.refresh_from_db()
    assert gift.next_expected_on == date(2026, 10, 20)
    assert collected(campaign) == 2000


def test_a_month_of_another_amount_waits_for_finance_and_accepting_books_it(campaign):
    gift = standing_order(campaign)
    report = import_statement(csv_statement((MONTHS[0], "15.00", gift.reference, "tx-1")), by=finance())
    assert (report.matched, report.review) == (0, 1)
    line = BankStatementLine.objects.get()
    (month,) = months_of(gift)
    assert (line.status, line.donation_id, line.pledged, line.monthly_gift_id) == (
        LineStatus.REVIEW,
        month.pk,
        1000,
        gift.pk,
    )
    assert month.status == DonationStatus.PENDING and collected(campaign) == 0
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.PENDING and gift.next_expected_on is None
    assert reconcile().ok

    services.accept_line(line, by=finance())
    month.refresh_from_db()
    line.refresh_from_db()
    assert (month.status, month.amount, month.monthly_gift_id) == (DonationStatus.SUCCEEDED, 1500, gift.pk)
    assert line.status == LineStatus.MATCHED and booked_once(month)
    gift.refresh_from_db()
    assert (gift.status, gift.next_expected_on) == (MonthlyStatus.ACTIVE, date(2026, 10, 3))
    assert collected(campaign) == 1500
    # The next month of the pledged amount books by itself.
    import_statement(csv_statement((MONTHS[1], "10.00", gift.reference, "tx-2")), by=finance())
    assert [m.amount for m in months_of(gift)] == [1500, 1000]


def test_a_month_that_brought_more_can_be_split(campaign):
    gift = standing_order(campaign)
    import_statement(csv_statement((MONTHS[0], "60.00", gift.reference, "tx-1")), by=finance())
    rest = services.split_line(BankStatementLine.objects.get(), campaign=campaign, by=finance())
    (month,) = months_of(gift)
    assert (month.status, month.amount) == (DonationStatus.SUCCEEDED, 1000)
    assert (rest.amount, rest.monthly_gift_id) == (5000, None)
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE and collected(campaign) == 6000


def test_a_returned_month_is_cancelled_and_books_nothing(campaign):
    gift = standing_order(campaign)
    import_statement(csv_statement((MONTHS[0], "99.00", gift.reference, "tx-1")), by=finance())
    line = services.return_line(BankStatementLine.objects.get(), reason="Not our donor's", by=finance())
    (month,) = months_of(gift)
    assert (line.status, line.donation_id) == (LineStatus.TO_RETURN, None)
    assert month.status == DonationStatus.CANCELLED and month.email == ""
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.PENDING and collected(campaign) == 0
    assert reconcile().ok


def test_a_stopped_standing_orders_transfer_waits_in_the_unmatched_queue(campaign):
    gift = standing_order(campaign)
    import_statement(csv_statement((MONTHS[0], "10.00", gift.reference, "tx-1")), by=finance())
    services.stop_monthly(gift, reason=StopReason.DONOR)
    report = import_statement(csv_statement((MONTHS[1], "10.00", f"Zbor {gift.reference}", "tx-2")), by=finance())
    assert (report.matched, report.unmatched) == (0, 1)
    line = BankStatementLine.objects.get(key="csv:tx-2")
    assert (line.status, line.donation_id, line.monthly_gift_id) == (LineStatus.UNMATCHED, None, gift.pk)
    assert line.text == f"Zbor {gift.reference}"  # kept for finance to decide on
    assert len(months_of(gift)) == 1 and collected(campaign) == 1000
    # Finance decides: here, a gift to the campaign.
    donation = services.assign_line(line, campaign=campaign, by=finance())
    assert donation.monthly_gift_id is None and collected(campaign) == 2000


def test_the_line_page_says_the_standing_order_was_stopped(campaign, client):
    gift = standing_order(campaign)
    services.stop_monthly(gift, reason=StopReason.DONOR)
    import_statement(csv_statement((MONTHS[0], "10.00", gift.reference, "tx-1")), by=finance())
    line = BankStatementLine.objects.get()
    client.force_login(finance())
    listing = client.get(reverse("admin:donations_bankstatementline_changelist") + "?queue=waiting")
    page = client.get(reverse("admin:donations_bankstatementline_change", args=[line.pk]))
    for shown in (listing.content.decode(), page.content.decode()):
        assert f"Names standing order {gift}, which was stopped" in shown


def test_finance_sees_how_many_standing_orders_lapsed_and_lists_them(campaign, client):
    lapsed, running = standing_order(campaign), standing_order(campaign)
    MonthlyGift.objects.filter(pk=lapsed.pk).update(status=MonthlyStatus.LAPSED)
    client.force_login(finance())
    listing = reverse("admin:donations_monthlygift_changelist")
    page = client.get(listing).content.decode()
    assert "Standing orders lapsed (two expected months without a transfer): 1" in page
    assert 'href="?status__exact=lapsed"' in page
    filtered = client.get(listing + "?status__exact=lapsed").content.decode()
    assert lapsed.reference in filtered and running.reference not in filtered
    MonthlyGift.objects.filter(pk=lapsed.pk).update(status=MonthlyStatus.ACTIVE)
    assert "Standing orders lapsed" not in client.get(listing).content.decode()


def test_finance_attaches_a_transfer_without_its_reference_to_the_standing_order(campaign):
    """The donor's bank dropped the reference one month: finance types it, the line becomes
    that month. A stopped standing order cannot be attached to."""
    gift, stopped = standing_order(campaign), standing_order(campaign)
    services.stop_monthly(stopped, reason=StopReason.DONOR)
    import_statement(csv_statement((MONTHS[0], "10.00", "monthly gift", "tx-1")), by=finance())
    line = BankStatementLine.objects.get()
    assert line.status == LineStatus.UNMATCHED
    with pytest.raises(DonationRefused, match="No pending bank pledge or running standing order"):
        services.attach_line(line, reference=stopped.reference, by=finance())
    month = services.attach_line(line, reference=format_reference(gift.reference).lower(), by=finance())
    line.refresh_from_db()
    assert (month.monthly_gift_id, month.status, month.amount) == (gift.pk, DonationStatus.SUCCEEDED, 1000)
    assert (line.status, line.donation_id, line.monthly_gift_id) == (LineStatus.ASSIGNED, month.pk, gift.pk)
    gift.refresh_from_db()
    assert (gift.status, gift.next_expected_on) == (MonthlyStatus.ACTIVE, date(2026, 10, 3))
    assert booked_once(month) and collected(campaign) == 1000
