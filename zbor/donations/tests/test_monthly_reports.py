"""What the foundation sees of monthly giving (issue 18): the month's summary above the Monthly
gifts list, the accountant's export of the gifts and the monthly column of the donations
export, and a gift's annual summary for the donor (PDF, or emailed). Finance only."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations import services
from zbor.donations.annual_summary import annual_summary_html, annual_summary_pdf, year_payments
from zbor.donations.events import receive_event
from zbor.donations.models import Donation, MonthlyGift, StopReason
from zbor.donations.monthly_reports import MonthlyFigures, monthly_summary
from zbor.donations.receipts import issue_receipt
from zbor.donations.tests.test_receipts import pdf_text
from zbor.payments.demo import DemoProvider

pytestmark = pytest.mark.django_db

LIST = reverse("admin:donations_monthlygift_changelist")
EXPORT = reverse("admin:donations_export")
ROLES = ["none", "editor", "finance", "admin"]


def at(year, month, day, hour=12):
    return mock.patch(
        "django.utils.timezone.now", return_value=datetime(year, month, day, hour, tzinfo=ZoneInfo("UTC"))
    )


def user(role):
    return factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)


def give(campaign, amount, day: tuple[int, int, int], *, email="supporter@example.org") -> MonthlyGift:
    """A demo monthly gift started, and its first month paid, on ``day``."""
    with at(*day):
        gift = services.start_monthly(
            campaign, amount=amount, provider="demo", email=email, language="en", idempotency_key=uuid.uuid4().hex
        )
        receive_event(DemoProvider.subscription_started(gift.checkout_reference))
    pay(gift, day)
    return gift


def pay(gift: MonthlyGift, day: tuple[int, int, int]) -> Donation:
    invoice = f"demo_inv_{gift.public_id.hex}_{day[0]}{day[1]:02d}"
    with at(*day):
        receive_event(DemoProvider.monthly_paid(gift.reference, invoice, amount=gift.amount, currency=gift.currency))
    gift.refresh_from_db()
    return Donation.objects.get(provider="demo", checkout_reference=invoice)


@pytest.fixture
def two_months():
    """November and December 2026, two campaigns in euros and one in złoty:

    - A: €10 from 5 November (paid 5 Nov, 5 Dec); €25 from 20 November (paid 20 Nov, stopped
      3 Dec); €5 from 2 December (paid 2 Dec), whose next payment failed on 10 December.
    - B: €15 from 10 December (paid).
    - C: 50 zł from 1 November (paid 1 Nov, 1 Dec); 20 zł never completed its checkout.
    """
    a, b = factories.campaign(title="Campaign A"), factories.campaign(title="Campaign B")
    c = factories.campaign(title="Campaign C", currency="PLN")
    ten, twenty_five = give(a, 1000, (2026, 11, 5)), give(a, 2500, (2026, 11, 20))
    fifty = give(c, 5000, (2026, 11, 1))
    pay(fifty, (2026, 12, 1))
    five = give(a, 500, (2026, 12, 2))
    with at(2026, 12, 3):
        services.stop_monthly(twenty_five, reason=StopReason.DONOR)
    pay(ten, (2026, 12, 5))
    give(b, 1500, (2026, 12, 10))
    with at(2026, 12, 10):
        services.monthly_failed(five)
    with at(2026, 12, 11):
        services.start_monthly(
            c, amount=2000, provider="demo", email="x@example.org", language="en", idempotency_key=uuid.uuid4().hex
        )
    return {"a": a, "b": b, "c": c, "ten": ten, "five": five, "fifty": fifty}


def figures(summary, campaign, currency):
    [row] = [r for r in summary.rows if r.campaign.pk == campaign.pk and r.currency == currency]
    return row.figures


def test_the_summary_counts_each_campaign_and_each_currency_exactly(two_months):
    with at(2026, 12, 15):
        december = monthly_summary()
    assert december.month == date(2026, 12, 1)
    assert figures(december, two_months["a"], "EUR") == MonthlyFigures(
        active=1, income=1000, paid=1000 + 500, new=1, stopped=1, failing=1, lapsed=0
    )
    assert figures(december, two_months["b"], "EUR") == MonthlyFigures(active=1, income=1500, paid=1500, new=1)
    assert figures(december, two_months["c"], "PLN") == MonthlyFigures(active=1, income=5000, paid=5000)
    assert december.totals == {
        "EUR": MonthlyFigures(active=2, income=2500, paid=3000, new=2, stopped=1, failing=1),
        "PLN": MonthlyFigures(active=1, income=5000, paid=5000),
    }


def test_last_months_summary_has_last_months_payments_starts_and_stops(two_months):
    november = monthly_summary(today=date(2026, 11, 30))
    # Who is active and failing is the state now; paid, new and stopped are November's.
    assert figures(november, two_months["a"], "EUR") == MonthlyFigures(
        active=1, income=1000, paid=1000 + 2500, new=2, stopped=0, failing=1
    )
    assert [r.campaign.pk for r in november.rows] == [two_months["a"].pk, two_months["b"].pk, two_months["c"].pk]
    assert november.totals["PLN"] == MonthlyFigures(active=1, income=5000, paid=5000, new=1)


def test_finance_sees_the_summary_above_the_list_with_a_link_to_the_failing_gifts(client, two_months):
    with at(2026, 12, 15):
        client.force_login(user("finance"))
        page = client.get(LIST).content.decode()
    assert "Monthly giving, December 2026" in page
    assert "Campaign A" in page and "€25" in page and "€30" in page and "PLN" in page
    failing = f"?status__exact=failing&amp;campaign__id__exact={two_months['a'].pk}"
    assert failing in page
    with at(2026, 12, 15):
        listed = client.get(LIST + failing.replace("&amp;", "&")).content.decode()
    assert two_months["five"].reference in listed and two_months["ten"].reference not in listed


@pytest.mark.parametrize("role", ["none", "editor", "admin"])
def test_other_roles_see_neither_the_summary_nor_the_export(client, two_months, role):
    client.force_login(user(role))
    assert client.get(LIST).status_code == 403
    assert client.get(EXPORT, {"kind": "monthly_gifts"}).status_code == 403


def export(client, kind, start="", end=""):
    response = client.get(EXPORT, {"kind": kind, "start": start, "end": end})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_monthly_gifts_export_has_each_gift_and_its_payments_and_no_email(client, two_months):
    client.force_login(user("finance"))
    rows = export(client, "monthly_gifts", "2026-12-01", "2026-12-31")
    by_amount = {(row["currency"], row["amount"]): row for row in rows}
    # Every gift that ran in December, the one still pending too (20 zł).
    assert set(by_amount) == {("EUR", a) for a in ("10.00", "25.00", "5.00", "15.00")} | {
        ("PLN", "50.00"),
        ("PLN", "20.00"),
    }
    ten = by_amount[("EUR", "10.00")]
    assert ten["monthly_gift"] == str(two_months["ten"].public_id)[:8]
    assert (ten["status"], ten["payments"], ten["paid"], ten["refunded"]) == ("active", "1", "10.00", "0.00")
    assert ten["campaign"] == two_months["a"].slug and ten["method"] == "Test payment (demo)"
    assert ten["started"].startswith("2026-11-05") and ten["reference"] == two_months["ten"].reference
    stopped = by_amount[("EUR", "25.00")]
    assert (stopped["status"], stopped["stop_reason"], stopped["payments"]) == ("stopped", "donor", "0")
    assert stopped["stopped"].startswith("2026-12-03")
    body = b"".join(client.get(EXPORT, {"kind": "monthly_gifts"}).streaming_content).decode()
    assert "@example.org" not in body and "supporter" not in body
    assert AuditEvent.objects.filter(action="export.monthly_gifts").exists()
    # A gift stopped before the period, or started after it, is not in it.
    october = export(client, "monthly_gifts", "2026-10-01", "2026-10-31")
    assert october == []
    january = {(row["currency"], row["amount"]) for row in export(client, "monthly_gifts", "2027-01-01", "")}
    assert ("EUR", "25.00") not in january and ("EUR", "10.00") in january


def test_the_donations_export_names_the_monthly_gift_of_each_monthly_payment(client, two_months):
    one_off = services.record_demo_donation(two_months["b"], amount=700)
    Donation.objects.filter(pk=one_off.pk).update(succeeded_at=datetime(2026, 12, 12, tzinfo=ZoneInfo("UTC")))
    client.force_login(user("finance"))
    rows = export(client, "donations", "2026-12-05", "2026-12-12")
    gifts = {row["amount"]: row["monthly_gift"] for row in rows}
    fifteen = str(MonthlyGift.objects.get(amount=1500).public_id)[:8]
    assert gifts == {"10.00": str(two_months["ten"].public_id)[:8], "15.00": fifteen, "7.00": ""}


# -- the annual summary -----------------------------------------------------------------------


def summary_url(gift):
    return reverse("admin:donations_monthlygift_annual_summary", args=[gift.pk])


@pytest.fixture
def a_year_of_gifts():
    """€10 a month from 5 November 2025: two months in 2025, three in 2026 (one €10 of them
    refunded in part, €4), each with its receipt."""
    campaign = factories.campaign()
    gift = give(campaign, 1000, (2025, 11, 5))
    payments = [pay(gift, day) for day in [(2025, 12, 5), (2026, 1, 5), (2026, 2, 5), (2026, 3, 5)]]
    for donation in Donation.objects.filter(monthly_gift=gift).order_by("pk"):
        with at(2026, 4, 1):
            issue_receipt(donation.pk)
    with at(2026, 3, 20):
        services.take_back(payments[2], kind="refund", key="summary-refund", amount=400)
    return gift


def test_the_summary_lists_the_years_payments_with_their_receipts_and_the_total(a_year_of_gifts):
    payments = year_payments(a_year_of_gifts, 2026)
    assert [(p.day, p.amount, p.refunded) for p in payments] == [
        (date(2026, 1, 5), 1000, 0),
        (date(2026, 2, 5), 1000, 400),
        (date(2026, 3, 5), 1000, 0),
    ]
    receipts = [p.receipt for p in payments]
    assert all(receipts) and len(set(receipts)) == 3
    html = annual_summary_html(a_year_of_gifts, 2026)
    assert "Annual summary of donations, 2026" in html
    for receipt in receipts:
        assert receipt in html
    assert "January 5, 2026" in html and "€30" in html and "€4" in html and "€26" in html
    assert "December 5, 2025" not in html
    assert a_year_of_gifts.campaign.slug not in html and "supporter@" not in html
    text = pdf_text(annual_summary_pdf(a_year_of_gifts, 2025))
    assert "November 5, 2025" in text and "December 5, 2025" in text and "€20" in text


def test_the_summary_is_in_the_donors_language(a_year_of_gifts):
    MonthlyGift.objects.filter(pk=a_year_of_gifts.pk).update(language="pl")
    a_year_of_gifts.refresh_from_db()
    html = annual_summary_html(a_year_of_gifts, 2026)
    assert "5 stycznia 2026" in html and 'lang="pl"' in html


def test_finance_downloads_the_pdf_audited(client, a_year_of_gifts):
    client.force_login(user("finance"))
    page = client.get(summary_url(a_year_of_gifts)).content.decode()
    assert '<option value="2026">' in page and '<option value="2025">' in page and "_email" in page
    response = client.post(summary_url(a_year_of_gifts), {"year": "2026", "_download": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="summary-2026.pdf"'
    assert response.content.startswith(b"%PDF") and "€26" in pdf_text(response.content)
    assert AuditEvent.objects.filter(
        action="monthly_gift.annual_summary.download", object_id=str(a_year_of_gifts.pk)
    ).exists()
    # A year with no payment is not offered.
    assert client.post(summary_url(a_year_of_gifts), {"year": "2024", "_download": "1"}).status_code == 200
    assert AuditEvent.objects.filter(action="monthly_gift.annual_summary.download").count() == 1


def test_finance_emails_it_to_the_gifts_address_with_a_neutral_subject(
    client, a_year_of_gifts, django_capture_on_commit_callbacks
):
    client.force_login(user("finance"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(summary_url(a_year_of_gifts), {"year": "2026", "_email": "1"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["supporter@example.org"]
    assert message.subject == "Your donations to Zbor Foundation in 2026"
    [(name, pdf, content_type)] = message.attachments
    assert (name, content_type) == ("summary-2026.pdf", "application/pdf") and "€30" in pdf_text(pdf)
    assert a_year_of_gifts.campaign.slug not in message.body + message.subject
    assert AuditEvent.objects.filter(action="monthly_gift.annual_summary.email").count() == 1


def test_a_gift_that_no_longer_holds_the_email_can_only_be_downloaded(client, a_year_of_gifts):
    MonthlyGift.objects.filter(pk=a_year_of_gifts.pk).update(email="")
    client.force_login(user("finance"))
    page = client.get(summary_url(a_year_of_gifts)).content.decode()
    assert 'name="_email"' not in page
    mail.outbox.clear()
    response = client.post(summary_url(a_year_of_gifts), {"year": "2026", "_email": "1"}, follow=True)
    assert "no longer holds the donor" in response.content.decode() and mail.outbox == []
    assert not AuditEvent.objects.filter(action="monthly_gift.annual_summary.email").exists()


def test_the_list_action_leads_to_one_gifts_summary(client, a_year_of_gifts):
    client.force_login(user("finance"))
    response = client.post(LIST, {"action": "annual_summary", "_selected_action": [a_year_of_gifts.pk]})
    assert response.status_code == 302 and response["Location"] == summary_url(a_year_of_gifts)
    other = give(factories.campaign(), 500, (2026, 1, 1))
    response = client.post(
        LIST, {"action": "annual_summary", "_selected_action": [a_year_of_gifts.pk, other.pk]}, follow=True
    )
    assert "Choose one monthly gift" in response.content.decode()
    detail = client.get(reverse("admin:donations_monthlygift_change", args=[a_year_of_gifts.pk])).content.decode()
    assert summary_url(a_year_of_gifts) in detail


@pytest.mark.parametrize("role", ROLES)
def test_only_finance_produces_an_annual_summary(client, a_year_of_gifts, role):
    client.force_login(user(role))
    mail.outbox.clear()
    expected = 200 if role == "finance" else 403
    assert client.get(summary_url(a_year_of_gifts)).status_code == expected
    assert client.get(reverse("admin:donations_monthlygift_annual_summary", args=[987654])).status_code == (
        404 if role == "finance" else 403
    )
    response = client.post(summary_url(a_year_of_gifts), {"year": "2026", "_download": "1"})
    assert response.status_code == expected
    if role != "finance":
        assert not AuditEvent.objects.filter(action__startswith="monthly_gift.annual_summary").exists()


def test_emailing_it_needs_the_right_to_send_receipts(a_year_of_gifts):
    from django.core.exceptions import PermissionDenied

    from zbor.donations.annual_summary import email_annual_summary

    for role in ["none", "editor", "admin"]:
        with pytest.raises(PermissionDenied):
            email_annual_summary(a_year_of_gifts, year=2026, by=user(role))
