"""After a restore, the proof that ZBOR_ENCRYPTION_KEYS open the private data, said plainly."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import factories
from zbor.campaigns.private import add_document, write_private
from zbor.ops.archive import BackupError
from zbor.ops.restore import check_private_read

pytestmark = pytest.mark.django_db


def _picture() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue())


def test_without_private_data_it_says_there_was_none():
    assert check_private_read() == [
        "private data: the backup holds no encrypted record to read",
        "private files: the backup holds no private file to read",
    ]


def test_one_record_and_one_file_open_and_a_missing_file_is_counted(settings, tmp_path):
    settings.ZBOR_PRIVATE_ROOT = tmp_path
    editor = factories.role_user("editor")
    b = factories.beneficiary()
    write_private(b, by=editor, real_name="Someone Real")
    kept = add_document(b, _picture(), by=editor)
    gone = add_document(b, _picture(), by=editor)
    (tmp_path / gone.stored_name).unlink()
    assert kept.stored_name != gone.stored_name
    assert check_private_read() == [
        "private data: campaigns.beneficiary.real_name_secret of one record opens with ZBOR_ENCRYPTION_KEYS",
        "private files: one of campaigns.beneficiarydocument opens with ZBOR_ENCRYPTION_KEYS",
        "private files: WARNING: 1 named in the database are not in the backup",
    ]


def test_other_keys_fail_the_check(settings, tmp_path):
    settings.ZBOR_PRIVATE_ROOT = tmp_path
    b = factories.beneficiary()
    write_private(b, by=factories.role_user("editor"), real_name="Someone Real")
    settings.ZBOR_ENCRYPTION_KEYS = ["bm90LXRoZS1rZXktdGhlLWJhY2t1cC1uZWVkcy0wMDA="]
    with pytest.raises(BackupError, match="ZBOR_ENCRYPTION_KEYS do not open campaigns.beneficiary.real_name_secret"):
        check_private_read()
