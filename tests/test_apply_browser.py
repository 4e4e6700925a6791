"""Issue 20's "done when", the applicant's half: in a browser with JavaScript off (Tor Browser at
its safest level), a person applies with a file; then every place the server keeps data is read
— the database (SQLite's file, -wal and -shm when the test database is a file, and always a dump
of every row; PostgreSQL's tables through the connection), the media and private directories,
the log records and the console, and Redis when it is configured (every key's value) — and no
byte of any answer or of the file is found. Then a caseworker asks a question with a text of their
own, and the status page, opened with the case code and phrase, shows the question and that text
(nowhere stored readable) and takes an answer, sealed too.

With ZBOR_SCREENSHOTS=<dir> the walk also saves the pages at 390 and 1280 pixels wide.
"""

import logging
import os
import re
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests import applicants
from tests.browser import needs_chromium
from tests.casework import caseworker, foundation_keys
from zbor import private_files
from zbor.cases import sealing, work
from zbor.cases.models import Case, CaseDocument, CaseMessage, Direction

pytestmark = needs_chromium

MARKERS = {
    "name": "Nadzeya-Q7XW",
    "location": "Hrodna-Q7XW street",
    "story": "Detained at the Q7XW rally; my brother Q7XW-Ales was searched.",
    "needs": "Lawyer fees for Q7XW-court",
    "contact": "q7xw_signal_handle",
    "text": "Left through Q7XW-border",
    "long_text": "Two children, Q7XW-Mikita and Q7XW-Olia",
}
FILE_MARKER = b"Q7XW-PASSPORT-NUMBER-MP1234567"
AUTHOR_MARKER = b"Q7XW-Scanner-Owner"
ANSWER_MARKER = "Q7XW-answer: the passport photo is attached"
#: A caseworker's free text to the applicant: sealed to the foundation and to the applicant.
QUESTION_MARKER = "Q7XW-question: which border crossing did you use?"


def marked_pdf() -> bytes:
    """A one-page PDF whose page shows FILE_MARKER (an uncompressed content stream, so cleaning
    keeps it and it would be found in any plain copy) and whose metadata names AUTHOR_MARKER."""
    content = b"BT /F1 12 Tf 10 10 Td (" + FILE_MARKER + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Author (" + AUTHOR_MARKER + b") /Creator (" + AUTHOR_MARKER + b") >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def needles(original_file: bytes) -> list[bytes]:
    """What must not be found anywhere: each answer (UTF-8 and UTF-16, as SQLite may store text),
    the answer sent later, the caseworker's question, the file's markers and 48-byte slices of the whole original file."""
    # Every marker is long: the stored files are base64 text (Fernet), in which any short string
    # of its alphabet turns up by chance (a 4-letter one about once in twelve 1 MB files).
    texts = [*MARKERS.values(), ANSWER_MARKER, QUESTION_MARKER]
    found = [t.encode() for t in texts] + [t.encode("utf-16-le") for t in texts]
    found += [FILE_MARKER, AUTHOR_MARKER, FILE_MARKER.hex().encode(), FILE_MARKER.hex().upper().encode()]
    found += [original_file[i : i + 48] for i in range(0, len(original_file) - 48, 48)]
    return found


# --- every store --------------------------------------------------------------------------


