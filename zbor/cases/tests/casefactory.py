"""A sealed case as an application would leave it (without going through /apply/), for the
casework tests."""

from __future__ import annotations

from django.contrib.auth.models import Group

from tests.casework import foundation_keys
from zbor import private_files
from zbor.cases.applicant_key import give_key
from zbor.cases.models import Case, CaseDocument, CaseMessage, Direction, Programme
from zbor.cases.sealing import seal_file, seal_json, seal_text

#: As an application leaves them (zbor/cases/core.py): the common core, then a programme's questions.
ANSWERS = {
    "core": {
        "name": "Aliaksandra Kavaleva",
        "location": "Vilnius, Lithuania",
        "story": "Released in May after two years in Gomel colony; searched again in June.",
        "needs": "Rent and a lawyer for the first months",
        "amount": 120000,
        "currency": "EUR",
        "contact_channel": "signal",
        "contact": "@sasha_k",
    },
    "questions": [{"id": 1, "kind": "date", "label": "When were you released?", "answer": "2026-05-14"}],
}
DOCUMENT = b"%PDF-1.4 release certificate of Kavaleva"
MESSAGE = "I can send the court decision next week."


def programme(slug: str = "relocation", name: str = "Relocation", **kwargs) -> Programme:
    p, _created = Programme.objects.get_or_create(slug=slug, defaults=kwargs)
    if not p.has_translation("en"):
        p.create_translation("en", name=name)
    return p


#: The secret phrase of every ``sealed_case``.
PHRASE = "amber river seven owls"


def sealed_case(
    *,
    answers: dict | None = None,
    document: bytes | None = DOCUMENT,
    message: str = MESSAGE,
    applicant_key: bool = True,
    **kwargs,
) -> Case:
    """A case with sealed answers, one sealed document and one sealed message from the applicant;
    with the applicant's own key wrapped under ``PHRASE`` unless ``applicant_key`` is False (a
    case received before applicants had one)."""
    key, _private = foundation_keys()
    kwargs.setdefault("programme", programme())
    kwargs.setdefault("language", "ru")
    case = Case(answers=seal_json(answers or ANSWERS), key=key, currency="EUR", **kwargs)
    case.set_phrase(PHRASE)
    if applicant_key:
        give_key(case, PHRASE)
    case.save()
    if document is not None:
        CaseDocument.objects.create(
            case=case,
            stored_name=private_files.store(seal_file(document)),
            meta=seal_json({"name": "release.pdf", "content_type": "application/pdf"}),
            size=len(document),
        )
    if message:
        CaseMessage.objects.create(case=case, direction=Direction.FROM_APPLICANT, body=seal_text(message))
    return case


def add_roles(user, *roles: str):
    """``user`` with more roles (fresh from the database: permissions are cached)."""
    from zbor.accounts.roles import sync_roles

    sync_roles()
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return type(user).objects.get(pk=user.pk)
