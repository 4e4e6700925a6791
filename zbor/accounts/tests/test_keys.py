"""Key rotation (zbor/accounts/keys.py): every registered secret and file moves to the newest key,
and the audit row is written in the same transaction as the work."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from tests import factories
from zbor import crypto, private_files
from zbor.accounts.keys import rotate_encryption_keys
from zbor.accounts.models import AuditEvent
from zbor.campaigns import private
from zbor.disbursements.models import PURGED, Payout, PayoutStatus


def _picture() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(data, "PNG")
    return SimpleUploadedFile("scan.png", data.getvalue(), content_type="image/png")


def _payout(campaign, user, **fields) -> Payout:
    return Payout.objects.create(
        campaign=campaign,
        need=campaign.needs.first(),
        amount=1000,
        currency=campaign.currency,
        channel="cash",
        purpose="Rent",
        requested_by=user,
        recipient_secret=crypto.encrypt_text("Pavel, IBAN GE00"),
        **fields,
    )


@pytest.fixture
def secrets_under_the_old_key(settings):
    editor = factories.role_user("editor")
    campaign = factories.campaign()
    beneficiary = campaign.beneficiary
    private.write_private(beneficiary, by=editor, real_name="Old Key Name")
    document = private.add_document(beneficiary, _picture(), by=editor, label="passport")
    payout = _payout(campaign, editor)
    purged = _payout(campaign, editor, status=PayoutStatus.PAID, paid_at=timezone.now(), proof_name=PURGED)
    old_key = settings.ZBOR_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ZBOR_ENCRYPTION_KEYS = [new_key, old_key]
    return editor, beneficiary, document, payout, purged, old_key, new_key


@pytest.mark.django_db
def test_rotation_moves_every_registered_secret_and_file_and_audits_it(settings, secrets_under_the_old_key):
    editor, beneficiary, document, payout, purged, old_key, new_key = secrets_under_the_old_key
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "1 private file(s)" in out.getvalue()  # the document; the purged proof names no file
    settings.ZBOR_ENCRYPTION_KEYS = [new_key]
    beneficiary.refresh_from_db()
    payout.refresh_from_db()
    assert private.read_private(beneficiary, by=editor).real_name == "Old Key Name"
    assert crypto.decrypt_text(payout.recipient_secret) == "Pavel, IBAN GE00"
    assert private_files.load(document.stored_name).startswith(b"\xff\xd8")  # the cleaned JPEG
    event = AuditEvent.objects.get(action="crypto.keys.rotate")
    assert event.actor_label == "zbor rotate_encryption_keys"
    assert "disbursements.payout.recipient_secret" in event.fields
    assert "campaigns.beneficiary.real_name_secret" in event.fields
    assert "campaigns.beneficiarydocument.stored_name (files)" in event.fields
    rotate_encryption_keys(by=editor)  # safe to run twice
    assert AuditEvent.objects.filter(action="crypto.keys.rotate").count() == 2


@pytest.mark.django_db
def test_a_failed_rotation_changes_nothing_and_writes_no_audit_row(settings, secrets_under_the_old_key):
    editor, beneficiary, document, payout, purged, old_key, new_key = secrets_under_the_old_key
    (settings.ZBOR_PRIVATE_ROOT / document.stored_name).unlink()
    with pytest.raises(FileNotFoundError):
        rotate_encryption_keys(by=editor)
    assert not AuditEvent.objects.filter(action="crypto.keys.rotate").exists()
    settings.ZBOR_ENCRYPTION_KEYS = [old_key]
    beneficiary.refresh_from_db()
    assert private.read_private(beneficiary, by=editor).real_name == "Old Key Name"  # still the old key's
