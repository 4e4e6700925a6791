"""Choosing which translation of a piece of content to show.

A page asks for its language; when the content has no translation in it, the content's original
language is shown instead (with a visible notice), never an empty field. Works on prefetched
``translations`` so that a page of campaigns costs no extra query per object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Picked:
    translation: Any
    language: str
    #: True when the requested language was missing and another one is shown.
    is_fallback: bool


def pick_translation(obj, language: str, original: str | None = None, *, field: str) -> Picked | None:
    """The translation of ``obj`` whose ``field`` is filled in: in ``language``, else in
    ``original``, else any; None if no translation has it.

    Field by field, so a Polish translation with a title but no story yet shows the Polish
    title and the original story, never an empty one.
    """
    return pick_from(obj.translations.all(), language, original, field=field)


def pick_from(translations: Iterable[Any], language: str, original: str | None = None, *, field: str) -> Picked | None:
    """``pick_translation`` among ``translations`` (one object's, read some other way)."""
    by_language = {t.language_code: t for t in translations if str(getattr(t, field, "") or "").strip()}
    if language in by_language:
        return Picked(by_language[language], language, False)
    for code in (original, *sorted(by_language)):
        if code in by_language:
            return Picked(by_language[code], code, True)
    return None
