"""A donor gives through the real pages: the form, the demo checkout, the status page."""

import io
import re
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.helpers import CAMPAIGN, DEMO, text_of
from zbor.campaigns.models import Need, Status
from zbor.donations.models import Donation, DonationStatus, MessageStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import Transfer

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "amount": "25",
        "need": "",
        "public_name": "",
        "email": "",
        "message": "",
        "method": "demo",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    if data["method"] == "demo" and "challenge" not in overrides:
        data["challenge"] = factories.solved_challenge()
    return data


def give(client, slug=CAMPAIGN, outcome="complete", **fields):
    response = client.post(f"/en/campaigns/{slug}/donate/", form_data(**fields))
    assert response.status_code == 302, text_of(response.content.decode())[:2000]
    checkout = response["Location"]
    assert "/donations/test-checkout/demo_" in checkout
    page = client.get(checkout)
    assert "TEST MODE" in page.content.decode() and "Complete test payment" in page.content.decode()
    return client.post(checkout, {"outcome": outcome})


def test_a_donor_gives_25_to_a_need_and_the_page_moves_at_once(client, demo):
    clothes = Need.objects.get(campaign=demo, position=1)
    form = client.get(f"/en/campaigns/{DEMO}/donate/").content.decode()
    assert '<label for="id_amount">Amount</label>' in form and ">Donate</button>" in form
    done = give(client, slug=DEMO, need=str(clothes.pk))
    assert done.status_code == 302
    assert re.fullmatch(r"/en/donations/[0-9a-f-]{36}/", done["Location"])  # nothing personal in the URL
    thanks = client.get(done["Location"])
    assert "Thank you" in thanks.content.decode() and thanks["Cache-Control"].startswith("max-age=0")
    page = text_of(client.get(f"/en/campaigns/{DEMO}/").content.decode())
    assert "Collected: €708 of €2,000" in page
    assert "Collected: €208 of €500" in page  # the clothes need moved
    out = io.StringIO()
    call_command("reconcile", stdout=out)  # exits 1 (SystemExit) on any difference
    assert "clean: no differences" in out.getvalue()


def test_submitting_the_same_form_twice_makes_one_donation(client, funded_campaign):
    data = form_data(amount="40")
    first = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", data)
    second = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", data)
    assert first["Location"] == second["Location"]
    assert Donation.objects.filter(amount=4000).count() == 1


def test_forms_sharing_their_fields_keep_their_own_data_and_errors(client, funded_campaign):
    """The donate forms of one campaign share their fields (zbor/donations/forms.py): each
    keeps its own data and errors."""
    url = f"/en/campaigns/{CAMPAIGN}/donate/"
    first = client.post(url, form_data(amount="ten", public_name="Ola"))
    assert first.status_code == 400 and "Enter a number" in first.content.decode()
    second = client.post(url, form_data(email="not-an-email", message="Hold on"))
    html = second.content.decode()
    assert "valid email" in html and "Hold on" in html
    assert "Enter a number" not in html and "Ola" not in html
    assert client.post(url, form_data(amount="31")).status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": ""}, "Enter an amount."),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "-5"}, "greater than zero"),
        ({"amount": "ten"}, "Enter a number"),
        ({"amount": "1.2345"}, "at most 2 decimal places"),
        ({"amount": "10000.01"}, "at most €10,000"),
        ({"need": "999999"}, "Select a valid choice"),
        ({"method": "stripe"}, "Select a valid choice"),
        ({"idempotency_key": "x"}, "reload the page"),
        ({"email": "not-an-email"}, "valid email"),
        ({"message": "x" * 501}, "at most 500"),
    ],
)
def test_bad_input_re_renders_the_form_with_a_message_and_creates_nothing(client, funded_campaign, fields, message):
    before = Donation.objects.count(), Transfer.objects.count()
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form_data(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Donation.objects.count(), Transfer.objects.count()) == before


def test_a_need_of_another_campaign_is_refused(client, funded_campaign):
    other = factories.campaign().needs.first()
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form_data(need=str(other.pk)))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_closed_and_unpublished_campaigns_take_nothing(client, demo):
    before = Donation.objects.count()
    closed = client.post("/en/campaigns/dental-care-after-release/donate/", form_data())
    assert closed.status_code == 400 and "not taking donations" in closed.content.decode()
    assert client.post("/en/campaigns/first-months-in-lithuania/donate/", form_data()).status_code == 404
    assert Donation.objects.count() == before


