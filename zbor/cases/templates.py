"""The questions a caseworker sends to an applicant, as translated templates.

A message to the applicant stores only the template's key (plain: it says nothing about the
person) and, if the caseworker adds one, a free text sealed twice: to the foundation key and to
the applicant's own key (zbor.cases.applicant_key), so that their status page shows it under the
question. The applicant's status page shows
the template in the applicant's language (``Case.language``), so a caseworker reading Russian
can ask a Belarusian applicant in Belarusian.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: key → the question, as the applicant reads it.
TEMPLATES = {
    "identity_document": _(
        "Please add a photo or scan of a document that shows who you are (a passport or an ID card). "
        "You may cover the number."
    ),
    "court_documents": _(
        "Please add any document about the case against you or your relative: a court decision, a "
        "summons, a letter from a lawyer or from the prison."
    ),
    "where_now": _("Where are you now, and are you safe there? A country and a city are enough."),
    "relatives_at_risk": _("Are any of your relatives still in the country? Could our help put them at risk?"),
    "amount_details": _(
        "Please tell us more about the amount you need: what it is for, and how you would like to receive it."
    ),
    "second_source": _(
        "Is there someone we may ask about what happened to you (a human rights group, a lawyer, a "
        "journalist)? Tell us how to reach them, only if they agree."
    ),
    "safe_contact": _("How can we reach you safely? You may give an email, a Signal or a Telegram name."),
    "other": _("We have a question about your application: please read the message below."),
}


#: The question that says "read the message below": it needs the caseworker's text.
NEEDS_TEXT = "other"


def choices() -> list[tuple[str, str]]:
    """(key, question) for the caseworker's form, in the caseworker's language."""
    return [(key, str(text)) for key, text in TEMPLATES.items()]


def render(key: str, language: str) -> str:
    """The question ``key`` in ``language`` (empty for a key that no longer exists)."""
    text = TEMPLATES.get(key)
    if text is None:
        return ""
    with translation.override(language):
        return str(text)