def database_bytes() -> bytes:
    """Everything the database holds: the SQLite file with its -wal and -shm when the test
    database is a file, and a dump of every row of every table (PostgreSQL: through the
    connection; SQLite: its own ``iterdump``, which writes blobs as hex)."""
    connection.ensure_connection()
    chunks: list[bytes] = []
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if "memory" not in name and Path(name).exists():
            for suffix in ("", "-wal", "-shm"):
                path = Path(name + suffix)
                if path.exists():
                    chunks.append(path.read_bytes())
        chunks += [line.encode() for line in connection.connection.iterdump()]
        return b"\n".join(chunks)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def directory_bytes(*roots: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


def redis_bytes() -> list[bytes]:
    """Every key and value of the configured Redis (strings, hashes, lists, sets, sorted sets)."""
    if not getattr(settings, "REDIS_URL", ""):
        return []
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    values: list[bytes] = []
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        values.append(key)
        if kind == b"string":
            values.append(client.get(key) or b"")
        elif kind == b"hash":
            values += [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == b"list":
            values += client.lrange(key, 0, -1)
        elif kind == b"set":
            values += list(client.smembers(key))
        elif kind == b"zset":
            values += client.zrange(key, 0, -1)
    return values


def found_in(haystacks: dict[str, bytes], searched: list[bytes]) -> list[str]:
    return [f"{where}: {needle[:40]!r}" for where, data in haystacks.items() for needle in searched if needle in data]


# --- the walk ------------------------------------------------------------------------------


class Shots:
    """Screenshots at a phone's and a laptop's width, when ZBOR_SCREENSHOTS names a directory."""

    def __init__(self, browser):
        self.directory = os.environ.get("ZBOR_SCREENSHOTS", "")
        self.browser = browser

    def take(self, url: str, name: str, cookies=None):
        if not self.directory:
            return
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        for width in (390, 1280):
            context = self.browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 900})
            if cookies:
                context.add_cookies(cookies)
            page = context.new_page()
            page.goto(url)
            page.screenshot(path=f"{self.directory}/{name}-{width}.png", full_page=True)
            context.close()

    def page(self, page, name: str):
        """The page as it is now (a form's answer cannot be loaded again), at both widths."""
        if not self.directory:
            return
        size = page.viewport_size
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{self.directory}/{name}-{width}.png", full_page=True)
        page.set_viewport_size(size)


def test_an_application_without_javascript_leaves_no_readable_byte_and_its_status_page_works(
    browser, live_server, caplog, capfd, tmp_path
):
    caplog.set_level(logging.DEBUG)
    _fk, private = foundation_keys()
    applicants.programme()
    pdf = marked_pdf()
    document = tmp_path / "passport-scan.pdf"
    document.write_bytes(pdf)
    shots = Shots(browser)

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/en/")
    page.locator("footer").get_by_role("link", name="Ask the foundation for help").click()
    shots.take(page.url, "apply-start")
    page.get_by_role("link", name="Relocation").click()
    shots.take(page.url, "apply-form")
    shots.take(page.url.replace("/en/", "/ru/"), "apply-form-ru")
    # Sent empty: the page comes back with what to fix, without JavaScript.
    page.get_by_role("button", name="Send my application").click()
    assert page.get_by_role("heading", name="Please check the form").is_visible()
    shots.page(page, "apply-form-errors")
    page.get_by_label("How should we address you?").fill(MARKERS["name"])
    page.get_by_label("Where are you now?").fill(MARKERS["location"])
    page.get_by_label("What happened?").fill(MARKERS["story"])
    page.get_by_label("What do you need?").fill(MARKERS["needs"])
    page.get_by_label("Roughly how much money would that take?").fill("1500")
    page.get_by_label("Which city did you leave?").fill(MARKERS["text"])
    page.get_by_label("Who depends on you?").fill(MARKERS["long_text"])
    page.get_by_label("No", exact=True).check()
    page.get_by_label("A document about your case").set_input_files(str(document))
    page.get_by_label("Signal").check()
    page.get_by_label("Your address or username there").fill(MARKERS["contact"])
    page.get_by_role("button", name="Send my application").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Your application was sent"
    code = page.locator("code.case-code").inner_text().strip()
    phrase = " ".join(page.locator("ol.phrase li").all_inner_texts())
    assert re.fullmatch(r"ZC-[2-9A-Z]{4}-[2-9A-Z]{4}", code) and len(phrase.split()) == 5
    shots.page(page, "apply-sent")

    # The case exists, sealed: the markers are in it for the key holder (so a plain copy of any
    # of them would be found below) …
    case = Case.objects.get(code=code)
    answers = sealing.unseal_json(case.answers, private)
    assert answers["core"]["story"] == MARKERS["story"] and answers["core"]["contact"] == MARKERS["contact"]
    stored = CaseDocument.objects.get(case=case)
    clean = sealing.unseal_file(private_files.load(stored.stored_name), private)
    assert FILE_MARKER in clean and AUTHOR_MARKER not in clean  # cleaned, then sealed

    # … and nowhere else in the clear.
    _assert_nothing_readable(pdf, case)

    # A caseworker asks a question with a text of their own (sealed to the foundation and to
    # the applicant's own key).
    work.ask_applicant(case, template="identity_document", text=QUESTION_MARKER, by=caseworker("anna"))
    assert CaseMessage.objects.get(case=case).body_for_applicant
    _assert_nothing_readable(pdf, case)

    page.goto(f"{live_server.url}/en/apply/")
    page.get_by_role("link", name="See your application with its case code and secret phrase").click()
    shots.take(page.url, "apply-status-sign-in")
    page.get_by_label("Case code").fill(code.lower())
    page.get_by_label("Secret phrase").fill(phrase.upper())
    page.get_by_role("button", name="Show my application").click()
    assert page.get_by_text("We need more information").is_visible()
    assert page.get_by_text("Please add a photo or scan of a document that shows who you are").is_visible()
    assert page.get_by_text(QUESTION_MARKER).is_visible()  # opened with the key the phrase unwrapped
    shots.take(page.url, "apply-status", cookies=context.cookies())
    page.get_by_label("Your answer").fill(ANSWER_MARKER)
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_text("Thank you: what you sent reached the foundation.").is_visible()
    assert page.get_by_text("You sent us 1 answer").is_visible()
    context.close()

    answer = CaseMessage.objects.get(case=case, direction=Direction.FROM_APPLICANT)
    assert sealing.unseal_text(answer.body, private) == ANSWER_MARKER
    _assert_nothing_readable(pdf, case)
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__.get('request', '')}" for r in caplog.records)
    console = capfd.readouterr()
    for text in (caplog.text, records, console.out, console.err):
        assert [n for n in needles(pdf) if n.decode("utf-8", "ignore") and n.decode("utf-8", "ignore") in text] == []
    assert "application received" in caplog.text  # the log was captured: it just names no content


