"""Every user-facing string is translated into Russian, Belarusian and Polish."""

import os
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
