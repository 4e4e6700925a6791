"""Manage my monthly gift without an account (issue 18): the address in, the same answer out,
a signed short-lived link mailed only where a monthly gift is given; behind it the amount,
pause and resume, and a stop that takes two clicks."""

import logging
import re
import time
from urllib.parse import quote, urlparse

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.helpers import text_of
from zbor.accounts.models import AuditEvent
from zbor.donations import monthly_links
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.receipts import send_receipt
from zbor.payments.base import ProviderUnavailable
from zbor.payments.demo import DemoProvider
from zbor.site import monthly_manage

pytestmark = pytest.mark.django_db

EMAIL = "Monthly.Quokka+z7@example.org"
ASK = "/en/monthly/"
LINK = re.compile(r"https?://\S+/en/monthly/manage/[^/\s]+/")


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Ask for a link as a donor does; returns the response (the page's tasks run)."""

    def asking(email=EMAIL, who=client):
        with django_capture_on_commit_callbacks(execute=True):
            return who.post(ASK, {"email": email})

    return asking


def link_in_mail() -> str:
    assert len(mail.outbox) == 1
    found = LINK.search(mail.outbox[0].body)
    assert found
    return urlparse(found.group(0)).path


def a_link(client, ask, email=EMAIL) -> str:
    mail.outbox.clear()
    ask(email)
    return link_in_mail()


def test_every_page_links_to_it_in_the_footer(client, campaign):
    for page in ("/en/", f"/en/campaigns/{campaign.slug}/", "/ru/"):
        html = client.get(page).content.decode()
        assert 'href="/' + page.split("/")[1] + '/monthly/"' in html


def test_the_same_answer_whether_or_not_the_address_gives_monthly(client, campaign, ask):
    factories.monthly_gift(campaign, email=EMAIL)
    known, unknown = ask(EMAIL), ask("nobody.here@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/en/monthly/?sent=1"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]  # only the known address gets one
    page = text_of(client.get(known["Location"]).content.decode())
    assert "If this address gives monthly, a link is on its way." in page


def test_the_mail_is_neutral_and_nothing_personal_is_in_its_link(client, campaign, ask):
    factories.monthly_gift(campaign, email=EMAIL)
    ask(EMAIL.upper())  # any case
    message = mail.outbox[0]
    assert message.to == [EMAIL]  # to the address the gift holds
    assert "Help to start again" not in message.subject + message.body  # no campaign
    assert "10" not in message.subject and "€" not in message.body  # no amount
    assert "60 minutes" in message.body
    url = LINK.search(message.body).group(0)
    for form in (EMAIL, EMAIL.lower(), quote(EMAIL), quote(EMAIL, safe=""), "quokka"):
        assert form.lower() not in url.lower()


def test_the_queue_never_holds_the_address(client, campaign, ask, monkeypatch):
    queued = []
    original = monthly_manage.enqueue_on_commit
    monkeypatch.setattr(
        monthly_manage, "enqueue_on_commit", lambda task, *args: (queued.append(args), original(task, *args))
    )
    factories.monthly_gift(campaign, email=EMAIL)
    ask(EMAIL)
    assert len(queued) == 1 and "quokka" not in repr(queued).lower()
    assert queued[0][0] == monthly_links.email_digest(EMAIL)


def test_one_link_lists_every_running_gift_of_the_address(client, campaign, ask):
    fund = factories.campaign(title="Families of political prisoners")
    listed = [
        factories.monthly_gift(campaign, email=EMAIL, amount=1000),
        factories.monthly_gift(fund, email=EMAIL.lower(), amount=2500, status=MonthlyStatus.PAUSED),
        factories.monthly_gift(campaign, email=EMAIL, amount=700, status=MonthlyStatus.FAILING),
        factories.monthly_gift(campaign, email=EMAIL, amount=1500, provider="bank", status=MonthlyStatus.PENDING),
    ]
    factories.monthly_gift(campaign, email=EMAIL, amount=9100, status=MonthlyStatus.PENDING)  # checkout not done
    factories.monthly_gift(campaign, email="", amount=9200, status=MonthlyStatus.STOPPED)
    factories.monthly_gift(campaign, email="someone.else@example.org", amount=9300)
    response = client.get(a_link(client, ask))
    assert response.status_code == 200
    page = text_of(response.content.decode())
    for amount in ("€10", "€25", "€7", "€15"):
        assert f"{amount} a month" in page
    for amount in ("€91", "€92", "€93"):
        assert amount not in page
    assert "Families of political prisoners" in page and "Help to start again" in page
    assert "Bank standing order" in page and "Test payment (demo)" in page
    assert "Paused" in page and "Waiting for your first transfer" in page
    assert "A standing order is paused or changed in your banking app." in page
    assert page.count("Stop this monthly gift") == len(listed)  # never hidden


def test_an_expired_link_is_refused_with_a_clear_page(client, campaign, ask, monkeypatch, settings):
    factories.monthly_gift(campaign, email=EMAIL)
    then = int(time.time()) - settings.ZBOR_MONTHLY_LINK_SECONDS - 1
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then))
    old = a_link(client, ask)
    monkeypatch.undo()
    response = client.get(old)
    assert response.status_code == 410
    page = text_of(response.content.decode())
    assert "This link has expired" in page and "Ask for a new one" in page
    assert 'name="email"' in response.content.decode()  # asking again is right there
    gift = MonthlyGift.objects.get()
    stop = old + f"{gift.public_id}/stop/"
    assert client.post(stop).status_code == 410
    assert MonthlyGift.objects.get().status == MonthlyStatus.ACTIVE


