"""Story markdown: rendered with markdown-it-py, then sanitised with nh3 against an allow-list.

Raw HTML in the source is escaped (markdown-it's ``html`` option is off), so ``<script>`` shows
as text; nh3 then removes anything the allow-list does not name, so no attribute, scheme or
tag can slip through a parser quirk. Images are not allowed: a story must not make a reader's
browser fetch from another server.

A foundation note is placed with a line of its own::

    Some paragraph.

    [[note:shizo]]

    Next paragraph.

The note's text is rendered (and sanitised) the same way and wrapped in a labelled ``<aside>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import nh3
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

NOTE_LINE = re.compile(r"^\[\[\s*note\s*:\s*([^\]\s]*)\s*\]\]$", re.IGNORECASE)
NOTE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Lines that look like an attempt at a note reference, to catch typos like "[[note shizo]]".
NOTE_ATTEMPT = re.compile(r"^\s*\[\[\s*note\b", re.IGNORECASE)

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "code",
    "pre",
    "hr",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class NoteContent:
    key: str
    term: str
    text: str


def _note_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # Only between top-level blocks: a note inside a list item or a quote would split it.
    if state.level > 0 or state.parentType not in ("root", "paragraph"):
        return False
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[begin : state.eMarks[start_line]].strip()
    match = NOTE_LINE.match(line)
    if not match:
        return False
    if silent:
        return True
    token = state.push("zbor_note", "", 0)
    token.meta = {"key": match.group(1).lower()}
    token.map = [start_line, start_line + 1]
    token.block = True
    state.line = start_line + 1
    return True


def _build_parser(*, notes: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("strikethrough")
    md.disable("image")
    if notes:
        md.block.ruler.before("paragraph", "zbor_note", _note_rule, {"alt": ["paragraph"]})
    return md


_md = _build_parser(notes=True)
# A note's own text cannot place notes.
_md_plain = _build_parser(notes=False)


def _shift_headings(tokens) -> None:
    # The page owns <h1>; a story's "# Heading" becomes <h2>, and so on down.
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _render_tokens(tokens) -> str:
    return sanitize(_md.renderer.render(tokens, _md.options, {}))


def note_reference_errors(source: str, existing: Iterable[str]) -> list[str]:
    """Problems with the note references in a text: unknown keys and malformed references."""
    from django.utils.translation import gettext as _

    known = set(existing)
    errors = []
    for key in note_keys(source):
        if not NOTE_KEY.match(key):
            errors.append(_("“[[note:%(key)s]]” is not a valid note key.") % {"key": key})
        elif key not in known:
            errors.append(_("There is no foundation note with the key “%(key)s”.") % {"key": key})
    placed = len(note_keys(source))
    attempts = sum(1 for line in (source or "").splitlines() if NOTE_ATTEMPT.match(line))
    if attempts > placed:
        errors.append(_("A note reference must stand alone on its own line and look exactly like [[note:shizo]]."))
    return errors


@dataclass(frozen=True)
class _PlacedNote:
    key: str


@lru_cache(maxsize=512)
def _parts(source: str) -> tuple[str | _PlacedNote, ...]:
    """A text rendered and sanitised, cut where it places notes. Parsing and sanitising cost
    more than the rest of a campaign page, so each text is rendered once per process (the key
    is the text itself: an edited text is another key, never a stale page)."""
    tokens = _md.parse(source)
    _shift_headings(tokens)
    parts: list[str | _PlacedNote] = []
    chunk: list = []
    for token in tokens:
        if token.type == "zbor_note":
            parts.append(_render_tokens(chunk))
            chunk = []
            parts.append(_PlacedNote(token.meta["key"]))
        else:
            chunk.append(token)
    parts.append(_render_tokens(chunk))
    return tuple(parts)


def note_keys(source: str) -> list[str]:
    """The note keys a text places, in order (code blocks and indented text are not searched)."""
    return [part.key for part in _parts(source or "") if isinstance(part, _PlacedNote)]


def render_markdown(source: str, *, note: Callable[[str], SafeString] | None = None) -> SafeString:
    """Render markdown to safe HTML; ``note(key)`` renders each placed note (omitted if None)."""
    html: list[str] = []
    for part in _parts(source or ""):
        if isinstance(part, _PlacedNote):
            if note is not None:
                html.append(note(part.key))
        else:
            html.append(part)
    return mark_safe("".join(html))  # noqa: S308 - every part went through sanitize() or format_html()


@lru_cache(maxsize=512)
def _note_body(text: str) -> str:
    """A note's text rendered and sanitised, once per process per text (as ``_parts``)."""
    tokens = _md_plain.parse(text)
    _shift_headings(tokens)
    return sanitize(_md_plain.renderer.render(tokens, _md_plain.options, {}))


def render_note(content: NoteContent, *, label: str, element_id: str, language: str = "") -> SafeString:
    """A note as an accessible aside, labelled e.g. "Zbor Foundation note"; its text in ``language``."""
    body = mark_safe(_note_body(content.text))  # noqa: S308 - sanitised by nh3
    return format_html(
        '<aside class="note" aria-labelledby="{id}">'
        '<p class="note-label" id="{id}"><span>{label}</span> · <dfn{lang}>{term}</dfn></p>'
        "<div{lang}>{body}</div></aside>",
        id=element_id,
        label=label,
        term=content.term,
        lang=format_html(' lang="{}"', language) if language else "",
        body=body,
    )
