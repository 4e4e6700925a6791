"""Fuzzing every parser that faces the world: no input makes a 500 or loses or half-writes data.

    story markdown          renders, or the documented note error; never script, handlers,
                            javascript:/data: links, style, iframes
    typed amounts           a positive int of minor units or a ValidationError; round trips
    the donate form         never a 500; a refused form creates no donation
    bank statements         imported whole or refused whole with a StatementError
    Stripe webhooks         never a 500; money moves only for a well-formed event of a real donation
    the demo checkout       never a 500; money moves only for "complete"

Each database example runs in a savepoint that is rolled back, so examples never see each other.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import time
import uuid
from contextlib import contextmanager
from fractions import Fraction
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.safestring import SafeString
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from zbor.campaigns import markdown
from zbor.forms import MAX_TYPED_LENGTH, AmountField
from zbor.money import InvalidAmount, Money, format_money, minor_digits, parse_amount

DEMO = "from-prison-to-family"
SECRET = "whsec_fuzz_secret"


def fuzz(examples: int, **kwargs):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
        **kwargs,
    )


#: Any text a browser, a staff member or a bank could send (lone surrogates cannot be sent as UTF-8).
TEXT = st.characters(blacklist_categories=("Cs",))


def text(max_size: int = 40):
    return st.text(TEXT, max_size=max_size)


@contextmanager
def rolled_back():
    """One example's database changes, undone at the end whatever happened."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# ---------------------------------------------------------------------------------------------
# 1. Story markdown
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "<b onclick=alert(1)>x</b>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>p{color:red}</style>",
    "<object data=x></object>",
    "<embed src=x>",
    "<base href=//evil.example>",
    "<meta http-equiv=refresh content=0>",
    "<form action=//evil.example><input name=x></form>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<a href="javascript:alert(1)">x</a>',
    "<!-- comment -->",
    "<![CDATA[x]]>",
    "<?php x ?>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](jav&#x61;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](DATA:text/html,x)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](//evil.example)",
    '[x](http://ok.example "t onmouseover=alert(1)")',
    "[x](http://ok.example' onclick='alert(1))",
    "[x](mailto:a@b.example)",
    "[x](https://ok.example/?q=<script>)",
    "<javascript:alert(1)>",
    "<http://ok.example>",
    "[ref]: javascript:alert(1)",
    "[ref]",
    "![img](https://evil.example/pixel.png)",
    "![img](javascript:alert(1))",
    "&lt;script&gt;",
    "&#60;script&#62;",
    "\x00",
    "\ufffd",
    "\u202e",
    "\r\n",
    "*",
    "_",
    "`",
    "~~s~~",
    "**b**",
    "[[note:shizo]]",
    "[[note:missing]]",
    "[[ NOTE : Shizo ]]",
    "[[note shizo]]",
    "[[note:]]",
    "[[note:<script>]]",
    '[[note:"onmouseover=alert(1)]]',
    "  [[note:shizo]]",
    "    [[note:shizo]]",
    "> [[note:shizo]]",
    "- [[note:shizo]]",
    "- item",
    "  - nested",
    "    - deeper",
    "      - deepest",
    "1. one",
    "99999999999. big",
    "> quote",
    "> > nested quote",
    "```\ncode <script>\n```",
    "```javascript:\nx\n```",
    "    indented <script>",
    "# h1",
    "###### h6",
    "Title\n===",
    "---",
    "| a | b |\n|---|---|\n| <script> | x |",
    "\\<script>",
    "<a href='x'>",
    "</p><script>",
]


RUNS = [
    "- ",
    "> ",
    "[",
    "*a",
    "_a",
    "`",
    "  - x\n",
    "1. ",
    "[[note:shizo]]\n\n",
    "<script>",
    "[x](javascript:x)\n",
    "[a](",
    "|a|\n",
]


def _join(parts):
    return "".join(piece + gap for piece, gap in parts)


MARKDOWN = st.one_of(
    text(300),
    st.lists(
        st.tuples(st.one_of(st.sampled_from(HOSTILE), text(20)), st.sampled_from(["", " ", "\n", "\n\n", "\t", "  "])),
        max_size=40,
    ).map(_join),
    # Deep nesting and long runs of what parsers find hardest (the huge ones are tested below).
    st.tuples(st.sampled_from(RUNS), st.integers(min_value=10, max_value=150)).map(lambda t: t[0] * t[1]),
)

NOTE_TAGS = {"aside", "div", "dfn", "span"}  # render_note's own wrapper
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "ol": {"start"},
    "aside": {"class", "aria-labelledby"},
    "p": {"class", "id"},
    "dfn": {"lang"},
    "div": {"lang"},
}
DANGEROUS = re.compile(
    r"<\s*/?\s*(script|iframe|style|img|svg|object|embed|base|meta|form|input|math|link)\b", re.IGNORECASE
)