def test_a_preset_amount_works_without_typing(client, funded_campaign):
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form_data(amount="", preset="5000"))
    assert response.status_code == 302
    assert Donation.objects.filter(amount=5000, status=DonationStatus.PENDING).exists()


def test_a_failed_test_payment_moves_no_money_and_says_so(client, funded_campaign):
    before = Transfer.objects.count()
    done = give(client, outcome="fail", email="someone@example.org")
    assert "did not go through" in client.get(done["Location"]).content.decode()
    donation = Donation.objects.get(status=DonationStatus.FAILED)
    assert donation.email == ""  # no receipt will be sent, so the address is gone
    assert Transfer.objects.count() == before
    assert reconcile().ok


def test_cancelling_returns_to_the_form_filled_in(client, funded_campaign):
    need = Need.objects.get(campaign=funded_campaign, position=2)
    done = give(client, outcome="cancel", amount="37", need=str(need.pk), public_name="Ola", message="Hold on")
    assert re.fullmatch(r"/en/donations/[0-9a-f-]{36}/again/", done["Location"])
    html = client.get(done["Location"]).content.decode()
    assert "cancelled" in html
    assert 'name="amount" value="37.00"' in html
    assert f'<option value="{need.pk}" selected>' in html
    # What the donor typed was forgotten with the payment (end_unpaid): the tab's own script
    # puts it back (donate-keep.js), the server never shows it again.
    assert "Ola" not in html and "Hold on" not in html
    assert "data-restore" in html and "/static/zbor/donate-keep.js" in html
    assert re.search(r'<input type="radio" name="method" value="demo"[^>]*checked', html)
    # Sent again, it is a new donation (a new idempotency key), not the cancelled one.
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    assert not Donation.objects.filter(idempotency_key=key).exists()
    give(client, amount="37", idempotency_key=key)
    assert Donation.objects.filter(amount=3700, status=DonationStatus.SUCCEEDED).count() == 1


def test_a_failed_payment_offers_the_form_filled_in_to_that_browser_only(client, funded_campaign):
    done = give(client, outcome="fail", amount="41", public_name="Ales")
    status = client.get(done["Location"]).content.decode()
    again = re.search(r'href="(/en/donations/[0-9a-f-]{36}/again/)"', status).group(1)
    assert "Try again" in status
    html = client.get(again).content.decode()
    assert 'name="amount" value="41.00"' in html and "Ales" not in html
    # Another browser (no cookie) is sent to the status page, which names nothing.
    other = Client()
    response = other.get(again)
    assert response.status_code == 302 and response["Location"] == done["Location"]
    assert "41" not in text_of(other.get(again, follow=True).content.decode())


def test_a_receipt_pdf_is_sent_through_the_task_queue_then_the_email_is_forgotten(
    client, funded_campaign, django_capture_on_commit_callbacks, settings
):
    from datetime import timedelta

    from pypdf import PdfReader

    from zbor.donations.receipts import forget_receipt_emails

    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        pytest.skip(f"WeasyPrint needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pl/campaigns/{CAMPAIGN}/donate/", form_data(email="donor@example.org", amount="31"))
        donation = Donation.objects.get(amount=3100)
        client.post(f"/pl/donations/test-checkout/{donation.checkout_reference}/", {"outcome": "complete"})
    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert receipt.to == ["donor@example.org"]
    text = receipt.subject + receipt.body
    assert "31\u00a0€" in text and "Pavel" not in text and "prison" not in text.lower() and "więzi" not in text.lower()
    [(name, pdf, content_type)] = receipt.attachments
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF")
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "31" in pdf_text and "Pavel" not in pdf_text and CAMPAIGN not in pdf_text
    donation.refresh_from_db()
    assert donation.receipt_sent_at and donation.email == "donor@example.org"  # kept a few days for a resend
    Donation.objects.filter(pk=donation.pk).update(
        receipt_sent_at=donation.receipt_sent_at - timedelta(days=settings.ZBOR_RECEIPT_EMAIL_DAYS)
    )
    forget_receipt_emails()
    assert Donation.objects.get(pk=donation.pk).email == ""


