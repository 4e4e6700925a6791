"""Finance imports a bank's own CSV: with the layout saved for the bank, or by detecting one
from the file first (which imports nothing and opens the layout, filled in, to be saved)."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations.bank_import import import_statement
from zbor.donations.models import BankStatement, BankStatementLine, DonationStatus, LineStatus
from zbor.donations.services import start_donation
from zbor.payments.bank import StatementError, format_reference
from zbor.payments.models import StatementLayout

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "payments" / "tests" / "samples"


def german_layout() -> StatementLayout:
    return StatementLayout.objects.create(
        name="Beispielbank",
        delimiter=";",
        decimal_separator=",",
        thousands_separator=".",
        encoding="cp1252",
        date_format="%d.%m.%Y",
        header_line=5,
        footer_lines=1,
        date_column="Buchungstag",
        amount_column="Betrag",
        currency_column="Währung",
        reference_columns="Verwendungszweck",
    )


def german_statement(reference: str, amount: str = "25,00", *, payer: str = "Erika Musterfrau") -> bytes:
    """The German sample with its first line paying ``reference``."""
    lines = (SAMPLES / "de_bank.csv").read_bytes().decode("cp1252").split("\r\n")
    lines[5] = f"03.11.2026;03.11.2026;{payer};Spende {reference} danke;{amount};EUR"
    return "\r\n".join(lines).encode("cp1252")


def finance_client() -> Client:
    client = Client()
    client.force_login(factories.role_user("finance"))
    return client


def test_a_bank_csv_read_with_its_layout_confirms_the_pledge_it_names_once():
    pledge = start_donation(factories.campaign(), amount=2500, need=None, provider="bank", idempotency_key="de-1")
    data = german_statement(format_reference(pledge.checkout_reference), payer="Erika Musterfrau")
    layout = german_layout()
    report = import_statement(data, by=factories.staff_user(), layout=layout)
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED
    assert (report.new, report.matched, report.unmatched, report.outgoing) == (5, 1, 3, 1)
    assert not BankStatementLine.objects.filter(text__contains="Musterfrau").exists()
    # The same statement again (no bank ids: the keys come from what the lines say) adds nothing.
    assert import_statement(data, by=factories.staff_user(), layout=layout).new == 0


def test_a_bank_csv_with_a_broken_line_writes_nothing():
    pledge = start_donation(factories.campaign(), amount=2500, need=None, provider="bank", idempotency_key="de-2")
    data = german_statement(format_reference(pledge.checkout_reference)).replace(b"1.250,00", b"1.25,00")
    with pytest.raises(StatementError, match="Line 7, column “Betrag”: “1.25,00” is not an amount"):
        import_statement(data, by=factories.staff_user(), layout=german_layout())
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.PENDING
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()


def test_finance_imports_a_bank_csv_with_the_layout_saved_for_the_bank():
    pledge = start_donation(factories.campaign(), amount=2500, need=None, provider="bank", idempotency_key="de-3")
    layout = german_layout()
    upload = SimpleUploadedFile("umsaetze.csv", german_statement(format_reference(pledge.checkout_reference)))
    response = finance_client().post(
        reverse("admin:donations_bankstatement_import"), {"file": upload, "layout": str(layout.pk)}
    )
    assert response.status_code == 302
    assert BankStatementLine.objects.filter(status=LineStatus.MATCHED, donation=pledge).exists()


def test_finance_detects_a_new_banks_layout_saves_it_and_imports_with_it():
    client = finance_client()
    data = (SAMPLES / "pl_bank_cp1250.csv").read_bytes()
    detected = client.post(
        reverse("admin:donations_bankstatement_import"),
        {"file": SimpleUploadedFile("wyciag.csv", data), "layout": "detect"},
    )
    assert detected.status_code == 302 and not BankStatementLine.objects.exists()  # nothing imported yet
    add_url = detected["Location"]
    assert urlsplit(add_url).path == reverse("admin:payments_statementlayout_add")
    proposed = {name: values[0] for name, values in parse_qs(urlsplit(add_url).query).items()}
    assert proposed["encoding"] == "cp1250" and proposed["reference_columns"] == "Tytuł"
    page = client.get(add_url).content.decode()
    assert 'value="Data operacji"' in page and "3 line(s)" in page
    form = {"name": "mBank", "thousands_separator": "", **proposed}
    assert client.post(add_url, form).status_code == 302
    layout = StatementLayout.objects.get(name="mBank")
    assert AuditEvent.objects.filter(action="payments.statementlayout.add").exists()
    imported = client.post(
        reverse("admin:donations_bankstatement_import"),
        {"file": SimpleUploadedFile("wyciag.csv", data), "layout": str(layout.pk)},
        follow=True,
    )
    assert "3 new line(s)" in imported.content.decode()
    assert BankStatementLine.objects.get(key=f"csv-layout{layout.pk}:TX-PL-0002").status == LineStatus.OUTGOING


def test_a_file_no_layout_can_be_detected_for_is_refused_on_the_form():
    response = finance_client().post(
        reverse("admin:donations_bankstatement_import"),
        {"file": SimpleUploadedFile("x.csv", b"a;b\n1;2\n"), "layout": "detect"},
    )
    assert response.status_code == 200 and "names a date and an amount column" in response.content.decode()


def test_a_detected_layout_that_stumbles_on_a_line_names_the_line_never_its_cells():
    """The warning travels in a cookie (Django's messages): with a wrongly read column a cell
    could be a payer's name, so only the line number is said."""
    lines = (SAMPLES / "pl_bank_cp1250.csv").read_bytes().decode("cp1250").split("\r\n")
    lines[7:7] = [f"2026-11-0{n};2026-11-0{n};Przelew;1,00;PLN;Darowizna;TX-PL-9{n}" for n in range(1, 6)]
    lines.insert(12, "2026-11-06;2026-11-06;Przelew;Jan Kowalski;PLN;Darowizna;TX-PL-0009")
    client = finance_client()
    detected = client.post(
        reverse("admin:donations_bankstatement_import"),
        {"file": SimpleUploadedFile("wyciag.csv", "\r\n".join(lines).encode("cp1250")), "layout": "detect"},
    )
    assert detected.status_code == 302
    assert "Kowalski" not in str(detected.cookies) and "Kowalski" not in str(client.session.items())
    page = client.get(detected["Location"]).content.decode()
    assert "line 13 of the file does not read yet" in page and "Kowalski" not in page
