"""Fuzzing story markdown: any story renders, or gives the documented note error; never script,
handlers, javascript:/data: links, style or iframes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import fuzz, text
from zbor.campaigns import markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "<b onclick=alert(1)>x</b>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>p{color:red}</style>",
    "<object data=x></object>",
    "<embed src=x>",
    "<base href=//evil.example>",
    "<meta http-equiv=refresh content=0>",
    "<form action=//evil.example><input name=x></form>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<a href="javascript:alert(1)">x</a>',
    "<!-- comment -->",
    "<![CDATA[x]]>",
    "<?php x ?>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](jav&#x61;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](DATA:text/html,x)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](//evil.example)",
    '[x](http://ok.example "t onmouseover=alert(1)")',
    "[x](http://ok.example' onclick='alert(1))",
    "[x](mailto:a@b.example)",
    "[x](https://ok.example/?q=<script>)",
    "<javascript:alert(1)>",
    "<http://ok.example>",
    "[ref]: javascript:alert(1)",
    "[ref]",
    "![img](https://evil.example/pixel.png)",
    "![img](javascript:alert(1))",
    "&lt;script&gt;",
    "&#60;script&#62;",
    "\x00",
    "\ufffd",
    "\u202e",
    "\r\n",
    "*",
    "_",
    "`",
    "~~s~~",
    "**b**",
    "[[note:shizo]]",
    "[[note:missing]]",
    "[[ NOTE : Shizo ]]",
    "[[note shizo]]",
    "[[note:]]",
    "[[note:<script>]]",
    '[[note:"onmouseover=alert(1)]]',
    "  [[note:shizo]]",
    "    [[note:shizo]]",
    "> [[note:shizo]]",
    "- [[note:shizo]]",
    "- item",
    "  - nested",
    "    - deeper",
    "      - deepest",
    "1. one",
    "99999999999. big",
    "> quote",
    "> > nested quote",
    "```\ncode <script>\n```",
    "```javascript:\nx\n```",
    "    indented <script>",
    "# h1",
    "###### h6",
    "Title\n===",
    "---",
    "| a | b |\n|---|---|\n| <script> | x |",
    "\\<script>",
    "<a href='x'>",
    "</p><script>",
]


RUNS = [
    "- ",
    "> ",
    "[",
    "*a",
    "_a",
    "`",
    "  - x\n",
    "1. ",
    "[[note:shizo]]\n\n",
    "<script>",
    "[x](javascript:x)\n",
    "[a](",
    "|a|\n",
]


def _join(parts):
    return "".join(piece + gap for piece, gap in parts)


MARKDOWN = st.one_of(
    text(300),
    st.lists(
        st.tuples(st.one_of(st.sampled_from(HOSTILE), text(20)), st.sampled_from(["", " ", "\n", "\n\n", "\t", "  "])),
        max_size=40,
    ).map(_join),
    # Deep nesting and long runs of what parsers find hardest (the huge ones are tested below).
    st.tuples(st.sampled_from(RUNS), st.integers(min_value=10, max_value=150)).map(lambda t: t[0] * t[1]),
)

NOTE_TAGS = {"aside", "div", "dfn", "span"}  # render_note's own wrapper
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "ol": {"start"},
    "aside": {"class", "aria-labelledby"},
    "p": {"class", "id"},
    "dfn": {"lang"},
    "div": {"lang"},
}
DANGEROUS = re.compile(
    r"<\s*/?\s*(script|iframe|style|img|svg|object|embed|base|meta|form|input|math|link)\b", re.IGNORECASE
)


class _Audit(HTMLParser):
    """Reads the rendered HTML as a browser's tokenizer would, listing every tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe_html(out: str) -> None:
    assert not DANGEROUS.search(out), out
    audit = _Audit()
    audit.feed(out)
    audit.close()
    for tag, attrs in audit.tags:
        assert tag in markdown.ALLOWED_TAGS | NOTE_TAGS, (tag, out)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, name, out)
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, out)
            if name in ("href", "src"):
                # What a browser would take as the scheme: leading controls and spaces dropped,
                # tabs and newlines removed anywhere.
                url = re.sub(r"[\t\n\r]", "", re.sub(r"^[\x00-\x20]+", "", value or "")).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", url)
                assert scheme is None or scheme.group(1) in markdown.ALLOWED_SCHEMES, (value, out)


def _note_renderer(notes: dict[str, markdown.NoteContent]):
    count = 0

    def render(key: str) -> SafeString:
        nonlocal count
        if key not in notes:
            return SafeString("")  # as the campaign page does for a note that does not exist
        count += 1
        return markdown.render_note(
            notes[key], label="Zbor Foundation note", element_id=f"note-{key}-{count}", language="en"
        )

    return render


@fuzz(300)
@given(MARKDOWN, text(60), MARKDOWN)
def test_any_story_renders_to_safe_html(source, term, note_text):
    notes = {"shizo": markdown.NoteContent(key="shizo", term=term, text=note_text)}
    out = markdown.render_markdown(source, note=_note_renderer(notes))
    assert isinstance(out, SafeString)
    assert_safe_html(out)
    assert_safe_html(markdown.render_markdown(source))
    assert_safe_html(markdown.render_note(notes["shizo"], label="<b>label</b>", element_id='note-"x', language="en"))


@pytest.mark.parametrize("run", RUNS)
def test_a_huge_story_renders_to_safe_html_too(run):
    source = run * (20_000 // len(run))
    assert_safe_html(markdown.render_markdown(source, note=_note_renderer({})))


@fuzz(150)
@given(MARKDOWN, st.sets(st.sampled_from(["shizo", "pkt", "missing", "a-b"]), max_size=3))
def test_note_references_give_the_documented_errors_and_nothing_else(source, existing):
    keys = markdown.note_keys(source)
    errors = markdown.note_reference_errors(source, existing)
    assert all(isinstance(error, str) and error for error in errors)
    for key in keys:
        if key not in existing:
            assert any(key in error for error in errors), (key, errors)
    # The admin's validator raises exactly the documented error, with those messages.
    from zbor.campaigns import forms as campaign_forms

    with mock.patch.object(campaign_forms, "existing_note_keys", lambda wanted: set(existing) & set(wanted)):
        if errors:
            with pytest.raises(ValidationError) as caught:
                campaign_forms.validate_note_references(source)
            assert caught.value.messages == errors
        else:
            campaign_forms.validate_note_references(source)
