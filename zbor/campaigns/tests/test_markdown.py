"""Story markdown renders to inert, allow-listed HTML; notes are placed where the story says."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zbor.campaigns.markdown import NoteContent, note_keys, note_reference_errors, render_markdown, render_note

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "[click](vbscript:msgbox(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<p onclick="alert(1)">hi</p>',
    "<!-- hidden --> text",
    "<iframe src=https://evil.example></iframe>",
    "![tracker](https://evil.example/pixel.png)",
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"></svg>',
    "[x](<javascript:alert(1)>)",
    "<https://evil.example/auto>",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_comes_out_inert(source):
    html = render_markdown(source)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered
    assert "<iframe" not in lowered
    assert "<style" not in lowered
    assert "<svg" not in lowered
    assert not re.search(r"<a[^>]+href=\"\s*(javascript|vbscript|data):", lowered)
    assert not re.search(r"<[^>]+\son\w+\s*=", lowered)
    assert "<!--" not in html


def test_raw_html_is_shown_as_text_not_markup():
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_ordinary_markdown_keeps_its_formatting_and_links_get_safe_rel():
    html = render_markdown("# Title\n\n**bold** and *it* and [site](https://example.org)\n\n- one\n- two")
    assert "<h2>Title</h2>" in html  # the page owns <h1>
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">site</a>' in html
    assert "<li>one</li>" in html


def test_a_note_line_places_the_note_between_paragraphs():
    shown = []

    def note(key):
        shown.append(key)
        return render_note(
            NoteContent(key, "SHIZO", "A *cell*. <script>x</script>"), label="Fund note", element_id="n1"
        )

    html = render_markdown("Before.\n\n[[note:shizo]]\n\nAfter.", note=note)
    assert shown == ["shizo"]
    assert html.index("Before.") < html.index('<aside class="note" aria-labelledby="n1">') < html.index("After.")
    assert '<p class="note-label" id="n1"><span>Fund note</span> · <dfn>SHIZO</dfn></p>' in html
    assert "<em>cell</em>" in html and "<script" not in html


def test_a_note_line_directly_after_a_paragraph_still_counts():
    assert note_keys("Text line\n[[note:shizo]]\nMore") == ["shizo"]


def test_note_syntax_inside_code_is_not_a_note():
    assert note_keys("```\n[[note:shizo]]\n```\n\n    [[note:other]]") == []


def test_unknown_and_malformed_note_references_are_reported():
    assert note_reference_errors("[[note:shizo]]", {"shizo"}) == []
    assert "no foundation note with the key “missing”" in note_reference_errors("[[note:missing]]", set())[0]
    assert note_reference_errors("[[note:Bad_Key!]]", set())
    assert note_reference_errors("text [[note:shizo]] inline", {"shizo"}) == []  # inline text is just text
    assert note_reference_errors("[[note shizo]]", {"shizo"})  # looks like a note, is not one


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_renders_without_error_and_without_active_content(source):
    html = render_markdown(source, note=lambda key: "")
    lowered = html.lower()
    assert "<script" not in lowered
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", lowered)


def test_a_note_line_inside_a_list_or_quote_is_not_a_note():
    assert note_keys("- [[note:shizo]]\n- item") == []
    assert note_keys("> [[note:shizo]]") == []
    html = render_markdown("- one\n- [[note:shizo]]", note=lambda key: "NOTE")
    assert "NOTE" not in html and html.count("<li>") == 2


def test_a_note_cannot_place_another_note():
    html = render_note(NoteContent("a", "A", "Text\n\n[[note:b]]"), label="L", element_id="n")
    assert "[[note:b]]" in html and "<aside" in html and html.count("<aside") == 1
