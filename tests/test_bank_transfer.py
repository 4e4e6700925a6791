"""A bank-transfer pledge, then finance imports the statement: matched, idempotent, all or nothing."""

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.helpers import CAMPAIGN, DEMO
from zbor.donations.models import BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client, funded_campaign):
    client.force_login(factories.staff_user("finance"))
    return client


def pledge(client, amount="50", slug=CAMPAIGN):
    response = client.post(
        f"/en/campaigns/{slug}/donate/", {"amount": amount, "method": "bank", "idempotency_key": uuid.uuid4().hex}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    reference = re.search(r'<code class="reference">([A-Z0-9-]+)</code>', page).group(1)
    assert "PL61 1090 1014 0000 0712 1981 2874" in page and "WBKPPLPP" in page
    return reference


def upload(client, content: bytes, name="statement.csv"):
    return client.post(
        "/backoffice/donations/bankstatement/import/", {"file": SimpleUploadedFile(name, content)}, follow=True
    )


def csv_statement(*rows) -> bytes:
    return ("date,amount,currency,reference,transaction_id\n" + "".join(f"{r}\n" for r in rows)).encode()


def collected(client):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()))
    return re.search(r"Collected: (€[\d,.]+) of €2,000", text).group(1)


def test_a_pledge_is_pending_until_the_statement_arrives_then_counts(client, finance, funded_campaign):
    reference = pledge(client)
    assert collected(client) == "€683"
    sloppy = reference.lower().replace("-", " ").replace("0", "o")
    response = upload(
        finance, csv_statement(f"2026-11-28,50.00,EUR,Donation {sloppy},T1", "2026-11-28,-2.00,EUR,bank fee,T2")
    )
    assert "1 matched to donations" in response.content.decode()
    assert Donation.objects.get(provider="bank").status == DonationStatus.SUCCEEDED
    assert collected(client) == "€733"
    assert reconcile().ok


def test_a_reference_drawn_twice_is_drawn_again_and_a_resent_pledge_keeps_its_own(
    client, funded_campaign, monkeypatch
):
    from zbor.payments import bank

    first = pledge(client).replace("-", "")
    draws = iter([first, first, bank.new_reference()])
    monkeypatch.setattr(bank, "new_reference", lambda: next(draws))
    second = pledge(client).replace("-", "")  # the pledge and its reference are one INSERT: drawn again
    assert second != first and next(draws, None) is None
    assert Donation.objects.filter(provider="bank").count() == 2

    data = {"amount": "70", "method": "bank", "idempotency_key": uuid.uuid4().hex}
    monkeypatch.setattr(bank, "new_reference", lambda: first)  # collides, but the key is known
    sent = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", {**data, "idempotency_key": "k" * 20})
    assert sent.status_code == 400 and "could not be started" in sent.content.decode()  # every draw collided
    monkeypatch.undo()
    once = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", data)
    monkeypatch.setattr(bank, "new_reference", lambda: first)
    again = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", data)
    assert once["Location"] == again["Location"] and Donation.objects.filter(amount=7000).count() == 1


def test_the_same_statement_twice_adds_nothing(client, finance, funded_campaign):
    reference = pledge(client)
    statement = csv_statement(f"2026-11-28,50.00,EUR,{reference},T1")
    upload(finance, statement)
    before = Transfer.objects.count(), BankStatementLine.objects.count()
    response = upload(finance, statement)
    assert "imported before" in response.content.decode()
    assert (Transfer.objects.count(), BankStatementLine.objects.count()) == before
    assert collected(client) == "€733"


def test_a_typo_in_the_reference_still_matches_its_one_pending_pledge(client, finance, funded_campaign):
    reference = pledge(client).replace("-", "")
    typo = reference[:4] + reference[5] + reference[4] + reference[6:]  # two neighbours swapped
    upload(finance, csv_statement(f"2026-11-28,50.00,EUR,{typo},T1"))
    assert Donation.objects.get(provider="bank").status == DonationStatus.SUCCEEDED


def test_an_unmatched_line_waits_and_staff_assign_it(client, finance, funded_campaign):
    upload(finance, csv_statement("2026-11-28,20.00,EUR,for Pavel,T9"))
    line = BankStatementLine.objects.get(status=LineStatus.UNMATCHED)
    assert line.text == "for Pavel"
    queue = finance.get("/backoffice/donations/bankstatementline/?status__exact=unmatched").content.decode()
    assert "for Pavel" in queue
    response = finance.post(
        f"/backoffice/donations/bankstatementline/{line.pk}/change/", {"assign_to": funded_campaign.pk}, follow=True
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.status == LineStatus.ASSIGNED and line.text == "" and line.donation.status == DonationStatus.SUCCEEDED
    assert collected(client) == "€703"
    assert reconcile().ok


def test_a_line_in_another_currency_cannot_be_assigned_to_a_euro_campaign(finance, funded_campaign):
    upload(finance, csv_statement("2026-11-28,80.00,PLN,?,T3"))
    line = BankStatementLine.objects.get()
    finance.post(f"/backoffice/donations/bankstatementline/{line.pk}/change/", {"assign_to": funded_campaign.pk})
    line.refresh_from_db()
    assert line.status == LineStatus.UNMATCHED


def test_a_malformed_file_is_refused_whole_naming_the_line(client, finance, funded_campaign):
    reference = pledge(client)
    response = upload(finance, csv_statement(f"2026-11-28,50.00,EUR,{reference},T1", "2026-11-28,fifty,EUR,x,T2"))
    assert "Nothing was imported" in response.content.decode() and "Line 3" in response.content.decode()
    assert not BankStatementLine.objects.exists()
    assert Donation.objects.get(provider="bank").status == DonationStatus.PENDING


def test_a_camt053_statement_imports_too(client, finance, funded_campaign):
    from zbor.payments.tests.test_bank import camt, entry

    reference = pledge(client, amount="12.34")
    upload(finance, camt(entry(amount="12.34", text=reference, ref="ACCT-1")), name="statement.xml")
    assert Donation.objects.get(provider="bank").status == DonationStatus.SUCCEEDED
    assert collected(client) == "€695.34"


def test_the_bank_pledge_page_says_nothing_personal_and_nothing_about_the_campaign_in_the_reference(
    client, funded_campaign
):
    reference = pledge(client)
    assert re.fullmatch(r"ZB[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}", reference)


def test_a_reversed_transfer_is_never_booked_as_a_donation(client, finance, funded_campaign):
    from zbor.payments.tests.test_bank import camt, entry

    reference = pledge(client)
    reversed_ = entry(amount="50.00", text=reference, ref="REV-1").replace(
        "<CdtDbtInd>", "<RvslInd>true</RvslInd><CdtDbtInd>"
    )
    upload(finance, camt(reversed_), name="statement.xml")
    assert BankStatementLine.objects.get().status == LineStatus.REVERSAL
    assert Donation.objects.get(provider="bank").status == DonationStatus.PENDING


def test_money_arriving_after_the_campaign_closed_is_kept_beyond_its_goal(client, demo, finance):
    from zbor.campaigns import services as campaign_services

    reference = pledge(client, slug=DEMO)  # the demo's campaign: a closed one as the public sees it
    campaign_services.close_campaign(demo, by=None)
    upload(finance, csv_statement(f"2026-11-28,50.00,EUR,{reference},T1"))
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/en/campaigns/{DEMO}/").content.decode()))
    assert "€50 beyond the goal" in page and "Collected: €733 of €2,000" in page
    assert reconcile().ok
