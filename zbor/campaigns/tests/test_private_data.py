"""Beneficiaries' private data: encrypted at rest, readable only by the roles that need it,
every read and change audited, purged for good on request, and rotated to a new key."""

import io
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns import private
from zbor.campaigns.models import Beneficiary

ROOT = Path(__file__).resolve().parents[3]
REAL_NAMES = ["Aliaksandra Zhukouskaya", "Siarhei Tsikhanouski-Prykladny"]

SCRIPT = textwrap.dedent(
    """
    import django, sys
    django.setup()
    from io import BytesIO
    from django.core.management import call_command
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.contrib.auth import get_user_model
    from zbor.accounts.roles import sync_roles
    from django.contrib.auth.models import Group
    from zbor.campaigns.models import Beneficiary
    from zbor.campaigns.private import write_private, add_document, read_private
    from zbor.disbursements import services as payouts
    from tests import factories

    call_command("migrate", verbosity=0)
    sync_roles()
    editor = get_user_model().objects.create_user("ed", password="x" * 20, is_staff=True)
    editor.groups.add(Group.objects.get(name="editor"))
    editor = get_user_model().objects.get(pk=editor.pk)
    for n, name in enumerate(sys.argv[1:]):
        b = Beneficiary.objects.create(reference=f"B-{n}")
        write_private(b, by=editor, real_name=name, contacts=f"{name} phone +375 29 000", verification_notes=f"Met {name}")
        from pypdf import PdfWriter
        writer = PdfWriter(); writer.add_blank_page(width=100, height=100); writer.add_metadata({"/Title": name})
        out = BytesIO(); writer.write(out)
        add_document(b, SimpleUploadedFile("passport.pdf", out.getvalue()), by=editor, label=f"Passport of {name}")
        assert read_private(b, by=editor).real_name == name
    print("ok")
    """
)


def _write_private_data(env: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *REAL_NAMES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]


def _files_contain(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def _needles() -> list[bytes]:
    return [v for name in REAL_NAMES for v in (name.encode(), name.encode("utf-16-le"))]


def test_no_real_name_in_the_sqlite_file_or_the_media_and_private_directories(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    _write_private_data(env)
    assert (tmp_path / "zbor.sqlite3").exists()
    assert _files_contain(tmp_path, _needles()) == []


def test_no_real_name_in_a_postgresql_dump(tmp_path):
    url = os.environ.get("ZBOR_TEST_DATABASE_URL") or (
        os.environ.get("DATABASE_URL", "") if connection.vendor == "postgresql" else ""
    )
    if not url:
        pytest.skip("needs PostgreSQL: set ZBOR_TEST_DATABASE_URL")
    import psycopg

    name = f"zbor_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db_url = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "ZBOR_DATA_DIR": str(tmp_path),
            "DATABASE_URL": db_url,
            "PYTHONPATH": str(ROOT),
        }
        _write_private_data(env)
        dump = subprocess.run(["pg_dump", "--data-only", db_url], capture_output=True, timeout=120)
        assert dump.returncode == 0, dump.stderr
        assert b"CREATE" in dump.stdout or b"COPY" in dump.stdout
        assert [n for n in _needles() if n in dump.stdout] == []
        assert _files_contain(tmp_path, _needles()) == []
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_only_editors_read_private_data_and_every_read_is_audited():
    editor, finance = factories.role_user("editor"), factories.role_user("finance")
    b = factories.beneficiary()
    private.write_private(b, by=editor, real_name="Hanna Real", contacts="+48 600")
    assert private.read_private(b, by=editor).real_name == "Hanna Real"
    with pytest.raises(PermissionDenied):
        private.read_private(b, by=finance)
    with pytest.raises(PermissionDenied):
        private.write_private(b, by=finance, real_name="x")
    events = list(AuditEvent.objects.filter(object_id=str(b.pk)).order_by("pk").values_list("action", "fields"))
    assert events == [
        ("beneficiary.private.change", ["contacts", "real_name"]),
        ("beneficiary.private.read", ["contacts", "real_name", "verification_notes"]),
    ]
    assert "Hanna" not in str(list(AuditEvent.objects.values()))


@pytest.mark.django_db
def test_the_admin_shows_private_fields_only_to_roles_that_may_read_them(client):
    editor, finance = factories.role_user("editor"), factories.role_user("finance")
    b = factories.beneficiary()
    private.write_private(b, by=editor, real_name="Hanna Real")
    client.force_login(editor)
    assert "Hanna Real" in client.get(f"/backoffice/campaigns/beneficiary/{b.pk}/change/").content.decode()
    client.force_login(finance)
    assert client.get(f"/backoffice/campaigns/beneficiary/{b.pk}/change/").status_code == 403


@pytest.mark.django_db
def test_purge_beneficiary_destroys_private_data_but_keeps_page_and_ledger(client, demo, settings):
    editor = factories.role_user("editor")
    b = Beneficiary.objects.get(reference="B-0001")
    private.write_private(b, by=editor, real_name="Pavel Real")
    from zbor.disbursements.tests.test_payouts import pdf_receipt

    doc = private.add_document(b, pdf_receipt(), by=editor)
    assert (settings.ZBOR_PRIVATE_ROOT / doc.stored_name).exists()
    call_command("purge_beneficiary", "B-0001", "--yes", stdout=io.StringIO())
    b.refresh_from_db()
    assert private.read_private(b, by=editor) == private.PrivateDetails("", "", "")
    assert not b.documents.exists() and b.private_purged_at
    assert client.get("/en/campaigns/from-prison-to-family/").status_code == 200
    assert "Collected: €683" in client.get("/en/campaigns/from-prison-to-family/").content.decode().replace(
        "<strong>", ""
    ).replace("</strong>", "")
    assert AuditEvent.objects.filter(action="beneficiary.private.purge", actor_label="zbor purge_beneficiary").exists()


@pytest.mark.django_db
def test_keys_rotate_old_data_stays_readable_and_moves_to_the_new_key(settings):
    from cryptography.fernet import Fernet

    from zbor import crypto

    editor = factories.role_user("editor")
    b = factories.beneficiary()
    private.write_private(b, by=editor, real_name="Old Key Name")
    old_key = settings.ZBOR_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ZBOR_ENCRYPTION_KEYS = [new_key, old_key]
    assert private.read_private(b, by=editor).real_name == "Old Key Name"
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.ZBOR_ENCRYPTION_KEYS = [new_key]
    b.refresh_from_db()
    assert private.read_private(b, by=editor).real_name == "Old Key Name"
    settings.ZBOR_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.UnreadableSecret):
        private.read_private(b, by=editor)


