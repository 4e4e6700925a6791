"""The demo's casework: three programmes people can apply to, in four languages, a foundation
key both demo logins can unlock with the demo passphrase, and two made-up applications sealed to
it, so that the caseworkers' queue is not empty (demo settings only).

The passphrase is published in the README like the demo password: the demo key protects
nothing real. A production foundation makes its first key with ``zbor casework_keys init``.
"""

from __future__ import annotations

from zbor.cases import keys
from zbor.cases.applying import submit_application
from zbor.cases.models import Case, FoundationKey, Programme, Question, QuestionKind

DEMO_CASEWORK_PASSPHRASE = "demo casework passphrase only"  # noqa: S105 - the demo's, refused nowhere real

#: slug → (position, max amount in cents, names and descriptions by language, questions)
PROGRAMMES: list[dict] = [
    {
        "slug": "relocation",
        "max_amount": 300000,
        "texts": {
            "en": ("Leaving the country safely", "Tickets, visas, the first month's rent after a forced departure."),
            "ru": ("Безопасный выезд", "Билеты, визы, аренда на первый месяц после вынужденного отъезда."),
            "be": ("Бяспечны выезд", "Квіткі, візы, арэнда на першы месяц пасля вымушанага ад'езду."),
            "pl": ("Bezpieczny wyjazd", "Bilety, wizy, czynsz za pierwszy miesiąc po przymusowym wyjeździe."),
        },
        "questions": [
            (
                QuestionKind.DATE,
                False,
                {
                    "en": "When do you need to leave?",
                    "ru": "Когда вам нужно уехать?",
                    "be": "Калі вам трэба выехаць?",
                    "pl": "Kiedy musisz wyjechać?",
                },
            ),
        ],
    },
    {
        "slug": "health",
        "max_amount": 200000,
        "texts": {
            "en": ("Health after prison", "Treatment, medicines and check-ups for people released from prison."),
            "ru": ("Здоровье после заключения", "Лечение, лекарства и обследования для освобождённых."),
            "be": ("Здароўе пасля зняволення", "Лячэнне, лекі і абследаванні для вызваленых."),
            "pl": ("Zdrowie po więzieniu", "Leczenie, leki i badania dla osób zwolnionych z więzienia."),
        },
        "questions": [
            (
                QuestionKind.FILE,
                False,
                {
                    "en": "A doctor's note or a cost estimate, if you have one",
                    "ru": "Справка врача или смета, если есть",
                    "be": "Даведка ўрача або каштарыс, калі ёсць",
                    "pl": "Zaświadczenie lekarskie lub kosztorys, jeśli masz",
                },
            ),
        ],
    },
    {
        "slug": "families",
        "max_amount": 150000,
        "texts": {
            "en": ("Families of political prisoners", "Support for the children and partners of people in prison."),
            "ru": ("Семьи политзаключённых", "Поддержка детей и близких тех, кто в заключении."),
            "be": ("Сем'і палітвязняў", "Падтрымка дзяцей і блізкіх тых, хто ў зняволенні."),
            "pl": ("Rodziny więźniów politycznych", "Wsparcie dla dzieci i bliskich osób w więzieniu."),
        },
        "questions": [
            (
                QuestionKind.CHOICE,
                True,
                {
                    "en": ("Who is in prison?", "My partner\nMy parent\nMy child\nAnother relative"),
                    "ru": ("Кто в заключении?", "Мой партнёр\nМой родитель\nМой ребёнок\nДругой родственник"),
                    "be": ("Хто ў зняволенні?", "Мой партнёр\nМой бацька ці маці\nМае дзіця\nІншы сваяк"),
                    "pl": ("Kto jest w więzieniu?", "Mój partner\nMój rodzic\nMoje dziecko\nInny krewny"),
                },
            ),
        ],
    },
]


def load_programmes() -> list[str]:
    """The demo programmes that were missing, made now; their slugs."""
    made = []
    for position, spec in enumerate(PROGRAMMES):
        if Programme.objects.filter(slug=spec["slug"]).exists():
            continue
        programme = Programme.objects.create(slug=spec["slug"], position=position, max_amount=spec["max_amount"])
        for language, (name, description) in spec["texts"].items():
            programme.create_translation(language, name=name, description=description)
        for index, (kind, required, labels) in enumerate(spec["questions"]):
            question = Question.objects.create(programme=programme, position=index, kind=kind, required=required)
            for language, text in labels.items():
                label, choices = text if isinstance(text, tuple) else (text, "")
                question.create_translation(language, label=label, choices=choices)
        made.append(spec["slug"])
    return made


def load_key(user, reviewer) -> bool:
    """A foundation key wrapped for both demo logins, unless a key exists; True when made."""
    if FoundationKey.objects.exists():
        return False
    foundation_key = keys.create_first_key(user, DEMO_CASEWORK_PASSPHRASE, label="demo")
    private = keys.unwrap(user.caseworker_keys.get(foundation_key=foundation_key), DEMO_CASEWORK_PASSPHRASE)
    keys.give_copy(reviewer, private, foundation_key, DEMO_CASEWORK_PASSPHRASE, by=user)
    return True


#: Made-up applications (programme slug, language, the core answers): no real person's story.
APPLICATIONS: list[tuple[str, str, dict]] = [
    (
        "relocation",
        "ru",
        {
            "name": "Марина",
            "location": "Гродно",
            "story": "Демонстрационная заявка. После обыска у соседей мне сказали, что я следующая в списке.",
            "needs": "Билет на автобус до Вильнюса и аренда на первый месяц.",
            "amount": 90000,
            "currency": "EUR",
            "contact_channel": "",
            "contact": "",
        },
    ),
    (
        "health",
        "en",
        {
            "name": "Tomas",
            "location": "Warsaw",
            "story": "A demo application. I was released in the spring after two years; my back was hurt in the cell.",
            "needs": "Physiotherapy for three months and an MRI scan.",
            "amount": 120000,
            "currency": "EUR",
            "contact_channel": "signal",
            "contact": "demo.tomas.01",
        },
    ),
]


def load_applications() -> int:
    """The demo applications, sealed to the demo key like any other, unless some exist."""
    if Case.objects.exists() or not FoundationKey.objects.filter(active=True).exists():
        return 0
    for slug, language, core in APPLICATIONS:
        submit_application(
            Programme.objects.get(slug=slug), answers={"core": core, "questions": []}, uploads=[], language=language
        )
    return len(APPLICATIONS)