def test_a_receipt_that_fails_to_send_is_retried(
    client, funded_campaign, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core.mail import EmailMessage

    real_send, attempts = EmailMessage.send, []

    def flaky(self, *args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("mail server down")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        give(client, email="donor@example.org", amount="32")
    assert len(attempts) == 3 and len(mail.outbox) == 1
    assert Donation.objects.get(amount=3200).receipt_sent_at is not None


def test_words_of_support_appear_only_after_approval(client, funded_campaign):
    from zbor.donations.services import moderate_message

    give(client, public_name="Ola", message="Stay strong, we are with you.")
    donation = Donation.objects.get(message__startswith="Stay strong")
    assert donation.message_status == MessageStatus.PENDING
    assert "Stay strong" not in client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()
    moderate_message(donation, approve=True, by=factories.role_user("editor"))
    page = client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()
    assert "Stay strong, we are with you." in page and "Ola" in page
    assert "€25" not in text_of(page).split("Words of support")[1].split("Updates")[0]  # no amount beside a name


def test_reaching_the_goal_marks_the_campaign_funded_and_it_still_takes_gifts(client):
    campaign = factories.campaign(slug="small", needs=(1000,))
    give(client, slug="small", amount="10")
    campaign.refresh_from_db()
    assert campaign.status == Status.FUNDED
    give(client, slug="small", amount="5")
    page = text_of(client.get("/en/campaigns/small/").content.decode())
    assert "Collected: €15 of €10" in page and "€5 beyond the goal" in page and "reached its goal" in page
    assert reconcile().ok


def test_unearmarked_money_fills_needs_in_order(client):
    campaign = factories.campaign(slug="order", needs=(1000, 2000))
    give(client, slug="order", amount="15")
    page = text_of(client.get("/en/campaigns/order/").content.decode())
    assert "Collected: €10 of €10" in page and "Collected: €5 of €20" in page
    assert campaign.needs.count() == 2


@pytest.mark.parametrize("language", ["ru", "be", "pl"])
def test_the_donate_form_is_translated(client, funded_campaign, language):
    html = client.get(f"/{language}/campaigns/{CAMPAIGN}/donate/").content.decode()
    label = {"ru": "Сумма", "be": "Сума", "pl": "Kwota"}[language]
    button = {"ru": "Пожертвовать", "be": "Ахвяраваць", "pl": "Wpłać"}[language]
    assert f'<label for="id_amount">{label}</label>' in html
    assert f">{button}</button>" in html


def _queries(client, path):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zbor.donations.selectors import DONOR_COUNTS

    cache.clear()  # the list's count is reused for a few seconds
    DONOR_COUNTS.clear()  # and a campaign's donor count for a few minutes
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_pages_cost_the_same_queries_with_10_or_400_donations(client):
    from zbor.donations.services import record_demo_donation

    campaign = factories.campaign(slug="grow", needs=(10**8, 10**8))
    needs = list(campaign.needs.all())
    paths = ["/en/campaigns/grow/", "/en/campaigns/", "/en/", "/en/campaigns/grow/donate/"]
    for i in range(10):
        record_demo_donation(campaign, amount=100 + i, need=needs[i % 2] if i % 3 else None)
    small = [_queries(client, path) for path in paths]
    for i in range(390):
        record_demo_donation(campaign, amount=100 + i, need=needs[i % 2] if i % 3 else None)
    large = [_queries(client, path) for path in paths]
    assert small == large
    assert reconcile().ok


def test_erase_donor_removes_personal_data_and_keeps_the_money(client, funded_campaign):
    give(
        client, outcome="complete", public_name="Kasia", message="Trzymaj się", email="kasia@example.org", amount="12"
    )
    donation = Donation.objects.get(amount=1200)
    Donation.objects.filter(pk=donation.pk).update(email="kasia@example.org")  # as if the receipt were still pending
    out = io.StringIO()
    call_command("erase_donor", "KASIA@example.org", stdout=out)
    donation.refresh_from_db()
    assert (donation.email, donation.public_name, donation.message) == ("", "", "")
    assert donation.status == DonationStatus.SUCCEEDED and donation.amount == 1200
    assert reconcile().ok


def test_old_unpaid_bank_pledges_expire_and_forget_their_email(client, funded_campaign, settings):
    from datetime import timedelta

    from django.utils import timezone

    from zbor.donations.services import purge_expired_emails

    client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form_data(method="bank", email="late@example.org"))
    Donation.objects.filter(provider="bank").update(
        created_at=timezone.now() - timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS + 1)
    )
    purge_expired_emails()
    donation = Donation.objects.get(provider="bank")
    assert donation.status == DonationStatus.EXPIRED and donation.email == ""