class _Audit(HTMLParser):
    """Reads the rendered HTML as a browser's tokenizer would, listing every tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe_html(out: str) -> None:
    assert not DANGEROUS.search(out), out
    audit = _Audit()
    audit.feed(out)
    audit.close()
    for tag, attrs in audit.tags:
        assert tag in markdown.ALLOWED_TAGS | NOTE_TAGS, (tag, out)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, name, out)
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, out)
            if name in ("href", "src"):
                # What a browser would take as the scheme: leading controls and spaces dropped,
                # tabs and newlines removed anywhere.
                url = re.sub(r"[\t\n\r]", "", re.sub(r"^[\x00-\x20]+", "", value or "")).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", url)
                assert scheme is None or scheme.group(1) in markdown.ALLOWED_SCHEMES, (value, out)


def _note_renderer(notes: dict[str, markdown.NoteContent]):
    count = 0

    def render(key: str) -> SafeString:
        nonlocal count
        if key not in notes:
            return SafeString("")  # as the campaign page does for a note that does not exist
        count += 1
        return markdown.render_note(
            notes[key], label="Zbor Foundation note", element_id=f"note-{key}-{count}", language="en"
        )

    return render


@fuzz(300)
@given(MARKDOWN, text(60), MARKDOWN)
def test_any_story_renders_to_safe_html(source, term, note_text):
    notes = {"shizo": markdown.NoteContent(key="shizo", term=term, text=note_text)}
    out = markdown.render_markdown(source, note=_note_renderer(notes))
    assert isinstance(out, SafeString)
    assert_safe_html(out)
    assert_safe_html(markdown.render_markdown(source))
    assert_safe_html(markdown.render_note(notes["shizo"], label="<b>label</b>", element_id='note-"x', language="en"))


@pytest.mark.parametrize("run", RUNS)
def test_a_huge_story_renders_to_safe_html_too(run):
    source = run * (20_000 // len(run))
    assert_safe_html(markdown.render_markdown(source, note=_note_renderer({})))


@fuzz(150)
@given(MARKDOWN, st.sets(st.sampled_from(["shizo", "pkt", "missing", "a-b"]), max_size=3))
def test_note_references_give_the_documented_errors_and_nothing_else(source, existing):
    keys = markdown.note_keys(source)
    errors = markdown.note_reference_errors(source, existing)
    assert all(isinstance(error, str) and error for error in errors)
    for key in keys:
        if key not in existing:
            assert any(key in error for error in errors), (key, errors)
    # The admin's validator raises exactly the documented error, with those messages.
    from zbor.campaigns import forms as campaign_forms

    with mock.patch.object(campaign_forms, "existing_note_keys", lambda wanted: set(existing) & set(wanted)):
        if errors:
            with pytest.raises(ValidationError) as caught:
                campaign_forms.validate_note_references(source)
            assert caught.value.messages == errors
        else:
            campaign_forms.validate_note_references(source)


# ---------------------------------------------------------------------------------------------
# 2. Amounts
# ---------------------------------------------------------------------------------------------

CURRENCIES = ["EUR", "PLN", "JPY", "KWD", "BYN", "UAH", "CLF"]
AMOUNT_TEXT = st.one_of(
    text(40),
    st.from_regex(r"\A[-+]?[0-9 ,.'\u00a0]{0,30}\Z"),
    st.from_regex(r"\A[-+]?[0-9]{0,30}([.,][0-9]{0,6})?([eE][-+]?[0-9]{1,12})?\Z"),
    st.sampled_from(
        [
            "25",
            "25.50",
            "25,5",
            "1 000",
            "1,000.50",
            "1.000,50",
            "0",
            "-5",
            "+5",
            "0.001",
            "1e3",
            "1e999990",
            "1e999999",
            "1E+999999999",
            "1e-999999999",
            "-1e999999",
            "NaN",
            "sNaN",
            "-sNaN",
            "Infinity",
            "-Infinity",
            "1_000",
            "١٢٣",
            "１２３",
            "9" * 24,
            "9" * 25,
            "9" * 60,
            "0." + "0" * 30 + "1",
            "1" + "0" * 27 + ".5",
            ".5",
            "5.",
            ".",
            ",",
            "-",
            "--5",
            "1,2,3",
            "1.2.3",
            "1,000,000.00",
            "1.000.000,00",
            "\u00a0",
            "\x00",
            "25\x00",
            "€25",
            "25 €",
        ]
    ),
)


def _plain_decimal_digits(minor: int, currency: str) -> str:
    """A minor amount written in major units, e.g. 2550 EUR -> "25.50", exactly."""
    digits = minor_digits(currency)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


@fuzz(600)
@given(AMOUNT_TEXT, st.sampled_from(CURRENCIES))
def test_a_typed_amount_is_a_positive_whole_number_of_minor_units_or_a_message(typed, currency):
    try:
        minor = parse_amount(typed, currency)
    except InvalidAmount as exc:
        assert str(exc)
        return
    assert type(minor) is int and minor > 0
    # Consistent with the currency's digits: written back exactly, it reads as the same amount;
    # and a plainly written amount is exactly its value in minor units.
    assert parse_amount(_plain_decimal_digits(minor, currency), currency) == minor
    Money(minor, currency)
    plain = typed.strip()
    if re.fullmatch(r"\+?[0-9]+(\.[0-9]{0,3})?", plain, re.ASCII) and not re.fullmatch(
        r"\+?[0-9]{1,3}\.[0-9]{3}", plain
    ):
        assert minor == Fraction(plain.lstrip("+")) * 10 ** minor_digits(currency)


@fuzz(400)
@given(
    st.one_of(AMOUNT_TEXT, text(200), st.none()),
    st.sampled_from(CURRENCIES),
    st.one_of(st.none(), st.integers(min_value=1, max_value=10**15)),
    st.booleans(),
)
def test_the_amount_field_cleans_to_minor_units_or_raises_a_validation_error(typed, currency, max_minor, required):
    field = AmountField(currency=currency, max_minor=max_minor, required=required)
    try:
        minor = field.clean(typed)
    except ValidationError as exc:
        assert exc.messages and all(exc.messages)
        return
    if minor is None:
        assert not required
        return
    assert type(minor) is int and minor > 0
    assert max_minor is None or minor <= max_minor
    assert len(str(typed)) <= MAX_TYPED_LENGTH


@fuzz(300)
@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(CURRENCIES))
def test_an_amount_shown_in_the_field_reads_back_as_itself(minor, currency):
    field = AmountField(currency=currency)
    shown = field.prepare_value(minor)
    assert field.clean(shown) == minor
    assert parse_amount(_plain_decimal_digits(minor, currency), currency) == minor


@fuzz(300)
@given(
    st.integers(min_value=1, max_value=10**13),
    st.sampled_from(["EUR", "PLN", "JPY", "BYN", "UAH", "USD"]),
    st.sampled_from(["en", "ru", "be", "pl"]),
)
def test_an_amount_as_the_site_shows_it_reads_back_as_itself(minor, currency, locale):
    # What a donor would copy from a page into the form, without its currency symbol. (Only for
    # currencies of at most two decimals: "KWD 1,000", a whole amount of a three-decimal
    # currency, is ambiguous on its own and parse_amount reads it as 1.000.)
    shown = format_money(Money(minor, currency), locale)
    number = re.sub(r"[^\d,.\s\u00a0\u202f'-]", "", shown).strip()
    assert parse_amount(number, currency) == minor, (shown, number)


@pytest.fixture
def donate_world(demo, monkeypatch):
    import itertools

    from tests import factories

    monkeypatch.setattr(factories, "_seq", itertools.count(9000))  # the demo's beneficiaries are B-0001...
    kwd = factories.campaign(slug="fuzz-kwd", currency="KWD", needs=(50000,))
    return {DEMO: demo, "fuzz-kwd": kwd}


def _form_fields(needs: list[str]):
    everything = st.one_of(text(60), st.just(""))
    good_amount = st.sampled_from(["25", "10.5", "7,50", "100", "1 000", "9999.99"])
    good_key = st.uuids().map(lambda u: u.hex)
    return st.fixed_dictionaries(
        {
            "amount": st.one_of(
                good_amount,
                good_amount,
                AMOUNT_TEXT,
                st.sampled_from(["10000.01", "0.001", "1e999990", "sNaN", "99999999999999999999999"]),
            ),
            "method": st.one_of(st.just("bank"), st.just("bank"), st.just("bank"), text(10)),
            "idempotency_key": st.one_of(good_key, good_key, text(70)),
        },
        optional={
            "preset": st.one_of(st.sampled_from(["1000", "2500", "5000", "25", "-1", "1e999"]), everything),
            "need": st.one_of(st.sampled_from(needs + ["999999", "-1", "0", "1e3"]), everything),
            "public_name": st.one_of(everything, text(50)),
            "email": st.one_of(st.sampled_from(["a@b.example", "not-an-email", "a@b", "\x00@x.example"]), everything),
            "message": st.one_of(everything, st.text(TEXT, min_size=495, max_size=510)),
            "challenge": everything,
            "unexpected": everything,
        },
    )


@fuzz(80)
@given(st.data())
def test_the_donate_form_never_fails_and_a_refused_form_creates_nothing(client, donate_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.donations.services import max_donation
    from zbor.ledger.models import Transfer

    slug = data.draw(st.sampled_from(sorted(donate_world)))
    campaign = donate_world[slug]
    needs = [str(pk) for pk in campaign.needs.values_list("pk", flat=True)]
    fields = data.draw(_form_fields(needs))
    with rolled_back():
        before = set(Donation.objects.values_list("pk", flat=True)), Transfer.objects.count()
        response = client.post(f"/en/campaigns/{slug}/donate/", fields)
        assert response.status_code in (302, 400, 429), response.status_code
        event(f"donate form: {response.status_code}")
        created = Donation.objects.exclude(pk__in=before[0])
        assert Transfer.objects.count() == before[1]  # a pledge moves no money
        if response.status_code != 302:
            assert not created.exists()
        else:
            [donation] = created
            assert donation.provider == "bank" and donation.status == DonationStatus.PENDING
            assert donation.currency == campaign.currency and 0 < donation.amount <= max_donation(campaign.currency)


# ---------------------------------------------------------------------------------------------
# 3. Bank statements
# ---------------------------------------------------------------------------------------------

NASTY_CELLS = [
    "",
    " ",
    "NaN",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-0",
    "0",
    "0.00",
    "1e999999",
    "1E+30",
    "-1e999999",
    "9" * 40,
    "-" + "9" * 19,
    "92233720368547758.07",
    "0.001",
    "1,00",
    "1.000,00",
    "١٢٣",
    "\x00",
    "x\x00y",
    "x" * 300,
    "2026-02-30",
    "2026-13-01",
    "99999-01-01",
    "0000-00-00",
    "20261128",
    "2026-11-28T25:00:00",
    "2026-W48-6",
    "eur",
    "XXX",
    "XTS",
    "ZZZ",
    "€",
    '"',
    "a,b",
    "a\nb",
    "a\r\nb",
    "=cmd|' /C calc'!A0",
    "\ufeff",
    "\u2028",
]


@pytest.fixture
def bank_world(db):
    from tests import factories
    from zbor.donations import services

    campaign = factories.campaign(slug="fuzz-bank", needs=(50000, 50000))
    pln = factories.campaign(slug="fuzz-bank-pln", currency="PLN", needs=(50000,))
    pledges = [
        services.start_donation(c, amount=amount, need=None, provider="bank", idempotency_key=uuid.uuid4().hex)
        for c, amount in ((campaign, 5000), (campaign, 1234), (pln, 2000))
    ]
    return {"user": factories.staff_user("fuzz-finance"), "references": [p.checkout_reference for p in pledges]}


def _amount_text(minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    return sign + (f"{whole}.{fraction:0{digits}d}" if digits else str(whole))


def _sloppy(reference: str) -> st.SearchStrategy[str]:
    from zbor.payments.bank import format_reference

    return st.sampled_from(
        [
            reference,
            format_reference(reference),
            reference.lower(),
            f"Donation {format_reference(reference).replace('-', ' ')}",
            reference[:4] + reference[5] + reference[4] + reference[6:],  # two neighbours swapped
            f"{reference} and {reference}",
        ]
    )


def _minor_amount(draw, currency: str, *, signed: bool) -> str:
    minor = draw(st.integers(min_value=1, max_value=10**7))
    return _amount_text(-minor if signed and draw(st.booleans()) else minor, currency)


def _remittance(draw, references) -> str:
    return draw(st.one_of(st.sampled_from(references).flatmap(_sloppy), text(30)))


NASTY = st.one_of(st.sampled_from(NASTY_CELLS), text(20))
#: Faults aimed at one field each, so that the rest of the file is valid and the parser gets to it.
NASTY_FOR = {
    "amount": [
        "NaN",
        "sNaN",
        "-sNaN",
        "Infinity",
        "1e999999",
        "-1e999999",
        "1E+30",
        "9" * 40,
        "92233720368547758.07",
        "-92233720368547758.08",
        "0.001",
        "1,00",
        "",
        "0",
        "-0",
        "0.00",
        "١٢٣",
        "0x10",
        " 1.00 ",
    ],
    "date": [
        "2026-02-30",
        "2026-13-01",
        "99999-01-01",
        "0000-00-00",
        "20261128",
        "2026-11-28T25:00:00",
        "2026-W48-6",
        "",
    ],
    "currency": ["eur", "XXX", "XTS", "ZZZ", "€", "", "EURO", "E\x00R"],
    "text": ["\x00", "x\x00y", "x" * 600, "a,b", "a\nb", '"', "=cmd|' /C calc'!A0", "\u2028", "ZB" * 300],
    "id": ["", " ", "x" * 300, "\x00", "T0", "REF0", "TX0"],
}
CSV_FIELDS = ["date", "amount", "currency", "text", "id"]


def nasty_for(field: str):
    return st.one_of(
        st.sampled_from(NASTY_FOR[field]), st.sampled_from(NASTY_FOR[field]), st.sampled_from(NASTY_FOR[field]), NASTY
    )


HEADER = ["date", "amount", "currency", "reference", "transaction_id"]


@st.composite
def mutated_csv(draw, references):
    """A valid CSV statement, then up to two structural faults."""
    header = list(HEADER)
    rows = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        currency = draw(st.sampled_from(["EUR", "EUR", "PLN", "JPY", "KWD"]))
        rows.append(
            [
                draw(st.dates()).isoformat(),
                _minor_amount(draw, currency, signed=True),
                currency,
                _remittance(draw, references),
                f"T{i}",
            ]
        )
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        kind = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "drop-cell",
                    "extra-cell",
                    "duplicate",
                    "header-case",
                    "header-order",
                    "drop-column",
                    "blank-line",
                    "long-id",
                ]
            )
        )
        full = [r for r in rows if r]
        if kind == "cell" and full:
            row = draw(st.sampled_from(full))
            column = draw(st.integers(0, len(row) - 1))
            row[column] = draw(nasty_for(CSV_FIELDS[column]) if column < len(CSV_FIELDS) else NASTY)
        elif kind == "drop-cell" and full:
            row = draw(st.sampled_from(full))
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif kind == "extra-cell" and full:
            draw(st.sampled_from(full)).append(draw(text(10)))
        elif kind == "duplicate" and full:
            rows.append(list(draw(st.sampled_from(full))))
        elif kind == "header-case":
            header = [h.upper() if draw(st.booleans()) else f" {h} " for h in header]
        elif kind == "header-order":
            order = draw(st.permutations(range(len(header))))
            header = [header[i] for i in order]
            rows = [[r[i] if i < len(r) else "" for i in order] for r in rows]
        elif kind == "drop-column":
            i = draw(st.integers(0, len(header) - 1))
            header.pop(i)
            rows = [r[:i] + r[i + 1 :] for r in rows]
        elif kind == "blank-line":
            rows.insert(draw(st.integers(0, len(rows))), [])
        elif kind == "long-id" and full:
            draw(st.sampled_from(full))[-1] = "T" * draw(st.integers(150, 400))
    if draw(st.integers(0, 3)):
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
        data = out.getvalue()
    else:
        data = "".join(",".join(r) + "\n" for r in [header, *rows])  # unquoted: commas and newlines break lines
    return draw(st.sampled_from(["", "", "\ufeff"])) + data


def _entry(draw, references, index) -> dict:
    currency = draw(st.sampled_from(["EUR", "EUR", "PLN", "JPY"]))
    entry = {
        "currency": currency,
        "amount": _minor_amount(draw, currency, signed=False),
        "indicator": draw(st.sampled_from(["CRDT", "CRDT", "CRDT", "DBIT"])),
        "date": draw(st.dates()).isoformat(),
        "ref": draw(st.sampled_from([f"REF{index}", f"REF{index}", ""])),
        "text": _remittance(draw, references),
        "extra": draw(
            st.sampled_from(["", "", "", "<Sts>BOOK</Sts>", "<Sts><Cd>PDNG</Cd></Sts>", "<RvslInd>true</RvslInd>"])
        ),
        "batch": [],
    }
    if draw(st.integers(0, 4)) == 0:  # a batch: one line per transaction, each with its amount
        parts = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=3))
        entry["amount"] = _amount_text(sum(parts), currency)
        entry["batch"] = [
            {"amount": _amount_text(p, currency), "ref": f"TX{i}", "text": _remittance(draw, references)}
            for i, p in enumerate(parts)
        ]
    return entry


#: Characters XML 1.0 cannot carry at all, not even escaped.
XML_INVALID = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


def _entry_xml(e: dict) -> str:
    def x(value):
        # Escaped, without the characters XML 1.0 cannot carry at all, unless the fault is raw text.
        return value if e.get("raw") else escape(re.sub(XML_INVALID, "", value))

    details = f"<NtryDtls><TxDtls><RmtInf><Ustrd>{x(e['text'])}</Ustrd></RmtInf></TxDtls></NtryDtls>"
    if e["batch"]:
        details = (
            "<NtryDtls>"
            + "".join(
                f'<TxDtls><Refs><AcctSvcrRef>{x(t["ref"])}</AcctSvcrRef></Refs><AmtDtls><TxAmt><Amt Ccy="{x(e["currency"])}">'
                f"{x(t['amount'])}</Amt></TxAmt></AmtDtls><RmtInf><Ustrd>{x(t['text'])}</Ustrd></RmtInf></TxDtls>"
                for t in e["batch"]
            )
            + "</NtryDtls>"
        )
    return (
        f'<Ntry><Amt Ccy="{x(e["currency"])}">{x(e["amount"])}</Amt>{e["extra"]}<CdtDbtInd>{x(e["indicator"])}</CdtDbtInd>'
        f"<BookgDt><Dt>{x(e['date'])}</Dt></BookgDt><AcctSvcrRef>{x(e['ref'])}</AcctSvcrRef>{details}</Ntry>"
    )


@st.composite
def mutated_camt(draw, references):
    """A valid camt.053 statement, then up to two structural faults."""
    entries = [_entry(draw, references, i) for i in range(draw(st.integers(0, 4)))]
    version = draw(st.sampled_from(["02", "02", "04", "08"]))
    account = draw(st.sampled_from(["", "", "<Acct><Id><IBAN>PL61 1090 1014 0000 0712 1981 2874</IBAN></Id></Acct>"]))
    statement_id, statements = "STMT-1", 1
    faults = [
        draw(
            st.sampled_from(
                [
                    "field",
                    "field",
                    "field",
                    "batch-field",
                    "raw",
                    "duplicate-entry",
                    "drop-element",
                    "entity",
                    "namespace",
                    "encoding",
                    "account",
                    "statement-id",
                    "two-statements",
                ]
            )
        )
        for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2])))
    ]
    for kind in faults:
        if kind == "field" and entries:
            field = draw(st.sampled_from(["currency", "amount", "amount", "indicator", "date", "ref", "text"]))
            nasty = {"ref": "id", "indicator": "text"}.get(field, field)
            draw(st.sampled_from(entries))[field] = draw(nasty_for(nasty))
        elif kind == "batch-field" and any(e["batch"] for e in entries):
            transaction_ = draw(st.sampled_from([t for e in entries for t in e["batch"]]))
            field = draw(st.sampled_from(["amount", "amount", "ref", "text"]))
            transaction_[field] = draw(nasty_for({"ref": "id"}.get(field, field)))
        elif kind == "raw" and entries:
            e = draw(st.sampled_from(entries))
            e["raw"], e["text"] = (
                True,
                draw(st.sampled_from(["<", "&", "&amp", "]]>", "<Ustrd>", "&#0;", "&#x1;", "\x00"])),
            )
        elif kind == "duplicate-entry" and entries:
            entries.append(dict(draw(st.sampled_from(entries))))
        elif kind == "account":
            account = draw(
                st.sampled_from(
                    [
                        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>",
                        "<Acct><Id><IBAN>pl61109010140000071219812874</IBAN></Id></Acct>",
                    ]
                )
            )
        elif kind == "statement-id":
            statement_id = draw(st.sampled_from(["", " "]))
        elif kind == "two-statements":
            statements = 2
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>"
        + f"<Stmt>{account}<Id>{statement_id}</Id>{''.join(_entry_xml(e) for e in entries)}</Stmt>" * statements
        + "</BkToCstmrStmt></Document>"
    )
    for kind in faults:
        if kind == "drop-element":
            tag = draw(
                st.sampled_from(
                    [
                        "Amt",
                        "CdtDbtInd",
                        "BookgDt",
                        "Dt",
                        "Id",
                        "Stmt",
                        "Ntry",
                        "AcctSvcrRef",
                        "Ustrd",
                        "TxAmt",
                        "BkToCstmrStmt",
                    ]
                )
            )
            xml = re.sub(rf"<{tag}\b[^>]*>.*?</{tag}>", "", xml, count=1, flags=re.S)
        elif kind == "entity":
            xml = xml.replace("<Document", '<!DOCTYPE d [<!ENTITY x "y">]><Document', 1).replace("M1", "&x;")
        elif kind == "namespace":
            xml = xml.replace(
                "urn:iso:std:iso:20022:tech:xsd:camt.053.001",
                draw(st.sampled_from(["urn:other", "", "urn:iso:std:iso:20022:tech:xsd:camt.052.001"])),
            )
        elif kind == "encoding":
            xml = xml.replace(
                'encoding="UTF-8"', draw(st.sampled_from(['encoding="UTF-16"', 'encoding="latin-1"', 'encoding="x"']))
            )
    return xml


@st.composite
def statement_files(draw, references):
    data = draw(
        st.one_of(
            st.binary(max_size=300),
            mutated_csv(references).map(str.encode),
            mutated_csv(references).map(str.encode),
            mutated_camt(references).map(str.encode),
            mutated_camt(references).map(str.encode),
        )
    )
    if draw(st.integers(0, 5)) == 0:  # byte-level damage: truncation, inserted bytes, another encoding
        kind = draw(st.sampled_from(["truncate", "insert", "latin1"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        else:
            data = data.decode("utf-8", "replace").encode("latin-1", "replace")
    return data


def check_import(content: bytes, user, *, twice: bool = True) -> str:
    """Import a file: either whole (every line stored once, matches confirmed) or refused whole."""
    from zbor.donations.bank_import import import_statement
    from zbor.donations.models import BankStatement, BankStatementLine, Donation, DonationStatus
    from zbor.ledger.models import Transfer
    from zbor.payments.bank import StatementError, parse_statement

    def counts():
        return (
            BankStatementLine.objects.count(),
            BankStatement.objects.count(),
            Transfer.objects.count(),
            Donation.objects.filter(status=DonationStatus.SUCCEEDED).count(),
        )

    with rolled_back():
        before = counts()
        try:
            report = import_statement(content, by=user)
        except StatementError as exc:
            assert str(exc)
            assert counts() == before  # refused whole: nothing written
            with pytest.raises(StatementError):
                parse_statement(content, expected_iban=django_settings.ZBOR_BANK_IBAN)
            return "refused: " + re.sub(r"“[^”]*”|\d+", "…", str(exc))[:50]
        lines, statements, transfers, succeeded = counts()
        parsed = parse_statement(content, expected_iban=django_settings.ZBOR_BANK_IBAN)
        # Imported whole: every line of the file is stored, each once.
        assert report.total == len(parsed) and report.new == lines - before[0]
        assert {line.key for line in parsed} <= set(BankStatementLine.objects.values_list("key", flat=True))
        assert statements - before[1] == (1 if report.new else 0)
        assert report.new == report.matched + report.unmatched + report.outgoing
        assert succeeded - before[3] == report.matched
        assert (transfers > before[2]) == (report.matched > 0)
        if twice:  # and importing it again adds nothing
            again = import_statement(content, by=user)
            assert again.new == 0 and counts() == (lines, statements, transfers, succeeded)
        return f"imported {report.new} new line(s), {report.matched} matched"


def test_each_fault_in_each_field_is_refused_or_imported_whole(bank_world):
    from tests.test_bank_transfer import csv_statement
    from zbor.payments.tests.test_bank import camt, entry

    reference = bank_world["references"][0]
    good_csv = ["2026-11-28", "50.00", "EUR", reference, "T1"]
    good_camt = {"amount": "50.00", "currency": "EUR", "text": reference, "ref": "R1", "date": "2026-11-28"}
    for field, values in NASTY_FOR.items():
        for value in values:
            column = CSV_FIELDS.index(field)
            row = [*good_csv[:column], value, *good_csv[column + 1 :]]
            check_import(
                csv_statement(",".join(good_csv).replace("T1", "T0"), ",".join(row)), bank_world["user"], twice=False
            )
            quoted = io.StringIO()
            csv.writer(quoted).writerow(row)
            check_import(
                csv_statement(",".join(good_csv).replace("T1", "T0"), quoted.getvalue().rstrip("\r\n")),
                bank_world["user"],
                twice=False,
            )
            xml_value = escape(re.sub(XML_INVALID, "", value))
            if field != "id":
                faulty = entry(**{**good_camt, field: xml_value, "ref": "R2"})
                check_import(camt(entry(**good_camt) + faulty), bank_world["user"], twice=False)
            # Any of them as the bank's reference for the line.
            check_import(
                camt(entry(**{**good_camt, "ref": xml_value}) + entry(**{**good_camt, "ref": "R2"})),
                bank_world["user"],
                twice=False,
            )


@fuzz(200)
@given(st.data())
def test_a_statement_is_imported_whole_or_refused_whole(bank_world, data):
    event(check_import(data.draw(statement_files(bank_world["references"])), bank_world["user"]))


# ---------------------------------------------------------------------------------------------
# 4. Webhooks and the demo checkout
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def stripe_world(db, settings, client):
    from tests import factories
    from tests.fake_stripe import stripe_enabled
    from zbor.donations import services

    with stripe_enabled(settings, SECRET):
        campaign = factories.campaign(slug="fuzz-stripe", needs=(50000, 50000))

        def start(provider, amount):
            return services.start_donation(
                campaign, amount=amount, need=None, provider=provider, idempotency_key=uuid.uuid4().hex
            )

        pending, paid = start("stripe", 2500), start("stripe", 4000)
        response = _post_event(
            client,
            {
                "id": "evt_paid",
                "object": "event",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": paid.checkout_reference,
                        "object": "checkout.session",
                        "payment_status": "paid",
                        "amount_total": 4000,
                        "currency": "eur",
                        "payment_intent": "pi_fuzz_paid",
                    }
                },
            },
        )
        assert response.status_code == 200 and response.content == b"processed"
        # Paid, but Stripe named no payment intent: no refund may find it by an empty reference.
        response = _post_event(
            client,
            {
                "id": "evt_paid_2",
                "object": "event",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": start("stripe", 3000).checkout_reference,
                        "object": "checkout.session",
                        "payment_status": "paid",
                        "amount_total": 3000,
                        "currency": "eur",
                        "payment_intent": None,
                    }
                },
            },
        )
        assert response.status_code == 200 and response.content == b"processed"
        world = {
            "pending": pending.checkout_reference,
            "paid_intent": "pi_fuzz_paid",
            "others": [start("demo", 1000).checkout_reference, start("bank", 1000).checkout_reference],
        }
        yield world


def _signature(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def _post_event(client, event, *, body: bytes | None = None, signature: str | None = None):
    body = json.dumps(event).encode() if body is None else body
    headers = {"stripe-signature": _signature(body) if signature is None else signature}
    return client.post("/webhooks/stripe/", body, content_type="application/json", headers=headers)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text(20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text(8), children, max_size=3),
    max_leaves=6,
)
SUCCEEDED_KINDS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
DISPUTE_KINDS = ("charge.dispute.created", "charge.dispute.funds_reinstated")
KINDS = [
    *SUCCEEDED_KINDS,
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    *DISPUTE_KINDS,
    "customer.created",
    "payment_intent.succeeded",
]
AMOUNTS = [
    2500,
    4000,
    1,
    0,
    -1,
    10**20,
    2**63,
    -(2**63),
    True,
    False,
    2500.0,
    25.5,
    "2500",
    None,
    [2500],
    {"value": 2500},
]


NASTY_STRIPE = [
    *AMOUNTS,
    "",
    "x" * 300,
    "cs\x00",
    "eu\x00",
    "EURO",
    978,
    "pi/../x",
    "evt_paid",
    {"id": "pi_fuzz_paid"},
    [],
    {},
]


@st.composite
def stripe_events(draw, world):
    """A well-formed event of a kind Zbor handles (or not), then up to three faults in its fields."""
    kind = draw(st.sampled_from(KINDS))
    currency = st.sampled_from(["eur", "eur", "EUR", "pln"])
    intent = st.sampled_from([world["paid_intent"], world["paid_intent"], "pi_new", None])
    if kind.startswith("checkout.session"):
        obj = {
            "id": draw(st.sampled_from([world["pending"], world["pending"], *world["others"], "cs_test_unknown"])),
            "object": "checkout.session",
            "payment_status": draw(st.sampled_from(["paid", "paid", "unpaid"])),
            "amount_total": draw(st.sampled_from([2500, 2500, 1, 4000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(st.sampled_from(["pi_new", None, world["paid_intent"]])),
        }
    elif kind == "charge.refunded":
        obj = {
            "id": "ch_1",
            "object": "charge",
            "amount": 4000,
            "amount_refunded": draw(st.sampled_from([1000, 4000, 5000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(intent),
        }
    elif kind in DISPUTE_KINDS:
        obj = {
            "id": "du_1",
            "object": "dispute",
            "amount": draw(st.sampled_from([1000, 4000, 5000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(intent),
            "charge": "ch_1",
            "status": draw(st.sampled_from(["needs_response", "lost", "won", "warning_needs_response"])),
        }
    else:
        obj = {"id": "cus_1", "object": "customer"}
    event = {"id": f"evt_{draw(st.uuids()).hex[:16]}", "object": "event", "type": kind, "data": {"object": obj}}
    nasty = st.one_of(st.sampled_from(NASTY_STRIPE), st.sampled_from(NASTY_STRIPE), JSON)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        fault = draw(st.sampled_from(["field", "field", "field", "drop-field", "event-field", "drop-event-field"]))
        if fault == "field":
            obj[draw(st.sampled_from(sorted({*obj, "amount_total", "payment_intent", "currency"})))] = draw(nasty)
        elif fault == "drop-field" and obj:
            del obj[draw(st.sampled_from(sorted(obj)))]
        elif fault == "event-field":
            event[draw(st.sampled_from(["id", "type", "data"]))] = draw(nasty)
        elif fault == "drop-event-field" and event:
            del event[draw(st.sampled_from(sorted(event)))]
    return event


def books_money(event, world) -> bool:
    """Whether an event is a well-formed one that should move money for a real donation."""
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        return False
    if not isinstance(event.get("id"), str):
        return False
    obj, kind = event["data"]["object"], event.get("type")

    def amount(name):
        value = obj.get(name)
        return value if type(value) is int and value > 0 else None

    currency_ok = isinstance(obj.get("currency"), str) and obj["currency"].upper() == "EUR"
    if kind in SUCCEEDED_KINDS:
        return (
            obj.get("id") == world["pending"]
            and obj.get("payment_status") == "paid"
            and amount("amount_total") is not None
            and currency_ok
        )
    if kind == "charge.refunded":
        return (
            obj.get("payment_intent") == world["paid_intent"] and amount("amount_refunded") is not None and currency_ok
        )
    if kind in DISPUTE_KINDS:
        return (
            obj.get("payment_intent") == world["paid_intent"]
            and amount("amount") is not None
            and currency_ok
            and not str(obj.get("status", "")).startswith("warning_")
        )
    return False


@fuzz(200)
@given(st.data())
def test_no_webhook_body_makes_a_500_or_moves_money_unless_well_formed(client, stripe_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.ledger.models import Transfer
    from zbor.payments.models import PaymentEventRecord

    payload = None
    shape = data.draw(st.sampled_from(["stripe", "stripe", "stripe", "json", "bytes"]))
    if shape == "stripe":
        payload = data.draw(stripe_events(stripe_world))
        body = json.dumps(payload).encode()
    elif shape == "json":
        payload = data.draw(JSON)
        body = json.dumps(payload).encode()
    else:
        body = data.draw(st.binary(max_size=200))
    signature = data.draw(st.sampled_from([None] * 8 + ["", "t=1,v1=deadbeef", _signature(body, "whsec_other")]))
    with rolled_back():
        before = Transfer.objects.count(), PaymentEventRecord.objects.count()
        others = list(Donation.objects.exclude(provider="stripe").values_list("pk", "status"))
        response = _post_event(client, None, body=body, signature=signature)
        assert response.status_code in (200, 400, 503), (response.status_code, response.content)
        if signature is not None or response.status_code != 200:
            assert (Transfer.objects.count(), PaymentEventRecord.objects.count()) == before
        moved = Transfer.objects.count() != before[0]
        event(
            f"webhook {shape}: {response.status_code} {response.content.decode()[:20]}{', money moved' if moved else ''}"
        )
        if moved:
            assert signature is None and books_money(payload, stripe_world), payload
        assert list(Donation.objects.exclude(provider="stripe").values_list("pk", "status")) == others
        pending = Donation.objects.get(provider="stripe", checkout_reference=stripe_world["pending"])
        if pending.status == DonationStatus.SUCCEEDED:
            assert books_money(payload, stripe_world) and payload["type"] in SUCCEEDED_KINDS


@pytest.fixture
def demo_world(db):
    from tests import factories
    from zbor.donations import services

    campaign = factories.campaign(slug="fuzz-demo", needs=(50000,))
    pending = services.start_donation(
        campaign, amount=1500, need=None, provider="demo", idempotency_key=uuid.uuid4().hex
    )
    bank = services.start_donation(campaign, amount=1500, need=None, provider="bank", idempotency_key=uuid.uuid4().hex)
    return {"pending": pending.checkout_reference, "bank": bank.checkout_reference}


@fuzz(60)
@given(st.data())
def test_the_demo_checkout_moves_money_only_when_completed(client, demo_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.ledger.models import Transfer

    known = st.sampled_from(
        [demo_world["pending"], demo_world["pending"], demo_world["pending"], demo_world["bank"], "demo_x"]
    )
    reference = data.draw(st.one_of(known, known, known, text(30).map(lambda s: s.replace("\x00", "") or "x")))
    outcome = data.draw(
        st.one_of(st.sampled_from(["complete", "fail", "cancel", "COMPLETE", " complete", "", "refund"]), text(20))
    )
    fields = {"outcome": outcome} if data.draw(st.booleans()) or outcome else {}
    with rolled_back():
        before = Transfer.objects.count()
        response = client.post(f"/en/donations/test-checkout/{quote(reference, safe='')}/", fields)
        assert response.status_code in (302, 400, 404), response.status_code
        event(f"demo checkout: {response.status_code}")
        donation = Donation.objects.get(checkout_reference=demo_world["pending"])
        if reference == demo_world["pending"] and fields.get("outcome") == "complete":
            assert donation.status == DonationStatus.SUCCEEDED and Transfer.objects.count() > before
        else:
            assert Transfer.objects.count() == before
            expected = {"fail": DonationStatus.FAILED, "cancel": DonationStatus.CANCELLED}.get(fields.get("outcome"))
            targeted = reference == demo_world["pending"]
            assert donation.status == (expected if targeted and expected else DonationStatus.PENDING)
        assert Donation.objects.get(checkout_reference=demo_world["bank"]).status == DonationStatus.PENDING
