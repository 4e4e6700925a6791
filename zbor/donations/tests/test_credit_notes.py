"""Credit notes after refunds (issue 16): one per refund booked of a gift that had a receipt,
numbered in a sequence of their own, issued once however often the refund's event arrives,
emailed while the donor's email is held and otherwise kept for finance to download."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations import services, tasks
from zbor.donations.credit_notes import credit_note_pdf, send_unsent_credit_notes
from zbor.donations.exports import credit_note_rows, donation_rows
from zbor.donations.models import CreditNote, CreditNoteCounter, Donation, ReceiptCounter
from zbor.donations.receipts import forget_receipt_emails, send_receipt
from zbor.donations.tests.test_receipts import LEGAL, at, gift, pdf_text
from zbor.ledger.models import TransferKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return [factories.role_user("finance", f"fin-{n}") for n in range(2)]


@pytest.fixture
def legal(settings):
    for name, value in LEGAL.items():
        setattr(settings, name, value)


def receipted(campaign, *, amount=2500, language="en", when=(2026, 3, 5)) -> Donation:
    """A demo gift whose donor asked for a receipt, and got it."""
    donation = gift(campaign, amount=amount, language=language)
    with at(*when):
        send_receipt(donation.pk)
    donation.refresh_from_db()
    assert donation.receipt_number and donation.receipt_sent_at
    return donation


def refund(donation, amount, people, capture, when=(2026, 4, 9)):
    """Staff's refund, four eyes, its queued tasks run as they would after the commit."""
    with at(*when):
        requested = services.request_refund(donation, amount=amount, reason="Asked for it back", by=people[0])
        with capture(execute=True):
            return services.approve_refund(requested, by=people[1])


def notes(donation) -> list[tuple[str, int, int]]:
    return list(
        CreditNote.objects.filter(donation=donation).order_by("pk").values_list("number", "amount", "remaining")
    )


def test_a_refund_of_a_receipted_gift_sends_a_credit_note_naming_the_receipt(
    campaign, people, legal, settings, django_capture_on_commit_callbacks
):
    donation = receipted(campaign, language="pl")
    refund(donation, 1000, people, django_capture_on_commit_callbacks)
    assert notes(donation) == [("CN-2026-000001", 1000, 1500)]
    receipt, message = mail.outbox
    assert message.to == ["donor@example.org"]
    # Neutral, as the receipt: the foundation's name, amounts, days and numbers; no campaign.
    assert message.subject == f"Korekta Twojego potwierdzenia — {settings.ZBOR_FOUNDATION_NAME}"
    assert "2026-04-09" in message.body and "2026-000001" in message.body and "CN-2026-000001" in message.body
    assert campaign.title not in message.subject + message.body
    [(name, pdf, content_type)] = message.attachments
    assert (name, content_type) == ("credit-note-CN-2026-000001.pdf", "application/pdf")
    text = pdf_text(pdf)
    for expected in (
        "Nota korygująca",
        "Fundacja Zbor sp. z o.o.",
        "ul. Prosta 1",
        "KRS 0000123456",
        "CN-2026-000001",
        "2026-000001, 5 marca 2026",  # the receipt it corrects, with its day
        "9 kwietnia 2026",  # the day of the refund
        "25 €",
        "10 €",
        "15 €",
        "art. 26 ustawy o PIT",
    ):
        assert expected in text, expected
    assert campaign.title not in text and "Help to start again" not in text
    assert CreditNote.objects.get().sent_at is not None


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "Credit note"), ("ru", "Кредит-нота"), ("be", "Крэдыт-нота"), ("pl", "Nota korygująca")],
)
def test_the_credit_note_is_in_the_donors_language(
    campaign, people, language, title, django_capture_on_commit_callbacks
):
    donation = receipted(campaign, language=language)
    refund(donation, 500, people, django_capture_on_commit_callbacks)
    text = pdf_text(credit_note_pdf(CreditNote.objects.get()))
    assert title in text and "CN-" in text