def test_a_tampered_link_is_refused(client, campaign, ask):
    mine = factories.monthly_gift(campaign, email=EMAIL)
    other = factories.monthly_gift(campaign, email="other@example.org")
    link = a_link(client, ask)
    token = link.rstrip("/").rsplit("/", 1)[1]
    payload = signing.b64_encode(signing.Signer().sign(other.public_id.hex).encode()).decode()
    for forged in (
        link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:],  # one character of the signature
        link.replace(token, "." + payload),
        link.replace(token, token.split(":", 1)[0] + ":AAAAAA:" + token.rsplit(":", 1)[1]),
    ):
        response = client.get(forged)
        assert response.status_code == 400, forged
        assert "This link is not valid" in text_of(response.content.decode())
    assert client.post(link.replace(token, "nonsense") + f"{mine.public_id}/stop/").status_code == 400
    assert MonthlyGift.objects.filter(status=MonthlyStatus.ACTIVE).count() == 2


def test_a_link_never_reaches_another_addresss_gift(client, campaign, ask):
    factories.monthly_gift(campaign, email=EMAIL)
    other = factories.monthly_gift(campaign, email="other@example.org", amount=3000)
    link = a_link(client, ask)
    response = client.post(link + f"{other.public_id}/stop/")
    assert response.status_code == 302 and response["Location"] == link
    response = client.post(link + f"{other.public_id}/amount/", {f"gift-{other.public_id.hex[:12]}-amount": "1"})
    other.refresh_from_db()
    assert (other.status, other.amount) == (MonthlyStatus.ACTIVE, 3000)