@pytest.mark.django_db
def test_the_audit_log_refuses_changes_and_deletion():
    factories.role_user("admin")
    from zbor.accounts.services import audit

    audit(None, "test.action", label="test")
    for statement in ("UPDATE accounts_auditevent SET action = 'x'", "DELETE FROM accounts_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="test.action").exists()


@pytest.mark.django_db
def test_every_role_permission_exists():
    from zbor.accounts.roles import ROLES, _permission

    for permissions in ROLES.values():
        for permission in permissions:
            _permission(permission)


@pytest.mark.django_db
def test_the_audit_log_names_only_the_fields_that_changed(client):
    """Regression (issue 14): changing only a beneficiary's display name was logged as a change
    of their real name, contacts and verification notes."""
    editor = factories.role_user("editor", "ed-audit")
    b = factories.beneficiary(name="Anna")
    private.write_private(
        b, by=editor, real_name="Hanna Real", contacts="+375 29 111", verification_notes="Seen\r\nthe papers"
    )
    client.force_login(editor)
    data = {
        "reference": b.reference,
        "display_name": "Anna K.",
        "name_is_pseudonym": "on",
        "consent_recorded": "on",
        "real_name": "Hanna Real",
        "contacts": "+375 29 111",
        "verification_notes": "Seen\r\nthe papers",
        "new_document_label": "",
    }
    before = AuditEvent.objects.count()
    response = client.post(f"/backoffice/campaigns/beneficiary/{b.pk}/change/?language=en", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    events = list(AuditEvent.objects.order_by("pk")[before:].values_list("action", "fields"))
    assert events == [("campaigns.beneficiary.change", ["Display name"])], events
    body = str(list(AuditEvent.objects.values()))
    assert "Hanna" not in body and "+375" not in body  # names of fields, never values
    data["contacts"] = "+375 29 222"
    client.post(f"/backoffice/campaigns/beneficiary/{b.pk}/change/?language=en", data)
    assert set(AuditEvent.objects.order_by("pk")[before + 1 :].values_list("action", flat=True)) == {
        "beneficiary.private.change",
        "campaigns.beneficiary.change",
    }
    assert all(
        fields in (["contacts"], ["Contacts"])
        for fields in AuditEvent.objects.order_by("pk")[before + 1 :].values_list("fields", flat=True)
    )