def test_partial_refunds_each_get_a_credit_note_and_the_sequences_stay_apart(
    campaign, people, django_capture_on_commit_callbacks
):
    """Two partial refunds of one gift, one of another: three credit notes numbered 1 to 3,
    while the receipts keep their own numbers 1 and 2; on 1 January both start again."""
    first, second = receipted(campaign, amount=3000), receipted(campaign, amount=900)
    new_year_eve, new_year = (2026, 12, 31, 22), (2027, 1, 1, 0)
    refund(first, 1000, people, django_capture_on_commit_callbacks, when=new_year_eve)
    refund(second, 900, people, django_capture_on_commit_callbacks, when=new_year_eve)
    refund(first, 500, people, django_capture_on_commit_callbacks, when=new_year_eve)
    third = receipted(campaign, amount=700, when=new_year)
    refund(third, 700, people, django_capture_on_commit_callbacks, when=new_year)
    refund(first, 1500, people, django_capture_on_commit_callbacks, when=new_year)
    assert notes(first) == [("CN-2026-000001", 1000, 2000), ("CN-2026-000003", 500, 1500), ("CN-2027-000002", 1500, 0)]
    assert notes(second) == [("CN-2026-000002", 900, 0)]
    assert notes(third) == [("CN-2027-000001", 700, 0)]
    assert [first.receipt_number, second.receipt_number] == ["2026-000001", "2026-000002"]
    assert Donation.objects.get(pk=third.pk).receipt_number == "2027-000001"
    assert {c.year: c.last for c in CreditNoteCounter.objects.all()} == {2026: 3, 2027: 2}
    assert {c.year: c.last for c in ReceiptCounter.objects.all()} == {2026: 2, 2027: 1}
    assert len(mail.outbox) == 3 + 5  # three receipts, five credit notes


def test_a_refund_replayed_issues_nothing_more(campaign, django_capture_on_commit_callbacks):
    """The provider's refund event delivered again (the same cumulative amount, or an older one
    late) books nothing and issues no second credit note; a new total issues the next."""
    donation = receipted(campaign)
    with at(2026, 4, 9), django_capture_on_commit_callbacks(execute=True):
        for cumulative in (1000, 1000, 2500, 1000, 2500):
            services.take_back(donation, kind=TransferKind.REFUND, key=f"refund:{cumulative}", cumulative=cumulative)
    assert notes(donation) == [("CN-2026-000001", 1000, 1500), ("CN-2026-000002", 1500, 0)]
    assert CreditNoteCounter.objects.get().last == 2 and len(mail.outbox) == 1 + 2


def test_a_refund_rolled_back_takes_no_number(campaign, people):
    donation = receipted(campaign)

    class Interrupted(Exception):
        pass

    with at(2026, 4, 9):
        with pytest.raises(Interrupted), transaction.atomic():
            services.take_back(donation, kind=TransferKind.REFUND, key="refund:1000", cumulative=1000)
            raise Interrupted
        services.take_back(donation, kind=TransferKind.REFUND, key="refund:400", cumulative=400)
    assert notes(donation) == [("CN-2026-000001", 400, 2100)]


def test_no_credit_note_for_a_gift_that_had_no_receipt_nor_for_a_dispute(campaign, people):
    without = services.record_demo_donation(campaign, amount=1200)  # no email: no receipt
    services.take_back(without, kind=TransferKind.REFUND, key="refund:1200", cumulative=1200)
    disputed = receipted(campaign)
    services.take_back(disputed, kind=TransferKind.DISPUTE, key="dispute:dp_1", amount=2500)
    assert CreditNote.objects.count() == 0 and not CreditNoteCounter.objects.exists()
    assert Donation.objects.get(pk=without.pk).receipt_number is None


def test_a_receipt_still_to_send_is_numbered_and_sent_before_its_credit_note(
    campaign, people, django_capture_on_commit_callbacks
):
    """The refund comes before the receipt went out (the mail server was down): the receipt is
    numbered with the credit note, and the sweep sends the receipt, then the credit note."""
    donation = gift(campaign)  # an email, no receipt sent yet
    refund(donation, 500, people, django_capture_on_commit_callbacks)
    donation.refresh_from_db()
    assert donation.receipt_number == "2026-000001" and donation.receipt_sent_at is None
    assert notes(donation) == [("CN-2026-000001", 500, 2000)]
    assert mail.outbox == []  # the credit note waits for its receipt
    tasks.send_unsent_receipts.call_local()  # the worker's sweep: receipts, then credit notes
    receipt, note = mail.outbox
    assert receipt.attachments[0][0].startswith("receipt-") and note.attachments[0][0].startswith("credit-note-")


