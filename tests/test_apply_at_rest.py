"""An application at rest on a real SQLite file (as `make run` keeps it, in WAL mode): after a
person applies with a file and answers a question, neither zbor.sqlite3 nor its -wal and -shm,
nor the media and private directories, hold a byte of what they wrote or sent.

The test suite's own database lives in memory (tests/test_apply_browser.py dumps it row by row);
this runs the same submission in a separate process on a file, with the development settings.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.test_apply_browser import ANSWER_MARKER, MARKERS, marked_pdf, needles

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import re, sys
    import django
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from tests import applicants
    from tests.casework import foundation_keys
    from zbor.cases.models import Case, CaseMessage, Direction

    call_command("migrate", verbosity=0)
    foundation_keys()
    made = applicants.programme()
    markers, answer, pdf_path = eval(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = applicants.application(
        made, name=markers["name"], location=markers["location"], story=markers["story"],
        needs=markers["needs"], contact=markers["contact"],
    )
    data[applicants.question_field(made, "file")] = SimpleUploadedFile("scan.pdf", open(pdf_path, "rb").read())
    client = Client(HTTP_HOST="localhost")
    page = client.post(f"/en/apply/{made.slug}/", data).content.decode()
    code = re.search(r'class="case-code">([^<]+)<', page).group(1)
    phrase = " ".join(re.findall(r'<li lang="en">(\\w+)</li>', page))
    case = Case.objects.get(code=code)
    CaseMessage.objects.create(case=case, direction=Direction.TO_APPLICANT, template="identity_document")
    assert client.post("/en/apply/status/", {"code": code, "phrase": phrase}).status_code == 302
    assert client.post("/en/apply/status/answer/", {"text": answer}).status_code == 302
    # Copied while the connection is open: SQLite removes the -wal file when the last one closes.
    import os, shutil
    shutil.copytree(os.environ["ZBOR_DATA_DIR"], sys.argv[4])
    print("ok", code)
    """
)


def test_an_application_leaves_nothing_readable_in_the_sqlite_file_its_wal_and_the_directories(tmp_path):
    pdf = tmp_path / "upload" / "scan.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(marked_pdf())
    data = tmp_path / "data"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(data),
        "ZBOR_CASE_PHRASE_KDF": "min",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, repr(MARKERS), ANSWER_MARKER, str(pdf), str(tmp_path / "while-open")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "ok ZC-" in result.stdout, result.stderr[-3000:]
    code = result.stdout.split("ok ", 1)[1].strip().encode()

    files = {p: p.read_bytes() for root in (data, tmp_path / "while-open") for p in root.rglob("*") if p.is_file()}
    assert {"zbor.sqlite3", "zbor.sqlite3-wal", "zbor.sqlite3-shm"} <= {p.name for p in files}
    assert code in b"".join(v for p, v in files.items() if p.name.startswith("zbor.sqlite3"))
    assert any(p.parent.name == "private" for p in files)  # the sealed file was written and read here
    found = [f"{p}: {n[:40]!r}" for p, blob in files.items() for n in needles(pdf.read_bytes()) if n in blob]
    assert found == []
    assert [o for o in result.stdout.splitlines() + result.stderr.splitlines() if "Q7XW" in o] == []
