"""Every user-facing string is translated into Russian, Belarusian and Polish."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["ru", "be", "pl"]


def _problems(po_path: Path) -> list[str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
    problems += [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_valid(language):
    assert _problems(ROOT / "locale" / language / "LC_MESSAGES" / "django.po") == []


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext (xgettext) is needed to extract strings")
def test_no_string_in_the_code_is_missing_from_the_catalogues(tmp_path):
    # makemessages writes into ./locale of its working directory, so it runs in a copy.
    for name in ("zbor", "config"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "locale", locale, ignore=shutil.ignore_patterns("*.mo"))
    env = {**os.environ, "ZBOR_LOCALE_DIR": str(locale), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zbor",
            "makemessages",
            *sum((["-l", code] for code in LANGUAGES), []),
            "--no-location",
            "--no-obsolete",
            "--ignore=.venv/*",
            "--ignore=build/*",
            "--ignore=tests/*",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for language in LANGUAGES:
        problems = _problems(locale / language / "LC_MESSAGES" / "django.po")
        assert problems == [], f"run `make makemessages` and translate ({language}): {problems}"


# --- The glossary (docs/translations.md), where it can be checked mechanically -------------

#: A second sentence glued on after a full stop ("…ktoś inny.Ta zbiórka…").
GLUED = re.compile(r"[a-ząćęłńóśźżа-яёіў]\.[A-ZĄĆĘŁŃÓŚŹŻА-ЯЁІЎ]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")

#: The few strings about a payout's proof of purchase: there "чек"/"чэк" is the right word.
PROOF_OF_PURCHASE = {
    "A receipt: picture or PDF. Metadata is removed; the file is encrypted.",
    "Receipt checked by the foundation",
    "Nothing has been paid out yet. When the foundation pays for a need, it appears here with the "
    "date, the kind of payment and whether the receipt was checked.",
}

#: Renderings the glossary rules out: (pattern, why).
WRONG = {
    "ru": [
        (r"\bчек", "a donor's receipt is a квитанция"),
        (r"\bнужд", "need is потребность"),
        (r"кампани", "campaign is сбор"),
        (r"\bдонор", "donor is жертвователь"),
        (r"провайдер|платёжн\w* сервис", "the payment provider is платёжная система"),
        (r"проведённую|^Проведено$|^Не прошло$", "a payout is выплачена; a donation получено / не оплачено"),
        (r"\bссылка$", "the ledger's reference is its основание"),
    ],
    "be": [
        (r"\bчэк", "a donor's receipt is a квітанцыя"),
        (r"кампані", "campaign is збор"),
        (r"\bдонар", "donor is ахвярадавец"),
        (r"адобр", "approve is ухваліць"),
        (r"правайдар|плацежн\w* сэрвіс", "the payment provider is плацежная сістэма"),
        (r"ШИЗО|ШІЗО", "SHIZO is ШІЗА in the official orthography"),
        (r"праведзеную|^Праведзена$|^Не прайшло$", "a payout is выплачана; a donation атрымана / не аплачана"),
        (r"\bспасылка$", "the ledger's reference is its падстава"),
    ],
    "pl": [
        (r"zrealizowan", "a payout is wypłacona, a donation otrzymana"),
        (r"odwołani", "odwołanie is an appeal: a reference is a kod, źródło or odnośnik"),
        (r"objaśnieni", "a foundation note is a wyjaśnienie"),
        (r"[Aa]ktualnoś", "an update is an aktualizacja"),
    ],
}

#: The foundation's name is a setting and cannot be declined: never after a preposition.
NAME_AFTER_PREPOSITION = re.compile(
    r"\b(dla|do|od|przez|rzecz|для|от|из|у|ў|ад|праз|з|с|в|на)\s+%\(foundation\)s", re.IGNORECASE
)

#: Strings whose wording the glossary fixes exactly.
EXACT = {
    "campaign": {"ru": "сбор", "be": "збор", "pl": "zbiórka"},
    "need": {"ru": "потребность", "be": "патрэба", "pl": "potrzeba"},
    "payout": {"ru": "выплата", "be": "выплата", "pl": "wypłata"},
    "Paid": {"ru": "Выплачено", "be": "Выплачана", "pl": "Wypłacona"},
    "Mark as paid": {"ru": "Отметить как выплаченную", "be": "Адзначыць як выплачаную", "pl": "Oznacz jako wypłaconą"},
    "Pending": {"ru": "Ожидает оплаты", "be": "Чакае аплаты", "pl": "Oczekuje na wpłatę"},
    "Succeeded": {"ru": "Получено", "be": "Атрымана", "pl": "Otrzymana"},
    "Failed": {"ru": "Не оплачено", "be": "Не аплачана", "pl": "Nieopłacona"},
    "Expired": {"ru": "Срок оплаты истёк", "be": "Тэрмін аплаты скончыўся", "pl": "Termin wpłaty minął"},
    "reference": {"ru": "основание", "be": "падстава", "pl": "źródło"},
    "Receipt number": {"ru": "Номер квитанции", "be": "Нумар квітанцыі", "pl": "Numer potwierdzenia"},
    "Payment reference": {"ru": "Код платежа", "be": "Код плацяжу", "pl": "Kod płatności"},
}


def _entries(language: str):
    """(msgid, msgid_plural or msgid, [msgstr forms]) of every translated entry."""
    with (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id, message.id)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield ids[0], ids[1], [s for s in strings if s]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_second_sentence_is_glued_on(language):
    # Where the English has the same shape (an address, "e.g.X"), the translation may too.
    glued = [
        s
        for msgid, _plural, strings in _entries(language)
        for s in strings
        if GLUED.search(s) and not GLUED.search(msgid)
    ]
    assert glued == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_their_msgid(language):
    wrong = []
    for msgid, plural, strings in _entries(language):
        wanted = set(PLACEHOLDER.findall(msgid)) | set(PLACEHOLDER.findall(plural))
        for s in strings:
            found = set(PLACEHOLDER.findall(s))
            # A plural form may leave the count out ("одна квитанция"), never add a name.
            if found != wanted if msgid == plural else not found <= wanted:
                wrong.append((msgid, s))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_glossary_rules_out_these_renderings(language):
    wrong = []
    for msgid, _plural, strings in _entries(language):
        if msgid in PROOF_OF_PURCHASE:
            continue
        for s in strings:
            wrong += [(why, s) for pattern, why in WRONG[language] if re.search(pattern, s)]
            if NAME_AFTER_PREPOSITION.search(s):
                wrong.append(("the foundation's name stands alone, in the nominative", s))
    assert wrong == []


@pytest.mark.parametrize("language", ["ru", "be"])
def test_a_donors_receipt_is_always_the_same_word(language):
    stem = {"ru": "квитанц", "be": "квітанц"}[language]
    wrong = [
        (msgid, s)
        for msgid, _plural, strings in _entries(language)
        if re.search(r"\breceipt", msgid, re.IGNORECASE) and msgid not in PROOF_OF_PURCHASE
        for s in strings
        if stem not in s.lower()
    ]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_glossary_terms_are_rendered_exactly(language):
    catalogue = {msgid: strings for msgid, _plural, strings in _entries(language)}
    assert {msgid: catalogue[msgid][0] for msgid in EXACT} == {msgid: t[language] for msgid, t in EXACT.items()}