def test_without_the_donors_email_the_credit_note_is_kept_for_finance(
    client, campaign, people, django_capture_on_commit_callbacks
):
    donation = receipted(campaign)
    with at(2099, 1, 1):
        forget_receipt_emails()
    refund(donation, 2500, people, django_capture_on_commit_callbacks)
    note = CreditNote.objects.get()
    assert len(mail.outbox) == 1 and note.sent_at is None
    assert send_unsent_credit_notes().sent == 0
    client.force_login(people[0])
    response = client.get(f"/backoffice/donations/creditnote/{note.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "CN-2026-000001" in pdf_text(response.content)
    assert AuditEvent.objects.filter(actor=people[0], action="donation.credit_note.download").exists()
    page = client.post(
        "/backoffice/donations/creditnote/",
        {"action": "resend", helpers.ACTION_CHECKBOX_NAME: [note.pk]},
        follow=True,
    ).content.decode()
    assert "was forgotten, by design" in page and len(mail.outbox) == 1


def test_finance_sends_a_credit_note_again_from_the_donation(
    client, campaign, people, django_capture_on_commit_callbacks
):
    donation = receipted(campaign)
    refund(donation, 700, people, django_capture_on_commit_callbacks)
    client.force_login(people[0])
    page = client.get(f"/backoffice/donations/donation/{donation.pk}/change/").content.decode()
    assert "CN-2026-000001" in page and f"/backoffice/donations/creditnote/{CreditNote.objects.get().pk}/pdf/" in page
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/backoffice/donations/donation/",
            {"action": "resend_credit_notes", helpers.ACTION_CHECKBOX_NAME: [donation.pk]},
            follow=True,
        ).content.decode()
    assert "1 credit note will be sent again." in page
    _receipt, first, again = mail.outbox
    assert again.attachments[0][0] == first.attachments[0][0] == "credit-note-CN-2026-000001.pdf"
    assert CreditNoteCounter.objects.get().last == 1
    assert AuditEvent.objects.filter(actor=people[0], action="donation.credit_note.resend").exists()


@pytest.mark.parametrize(
    ("role", "pdf", "listing", "resend"),
    [("none", 403, 403, 403), ("editor", 403, 403, 403), ("finance", 200, 200, 302), ("admin", 403, 403, 403)],
)
def test_only_finance_reads_downloads_and_resends_credit_notes(
    client, campaign, people, role, pdf, listing, resend, django_capture_on_commit_callbacks
):
    donation = receipted(campaign)
    refund(donation, 700, people, django_capture_on_commit_callbacks)
    note = CreditNote.objects.get()
    user = factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)
    client.force_login(user)
    assert client.get(f"/backoffice/donations/creditnote/{note.pk}/pdf/").status_code == pdf
    assert client.get("/backoffice/donations/creditnote/").status_code == listing
    response = client.post(
        "/backoffice/donations/creditnote/", {"action": "resend", helpers.ACTION_CHECKBOX_NAME: [note.pk]}
    )
    assert response.status_code == resend
    if resend == 403:
        with pytest.raises(PermissionDenied):
            services.resend_credit_note(note, by=user)
        assert len(mail.outbox) == 2  # the receipt and the credit note, nothing again


def test_the_exports_let_the_accountant_subtract_credit_notes_from_receipts(
    campaign, people, django_capture_on_commit_callbacks
):
    """Receipts (the donations export) less credit notes (their export) is what the foundation
    kept of the gifts it gave receipts for."""
    first, second = receipted(campaign, amount=3000), receipted(campaign, amount=1250)
    services.record_demo_donation(campaign, amount=999)  # no receipt: in neither sum
    first_refund = refund(first, 1000, people, django_capture_on_commit_callbacks, when=(2026, 4, 2))
    refund(second, 250, people, django_capture_on_commit_callbacks, when=(2026, 5, 2))
    header, rows = credit_note_rows(None, None)
    rows = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["credit_note"], r["receipt"], r["credited"], r["remaining"], r["receipt_amount"]) for r in rows] == [
        ("CN-2026-000001", "2026-000001", "10.00", "20.00", "30.00"),
        ("CN-2026-000002", "2026-000002", "2.50", "10.00", "12.50"),
    ]
    assert rows[0]["issued"].startswith("2026-04-02")
    assert rows[0]["ledger_group"] == f"{first.reference}:staff-refund:{first_refund.pk}"
    assert rows[0]["method"] and rows[0]["currency"] == "EUR" and rows[0]["receipt_issued"].startswith("2026-03-05")
    # Dated by the day issued, days inclusive.
    from datetime import date

    _header, april = credit_note_rows(date(2026, 4, 1), date(2026, 4, 30))
    assert [row[0] for row in april] == ["CN-2026-000001"]
    donation_header, donations = donation_rows(None, None)
    donations = [dict(zip(donation_header, row, strict=True)) for row in donations]
    receipts = sum(float(d["amount"]) for d in donations if d["receipt"])
    kept = sum(float(d["amount"]) - float(d["refunded"]) for d in donations if d["receipt"])
    assert receipts - sum(float(r["credited"]) for r in rows) == kept == 30.0