def test_change_the_amount_through_the_link(client, campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    link = a_link(client, ask)
    field = f"gift-{gift.public_id.hex[:12]}-amount"
    response = client.post(link + f"{gift.public_id}/amount/", {field: "25"})
    assert response.status_code == 302 and response["Location"] == link
    gift.refresh_from_db()
    assert gift.amount == 2500
    assert AuditEvent.objects.filter(action="monthly_gift.change_amount", actor__isnull=True).exists()
    assert "From the next month on, you give €25 a month." in text_of(client.get(link).content.decode())


@pytest.mark.parametrize("typed", ["0", "abc", "-5", "10000000"])
def test_an_amount_the_start_would_refuse_is_refused_here(client, campaign, ask, typed):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    link = a_link(client, ask)
    response = client.post(link + f"{gift.public_id}/amount/", {f"gift-{gift.public_id.hex[:12]}-amount": typed})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    gift.refresh_from_db()
    assert gift.amount == 1000


def test_pause_and_resume_through_the_link(client, campaign, ask, monkeypatch):
    told = []
    monkeypatch.setattr(DemoProvider, "pause_subscription", lambda self, ref, paused: told.append((ref, paused)))
    gift = factories.monthly_gift(campaign, email=EMAIL)
    link = a_link(client, ask)
    assert client.post(link + f"{gift.public_id}/pause/").status_code == 302
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.PAUSED
    page = text_of(client.get(link).content.decode())
    assert "no payment is taken until you resume it" in page and "Resume" in page
    assert client.post(link + f"{gift.public_id}/resume/").status_code == 302
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE
    assert told == [(gift.reference, True), (gift.reference, False)]


def test_a_standing_order_is_paused_at_the_bank_not_here(client, campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL, provider="bank")
    link = a_link(client, ask)
    assert f"{gift.public_id}/pause/" not in client.get(link).content.decode()
    client.post(link + f"{gift.public_id}/pause/")
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE


def test_stopping_takes_two_clicks(client, campaign, ask, monkeypatch):
    cancelled, deleted = [], []
    monkeypatch.setattr(DemoProvider, "cancel_subscription", lambda self, ref: cancelled.append(ref))
    monkeypatch.setattr(DemoProvider, "delete_customer", lambda self, ref: deleted.append(ref))
    gift = factories.monthly_gift(campaign, email=EMAIL, customer_reference="demo_cus_1")
    factories.monthly_gift(campaign, email=EMAIL, amount=500)
    link = a_link(client, ask)
    stop = link + f"{gift.public_id}/stop/"
    listing = client.get(link).content.decode()
    assert f'href="{stop}"' in listing and f'action="{stop}"' not in listing  # the first click only asks
    confirm = client.get(stop)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert f'action="{stop}"' in html and "Yes, stop my monthly gift" in html and "csrfmiddlewaretoken" in html
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE  # opening the confirmation changes nothing
    done = client.post(stop)
    assert done.status_code == 302
    gift.refresh_from_db()
    assert (gift.status, gift.stop_reason, gift.email, gift.customer_reference) == (
        MonthlyStatus.STOPPED,
        StopReason.DONOR,
        "",
        "",
    )
    assert cancelled == [gift.reference] and deleted == ["demo_cus_1"]
    page = text_of(client.get(done["Location"]).content.decode())
    assert "Your monthly gift has stopped" in page and "From now on, no payment of €10 is taken." in page
    assert "Your other monthly gifts" in page
    listing = text_of(client.get(link).content.decode())
    assert "€10 a month" not in listing and "€5 a month" in listing  # no longer listed
    assert client.post(stop).status_code == 302  # again: nothing more happens
    assert cancelled == [gift.reference]


def test_stopping_a_standing_order_says_to_cancel_it_at_the_bank(client, campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL, provider="bank")
    link = a_link(client, ask)
    stop = link + f"{gift.public_id}/stop/"
    assert "Cancel the standing order in your banking app" in text_of(client.get(stop).content.decode())
    page = text_of(client.get(client.post(stop)["Location"]).content.decode())
    assert "Cancel the standing order in your banking app" in page


def test_every_change_needs_the_csrf_token(campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    browser = Client(enforce_csrf_checks=True)
    mail.outbox.clear()
    monthly_links.send_manage_link(
        monthly_links.email_digest(EMAIL), "en", "http://testserver/en/monthly/manage/TOKEN/"
    )
    link = link_in_mail()
    for action in ("stop", "pause", "amount"):
        assert browser.post(link + f"{gift.public_id}/{action}/").status_code == 403
    assert browser.post(ASK, {"email": EMAIL}).status_code == 403
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE


def test_a_gift_whose_address_was_erased_leaves_the_link(client, campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    link = a_link(client, ask)
    MonthlyGift.objects.filter(pk=gift.pk).update(email="")
    assert "€10 a month" not in text_of(client.get(link).content.decode())


def test_asking_is_rate_limited_per_client(client, campaign, ask, settings):
    settings.ZBOR_MONTHLY_LINKS_PER_CLIENT_HOUR = 2
    factories.monthly_gift(campaign, email=EMAIL)
    assert ask("a@example.org").status_code == ask("b@example.org").status_code == 302
    refused = ask(EMAIL)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Please try again in" in text_of(refused.content.decode())
    assert mail.outbox == []
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert ask(EMAIL, who=other).status_code == 302 and len(mail.outbox) == 1


def test_one_address_gets_few_links_whoever_asks(client, campaign, ask, settings):
    settings.ZBOR_MONTHLY_LINKS_PER_ADDRESS_HOUR = 2
    factories.monthly_gift(campaign, email=EMAIL)
    answers = [ask(EMAIL, who=Client(REMOTE_ADDR=f"198.51.100.{n}"))["Location"] for n in range(4)]
    assert answers == ["/en/monthly/?sent=1"] * 4  # the same answer, but
    assert len(mail.outbox) == 2  # no flood of mail


def test_no_address_in_any_url_or_log(client, campaign, ask, caplog):
    caplog.set_level(logging.DEBUG)
    gift = factories.monthly_gift(campaign, email=EMAIL)
    responses = [ask(EMAIL), ask("unknown.wombat@example.org")]
    link = link_in_mail()
    responses += [
        client.get(link),
        client.get(link + f"{gift.public_id}/stop/"),
        client.post(link + f"{gift.public_id}/stop/"),
    ]
    urls = [link] + [r["Location"] for r in responses if r.has_header("Location")]
    for response in responses:
        urls += re.findall(r'(?:href|action)="([^"]+)"', response.content.decode())
    for needle in ("quokka", "wombat", "%40", "@"):
        assert not [u for u in urls if needle in u.lower()], needle
    assert "quokka" not in caplog.text.lower() and "wombat" not in caplog.text.lower()


def test_the_pages_are_translated(client, campaign, ask):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    for language, title, stop in (
        ("ru", "Управлять ежемесячным пожертвованием", "Да, остановить моё ежемесячное пожертвование"),
        ("be", "Кіраваць штомесячным ахвяраваннем", "Так, спыніць маё штомесячнае ахвяраванне"),
        ("pl", "Zarządzaj moją darowizną comiesięczną", "Tak, zatrzymaj moją darowiznę comiesięczną"),
    ):
        assert title in text_of(client.get(f"/{language}/monthly/").content.decode())
        mail.outbox.clear()
        digest = monthly_links.email_digest(EMAIL)
        monthly_links.send_manage_link(digest, language, f"http://testserver/{language}/monthly/manage/TOKEN/")
        assert mail.outbox[0].subject != "Your link from Zbor Foundation"
        url = re.search(r"/" + language + r"/monthly/manage/[^/\s]+/", mail.outbox[0].body).group(0)
        assert stop in text_of(client.get(url + f"{gift.public_id}/stop/").content.decode())


def test_each_monthly_receipt_says_where_to_manage_the_gift(campaign, settings):
    settings.ZBOR_PUBLIC_URL = "https://zbor.example"
    gift = factories.monthly_gift(campaign, email=EMAIL)
    for n, language in enumerate(("en", "pl")):
        payment = Donation.objects.create(
            campaign=campaign,
            amount=1000,
            currency="EUR",
            provider="demo",
            idempotency_key=f"m{n}",
            checkout_reference=f"demo_inv_{n}",
            status=DonationStatus.SUCCEEDED,
            succeeded_at=timezone.now(),
            email=EMAIL,
            language=language,
            monthly_gift=gift,
        )
        send_receipt(payment.pk)
    english, polish = (message.body for message in mail.outbox)
    assert "“Manage my monthly gift”" in english and "https://zbor.example/en/monthly/" in english
    assert "„Zarządzaj moją darowizną comiesięczną”" in polish and "https://zbor.example/pl/monthly/" in polish
    one_off = Donation.objects.create(
        campaign=campaign,
        amount=500,
        currency="EUR",
        provider="demo",
        idempotency_key="once",
        status=DonationStatus.SUCCEEDED,
        succeeded_at=timezone.now(),
        email=EMAIL,
    )
    send_receipt(one_off.pk)
    assert "monthly" not in mail.outbox[-1].body


def test_a_provider_that_cannot_be_reached_changes_nothing_and_says_so(client, campaign, ask, monkeypatch):
    def down(self, *args):
        raise ProviderUnavailable("down")

    for method in ("pause_subscription", "update_subscription", "cancel_subscription"):
        monkeypatch.setattr(DemoProvider, method, down)
    gift = factories.monthly_gift(campaign, email=EMAIL)
    link = a_link(client, ask)
    for action, data in (("pause", {}), ("amount", {f"gift-{gift.public_id.hex[:12]}-amount": "30"}), ("stop", {})):
        response = client.post(link + f"{gift.public_id}/{action}/", data)
        assert response.status_code == 302 and response["Location"] == link
    gift.refresh_from_db()
    assert (gift.status, gift.amount, gift.email) == (MonthlyStatus.ACTIVE, 1000, EMAIL)
    assert "could not be reached, so nothing changed" in text_of(client.get(link).content.decode())