def test_finance_exports_donations_without_personal_data(client, funded_campaign):
    give(client, public_name="Ola", email="ola@example.org", amount="13")
    client.force_login(factories.role_user("finance"))
    response = client.get("/backoffice/donations/donation/export/?kind=donations&start=2000-01-01&end=2100-01-01")
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("donation,arrived,") and "13.00" in body
    assert "Ola" not in body and "ola@example.org" not in body
    ledger = b"".join(client.get("/backoffice/donations/donation/export/?kind=ledger").streaming_content).decode()
    assert "provider:demo:EUR" in ledger
    assert (
        client.get("/backoffice/donations/donation/export/?kind=donations&start=2030-01-01&end=2020-01-01").status_code
        == 200
    )


def test_the_sweep_sends_receipts_the_queue_never_sent(client, funded_campaign):
    from zbor.donations.tasks import send_unsent_receipts

    give(client, email="late@example.org", amount="33")  # on_commit never ran here: nothing was queued
    assert mail.outbox == []
    send_unsent_receipts.call_local()
    assert len(mail.outbox) == 1 and Donation.objects.get(amount=3300).receipt_sent_at


def test_the_donor_cookie_is_opaque_short_and_still_names_the_campaign(client, funded_campaign):
    """A seized phone's cookie jar must not list the gifts: the cookie holds keyed hashes, not
    the donations' ids, signed, for an hour; the status page still knows its browser."""
    from zbor.site.fastpath import MINE_COOKIE

    made = client.post(
        f"/en/campaigns/{CAMPAIGN}/donate/", {"amount": "25", "method": "bank", "idempotency_key": uuid.uuid4().hex}
    )
    assert made.status_code == 302
    donation = Donation.objects.order_by("-pk").first()
    cookie = made.cookies[MINE_COOKIE]
    assert cookie["max-age"] == 3600 and cookie["httponly"] and cookie["samesite"] == "Lax"
    for needle in (str(donation.public_id), donation.public_id.hex, donation.checkout_reference):
        assert needle not in cookie.value
    # A short number turns up inside hex by chance: the database id must not be one of the fields.
    assert str(donation.pk) not in re.split(r"[.:]", cookie.value)
    status = client.get(made["Location"])
    assert f"/en/campaigns/{CAMPAIGN}/" in status.content.decode()
    client.cookies[MINE_COOKIE] = cookie.value.replace(cookie.value[-3:], "xyz")
    assert f"/en/campaigns/{CAMPAIGN}/" not in client.get(made["Location"]).content.decode()


def test_the_donate_page_redirects_query_parameters_it_does_not_read(client, funded_campaign):
    """The form page is shared per campaign and language: a visit with ?x=… must not lend its
    query string to the next visitors' language links."""
    donate = f"/en/campaigns/{CAMPAIGN}/donate/"
    sent = client.get(donate + "?x=%3Cattack%3E&fbclid=1")
    assert sent.status_code == 301 and sent["Location"] == donate
    page = client.get(donate).content.decode()
    assert "attack" not in page and "?x=" not in page
    assert f'href="/ru/campaigns/{CAMPAIGN}/donate/"' in page


def test_the_csrf_cookie_lives_only_as_long_as_the_browser_session(client, funded_campaign):
    """Django's default keeps csrftoken for a year: proof on a seized phone that the donate
    form was opened. It must be a session cookie (no Max-Age, no Expires)."""
    cookie = client.get(f"/en/campaigns/{CAMPAIGN}/donate/").cookies["csrftoken"]
    assert cookie.value and not cookie["max-age"] and not cookie["expires"]
