"""The common core of every application: the few questions every programme asks first.

A programme adds its own questions (``Question`` rows); these are fixed in code, so that every
case can be read and counted the same way. What an applicant answers is sealed as one JSON
document (``Case.answers``, zbor.cases.applying.submit_application):

    {
      "core": {"name": "…", "location": "…", "story": "…", "needs": "…",
               "amount": 120000 | null, "currency": "EUR",
               "contact_channel": "" | "email" | "signal" | "telegram", "contact": "…"},
      "questions": [
        {"id": <Question pk>, "kind": "text" | "long_text" | "choice" | "date" | "amount" | "file",
         "label": "the question as the applicant read it", "answer": "…" | 12000 | "2026-11-03"},
        …
      ]
    }

An amount is in minor units of its currency (the core's own ``currency``; a programme question's
is the programme's). A file question's answer is the file's original name; the file itself is a
``CaseDocument`` whose sealed ``meta`` names the same question id.

``CORE`` lists the questions in the order the form shows them; a caseworker's screen shows the
``label`` of each key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TEXT = "text"
LONG_TEXT = "long_text"
AMOUNT = "amount"
CURRENCY = "currency"
CHANNEL = "channel"


@dataclass(frozen=True)
class CoreQuestion:
    key: str
    kind: str
    label: Promise
    help_text: Promise | str
    required: bool
    max_length: int = 0


#: The longest answer to a short or a long question, in characters.
SHORT_MAX = 300
LONG_MAX = 8000

CORE: tuple[CoreQuestion, ...] = (
    CoreQuestion(
        "name",
        TEXT,
        _("How should we address you?"),
        _("A first name or any name you like. It does not have to be your full or real name."),
        required=True,
        max_length=120,
    ),
    CoreQuestion(
        "location",
        TEXT,
        _("Where are you now?"),
        _("The country and the city are enough. If it is not safe to say more, say only the country."),
        required=True,
        max_length=SHORT_MAX,
    ),
    CoreQuestion(
        "story",
        LONG_TEXT,
        _("What happened?"),
        _("In your own words. Write only what you are comfortable writing: we can ask more later."),
        required=True,
        max_length=LONG_MAX,
    ),
    CoreQuestion(
        "needs",
        LONG_TEXT,
        _("What do you need?"),
        _("For example: a lawyer, medicine, a ticket, rent for two months, help for your children."),
        required=True,
        max_length=LONG_MAX,
    ),
    CoreQuestion(
        "amount",
        AMOUNT,
        _("Roughly how much money would that take?"),
        _("A rough figure is fine. Leave it empty if you do not know."),
        required=False,
    ),
    CoreQuestion("currency", CURRENCY, _("Currency"), "", required=True),
    CoreQuestion(
        "contact_channel",
        CHANNEL,
        _("How can we reach you safely?"),
        _(
            "Optional. Without it, we answer only on your application's status page. Choose a way "
            "that is safe for you: anyone who holds your phone may see our messages there."
        ),
        required=False,
    ),
    CoreQuestion(
        "contact",
        TEXT,
        _("Your address or username there"),
        _("An email address, a Signal username or number, or a Telegram username."),
        required=False,
        max_length=200,
    ),
)

CORE_BY_KEY = {question.key: question for question in CORE}

#: Ways to be reached (the empty choice: only through the status page).
CHANNELS = (
    ("", _("Only through the status page")),
    ("email", _("Email")),
    ("signal", _("Signal")),
    ("telegram", _("Telegram")),
)

#: Currencies an applicant may name for the rough amount, after the programme's own.
CURRENCIES = ("EUR", "PLN", "USD", "GBP", "GEL", "UAH", "BYN", "RUB")


def currencies_for(programme_currency: str) -> list[str]:
    """The programme's currency first, then the others, each once."""
    return list(dict.fromkeys([programme_currency, *CURRENCIES]))
