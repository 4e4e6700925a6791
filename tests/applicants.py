"""Test helpers for the applicant's pages (zbor/site/apply_views.py, apply_status.py): a
programme with one question of each kind, a filled application form, and files with hidden
metadata to find (or not) afterwards.

    relocation = programme()                      # active, EUR, questions of every kind
    data = application(relocation, story="…")     # POST data for /en/apply/<slug>/
    pdf = pdf_with_metadata("Marker")             # a one-page PDF whose /Title is "Marker"
"""

from __future__ import annotations

import io
import uuid

from zbor.cases.models import Programme, Question, QuestionKind

#: The questions programme() adds, by kind: (label, required, choices).
QUESTIONS = {
    QuestionKind.TEXT: ("Which city did you leave?", False, ""),
    QuestionKind.LONG_TEXT: ("Who depends on you?", False, ""),
    QuestionKind.CHOICE: ("Are you still in the country?", True, "Yes\nNo\nI would rather not say"),
    QuestionKind.DATE: ("When did you leave?", False, ""),
    QuestionKind.AMOUNT: ("How much is the ticket?", False, ""),
    QuestionKind.FILE: ("A document about your case", False, ""),
}


def programme(slug: str = "relocation", *, name: str = "Relocation", active: bool = True, questions=True) -> Programme:
    """An active programme (English name and description, a Russian name too) with one question
    of each kind, in the order of ``QUESTIONS``."""
    made = Programme(slug=slug, active=active, currency="EUR", max_amount=500000)
    made.set_current_language("en")
    made.name = name
    made.description = "Help to leave safely: tickets, a first month's rent, documents."
    made.save()
    made.set_current_language("ru")
    made.name = f"{name} (ru)"
    made.save()
    if questions:
        for position, (kind, (label, required, choices)) in enumerate(QUESTIONS.items()):
            question = Question(programme=made, position=position, kind=kind, required=required)
            question.set_current_language("en")
            question.label, question.choices = label, choices
            question.save()
    return made


def question_field(made: Programme, kind: str) -> str:
    return f"q{made.questions.get(kind=kind).pk}"


def application(made: Programme, **answers) -> dict[str, str]:
    """The form's fields as a person fills them in (no file; no proof of work)."""
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "challenge": "",
        "name": "Alesia",
        "location": "Vilnius, Lithuania",
        "story": "My husband was detained after the march.",
        "needs": "Rent for two months and a lawyer.",
        "amount": "1200",
        "currency": "EUR",
        "contact_channel": "signal",
        "contact": "alesia.42",
    }
    if made.questions.exists():
        data[question_field(made, QuestionKind.CHOICE)] = "No"
        data[question_field(made, QuestionKind.DATE)] = "2026-10-03"
        data[question_field(made, QuestionKind.AMOUNT)] = "240"
    data.update(answers)
    return data


def pdf_with_metadata(title: str) -> bytes:
    """A one-page PDF whose document information names ``title`` (author, title, subject)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": title, "/Author": title, "/Subject": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_with_text(text: str) -> bytes:
    """A small PNG carrying ``text`` in a tEXt chunk (as cameras and editors leave comments)."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()
