"""Foundation notes placed in a story or an update (``[[note:shizo]]``): as boxes on the page,
or as Markdown quotes for readers of the raw text (the API)."""

from __future__ import annotations

from django.conf import settings
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zbor.campaigns import markdown
from zbor.campaigns.selectors import note_translations_by_key
from zbor.campaigns.translation import pick_from


class NoteRenderer:
    """Renders the notes a page places, each with a unique id for its aria label."""

    def __init__(self, notes: dict[str, list], language: str, fallback: str):
        #: Each note's translations, by key.
        self.notes = notes
        self.language = language
        self.fallback = fallback
        self.count = 0
        self.label = _("%(foundation)s note") % {"foundation": settings.ZBOR_FOUNDATION_NAME}

    @classmethod
    def for_texts(cls, texts: list[str], language: str, fallback: str) -> NoteRenderer:
        """A renderer for the notes ``texts`` place (read in one go)."""
        keys = {key for text in texts for key in markdown.note_keys(text)}
        return cls(note_translations_by_key(keys), language, fallback)

    def __call__(self, key: str) -> SafeString:
        picked = pick_from(self.notes.get(key, ()), self.language, self.fallback, field="text")
        if picked is None:
            return SafeString("")
        self.count += 1
        content = markdown.NoteContent(key=key, term=picked.translation.term, text=picked.translation.text)
        return markdown.render_note(
            content, label=self.label, element_id=f"note-{key}-{self.count}", language=picked.language
        )


def story_markdown(text: str, language: str, fallback: str) -> str:
    """``text`` with each foundation note reference (``[[note:shizo]]``, internal markup) replaced
    by the note itself as a Markdown quote, in the language the page would show it: what a
    reader of the raw Markdown needs, as the page shows the note's box in that place."""
    keys = markdown.note_keys(text)
    if not keys:
        return text
    notes = note_translations_by_key(set(keys))
    out: list[str] = []
    for line in text.split("\n"):
        found = markdown.NOTE_LINE.match(line.strip())
        if found and found.group(1) in keys:
            picked = pick_from(notes.get(found.group(1), ()), language, fallback, field="text")
            if picked is None:
                continue
            body = f"**{picked.translation.term}**: {picked.translation.text}".strip()
            out.extend("> " + part if part else ">" for part in body.split("\n"))
        else:
            out.append(line)
    return "\n".join(out)