def _assert_nothing_readable(original_file: bytes, case: Case) -> None:
    database = database_bytes()
    assert case.code.encode() in database  # the dump reads the rows: plain fields are there
    stores = {"database": database, **directory_bytes(settings.MEDIA_ROOT, settings.ZBOR_PRIVATE_ROOT)}
    stores |= {f"redis {n}": value for n, value in enumerate(redis_bytes())}
    assert any(name.startswith(str(settings.ZBOR_PRIVATE_ROOT)) for name in stores)  # the sealed file is read
    assert found_in(stores, needles(original_file)) == []


def test_with_javascript_the_form_solves_the_proof_of_work_and_loads_nothing_from_elsewhere(browser, live_server):
    """The same worker script as the donate form: the application arrives with a valid proof, so
    it counts against the per-client limit for proven applications, not the stricter ones; no CSP
    violation, no script error, no request to another server."""
    from django.test import RequestFactory, override_settings

    from tests.test_browser_privacy import Watch, loads_from_elsewhere
    from zbor import ratelimit

    foundation_keys()
    relocation = applicants.programme(questions=False)
    context = browser.new_context(java_script_enabled=True)
    watch = Watch(context, live_server.url)
    page = watch.new_page()
    page.goto(f"{live_server.url}/en/apply/{relocation.slug}/")
    page.wait_for_selector("form[data-challenge-solved]", state="attached", timeout=5000)
    page.get_by_label("How should we address you?").fill("Ira")
    page.get_by_label("Where are you now?").fill("Warsaw")
    page.get_by_label("What happened?").fill("A search at home.")
    page.get_by_label("What do you need?").fill("A lawyer.")
    # This client's allowance without a proof is used up: only a proven application gets in.
    with override_settings(ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR=1):
        rule = ratelimit.Rule("applications-no-proof", 1, 3600)
        ratelimit.hit(rule, ratelimit.client_hash(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")))
        page.get_by_role("button", name="Send my application").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Your application was sent"
    assert loads_from_elsewhere(page) == []
    context.close()
    assert watch.elsewhere() == [] and watch.csp_violations() == [] and watch.errors == []
    assert any(u.endswith("/challenge.js") for u in watch.requests)
