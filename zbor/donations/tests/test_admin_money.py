"""Finance screens show money as money: "€12.34", never the stored minor units (1234)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.helpers import text_of
from zbor.campaigns.models import Need
from zbor.disbursements import services as payouts
from zbor.donations.models import Donation
from zbor.donations.services import record_demo_donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client):
    client.force_login(factories.role_user("finance", "fin-money"))
    return client


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return text_of(response.content.decode())


def test_donations_list_and_page_show_major_units(finance, campaign):
    donation = record_demo_donation(campaign, amount=1234)
    Donation.objects.filter(pk=donation.pk).update(fee=56, refunded=100)
    listing = page(finance, "/backoffice/donations/donation/")
    assert "€12.34" in listing and "€1" in listing and not re.search(r"\b1234\b", listing)
    detail = page(finance, f"/backoffice/donations/donation/{donation.pk}/change/")
    assert "€12.34" in detail and "€0.56" in detail and "€1" in detail
    assert not re.search(r"\b1234\b", detail) and "fee: 56" not in detail.lower()


def test_statement_lines_show_major_units(finance, campaign):
    statement = "date,amount,currency,reference,transaction_id\n2026-03-02,12.34,EUR,nothing known,T9\n"
    finance.post(
        "/backoffice/donations/bankstatement/import/", {"file": SimpleUploadedFile("s.csv", statement.encode())}
    )
    listing = page(finance, "/backoffice/donations/bankstatementline/")
    assert "€12.34" in listing and not re.search(r"\b1234\b", listing)


def test_payouts_list_shows_major_units(finance, campaign):
    need = Need.objects.get(campaign=campaign, position=0)
    record_demo_donation(campaign, amount=50000, need=need)
    payouts.request_payout(
        need, amount=12345, channel="cash", recipient="x", purpose="y", by=factories.role_user("finance", "fin-2")
    )
    listing = page(finance, "/backoffice/disbursements/payout/")
    assert "€123.45" in listing and not re.search(r"\b12345\b", listing)