def test_the_export_screen_offers_credit_notes_to_finance(
    client, campaign, people, django_capture_on_commit_callbacks
):
    donation = receipted(campaign)
    refund(donation, 700, people, django_capture_on_commit_callbacks)
    client.force_login(people[0])
    response = client.get("/backoffice/donations/donation/export/", {"kind": "credit_notes"})
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and body.startswith("credit_note,issued,receipt,")
    assert "CN-2026-000001" in body


def test_a_card_refund_event_delivered_again_issues_one_credit_note(
    client, funded_campaign, settings, django_capture_on_commit_callbacks
):
    """Through Stripe's own webhooks (the SDK signs them; the fake server answers the API):
    the refund event twice, another event with the same total, then the rest refunded."""
    from tests.fake_stripe import stripe_enabled
    from zbor.payments.tests.test_stripe import (
        SECRET,
        charge_refunded,
        send,
        session_completed,
        start_card_donation,
    )

    with stripe_enabled(settings, SECRET), django_capture_on_commit_callbacks(execute=True):
        start_card_donation(client, email="donor@example.org")
        session = Donation.objects.get(provider="stripe").checkout_reference
        assert send(client, "checkout.session.completed", session_completed(session)).status_code == 200
        for event_id in ("evt_refund_1", "evt_refund_1", "evt_refund_again"):
            assert send(client, "charge.refunded", charge_refunded(1000), event_id=event_id).status_code == 200
        send(client, "charge.refunded", charge_refunded(2500))
    donation = Donation.objects.get(provider="stripe")
    year = donation.receipt_number[:4]
    assert notes(donation) == [(f"CN-{year}-000001", 1000, 1500), (f"CN-{year}-000002", 1500, 0)]
    receipt, *credit_notes = mail.outbox
    assert [m.attachments[0][0] for m in credit_notes] == [
        f"credit-note-CN-{year}-000001.pdf",
        f"credit-note-CN-{year}-000002.pdf",
    ]


def test_the_command_sends_the_credit_notes_the_queue_never_sent(campaign, people):
    import io

    from django.core.management import call_command

    donation = receipted(campaign)
    with at(2026, 4, 9):  # the queue is down: nothing runs after the commit
        services.approve_refund(
            services.request_refund(donation, amount=300, reason="Asked", by=people[0]), by=people[1]
        )
    assert len(mail.outbox) == 1
    out = io.StringIO()
    call_command("send_unsent_receipts", stdout=out)
    assert "Sent 0 receipt(s); 0 failed." in out.getvalue() and "Sent 1 credit note(s); 0 failed." in out.getvalue()
    assert mail.outbox[-1].attachments[0][0] == "credit-note-CN-2026-000001.pdf"
    call_command("send_unsent_receipts", stdout=io.StringIO())
    assert len(mail.outbox) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refunds_booked_at_once_by_many_workers_number_credit_notes_without_gaps_or_doubles():
    """Six workers book refunds of eighteen receipted gifts at once (each twice: a worker and a
    replay of its event), on real concurrent transactions: the credit notes are exactly 1 to
    18, one per gift, whichever lock orders the bookings (the counter's, the ledger's)."""
    import threading

    from django.db import connections

    from tests.postgres import run_here_or_on_postgres

    if not run_here_or_on_postgres(
        f"{__file__}::test_refunds_booked_at_once_by_many_workers_number_credit_notes_without_gaps_or_doubles"
    ):
        return
    donations = []
    for i in range(18):  # each in a campaign of its own: no campaign lock orders the bookings
        donation = gift(factories.campaign(needs=(10_000_000,)), amount=1000 + i)
        send_receipt(donation.pk)
        donations.append(donation)
    workers, barrier, errors = 6, threading.Barrier(6), []

    def book(share):
        try:
            barrier.wait()
            for donation in share:
                services.take_back(donation, kind=TransferKind.REFUND, key="refund:500", cumulative=500)
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    shares = [donations[i::workers] + donations[(i + 1) % workers :: workers] for i in range(workers)]
    threads = [threading.Thread(target=book, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(CreditNote.objects.values_list("number", flat=True))
    year = numbers[0][3:7]
    assert numbers == [f"CN-{year}-{n:06d}" for n in range(1, 19)]
    assert sorted(CreditNote.objects.values_list("donation_id", flat=True)) == sorted(d.pk for d in donations)
