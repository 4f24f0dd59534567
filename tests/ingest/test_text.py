"""What a post's text is: HTML, Markdown and Bluesky facets to plain text, truncation with its flag."""

from __future__ import annotations

import pytest

from ingest.edits import DELETED_TEXT, as_update, dedupe_key, deletion, event_kind
from ingest.text import ELLIPSIS, facet_text, html_to_text, make_post, markdown_to_text, plain, truncate
from sentimon.schema import MAX_TEXT_CHARS, Post


def test_html_keeps_paragraphs_and_decodes_entities():
    assert html_to_text("<p>Great &amp; fast!</p><p>Line<br>two</p>") == "Great & fast!\n\nLine\ntwo"
    assert html_to_text("<script>x()</script>plain") == "plain"
    assert html_to_text(None) == ""


def test_html_drops_the_quote_post_fallback_but_keeps_split_links_whole():
    mastodon = (
        '<p>Hot take.</p><p class="quote-inline">RE: <a href="https://o.example/@b/1">o.example/@b/1</a></p>'
    )
    assert html_to_text(mastodon) == "Hot take."
    akkoma = 'Agreed<span class="quote-inline"><br/><br/>RE: https://o.example/notice/2</span> fully'
    assert html_to_text(akkoma) == "Agreed fully"
    link = (
        '<a><span class="invisible">https://</span><span class="ellipsis">x.example/lo</span>'
        '<span class="invisible">ng</span></a>'
    )
    assert html_to_text(link) == "https://x.example/long"


def test_markdown_keeps_what_a_reader_sees():
    source = (
        "Why **five** tools &amp; [a guide](https://g.example)?\n\n```\nx  =  1\ny = 2\n```\n\n* one\n* `two`"
    )
    assert markdown_to_text(source) == "Why five tools & a guide?\n\nx  =  1\ny = 2\n\none\n\ntwo"
    assert markdown_to_text("> quoted\n\nmine >!spoiler!<") == "quoted\n\nmine spoiler"
    assert markdown_to_text("a\\_b \\*not bold\\*") == "a_b *not bold*"  # escapes undone
    assert markdown_to_text("   ") == "" and markdown_to_text(None) == ""


def test_markdown_is_not_read_as_html():
    # the HTML stripper would have eaten "<T>" and everything after it up to the next ">"
    assert markdown_to_text("Generic List<T> is fine, a > b") == "Generic List<T> is fine, a > b"


def test_plain_fields_are_entity_decoded():
    assert plain(" C++ &amp; Rust &quot;interop&quot; ") == 'C++ & Rust "interop"'


def test_facets_expand_shortened_links_counting_utf8_bytes():
    text = "Wow 🎉 see example.com/a-long-pa... #tag"
    data = text.encode()
    start = data.index(b"example")
    facets = [
        {"index": {"byteStart": start, "byteEnd": start + len(b"example.com/a-long-pa...")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a-long-page"}]},
        {"index": {"byteStart": len(data) - 4, "byteEnd": len(data)},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "tag"}]},
        {"index": {"byteStart": 3, "byteEnd": 999}, "features": [{"$type": "x#link", "uri": "bad"}]},
        "junk",
    ]  # fmt: skip
    out, found = facet_text(text, facets)
    assert out == "Wow 🎉 see https://example.com/a-long-page #tag"
    assert found == {"links": ["https://example.com/a-long-page"], "tags": ["tag"]}
    assert facet_text("no facets", None) == ("no facets", {})


def test_long_texts_are_cut_at_the_limit_on_a_word_break():
    text, cut = truncate("word " * 5000)
    assert cut and len(text) <= MAX_TEXT_CHARS and text.endswith("word" + ELLIPSIS)
    assert truncate("short ") == ("short", False)
    unbroken, cut = truncate("x" * 20_000)
    assert cut and len(unbroken) == MAX_TEXT_CHARS


def test_make_post_truncates_instead_of_refusing_and_says_so():
    post = make_post({"source": "t", "id": "1", "text": "é" * 12_000, "metadata": {"k": 1}})
    assert len(post.text) == MAX_TEXT_CHARS
    assert post.metadata == {"k": 1, "truncated": True, "text_chars": 12_000}
    assert "truncated" not in make_post({"source": "t", "id": "2", "text": "fine"}).metadata


def test_edit_and_delete_events_keep_the_key_and_dedupe_apart():
    post = Post(source="mastodon", id="https://m.example/1", text="edited text")
    edit = as_update(post, "2024-12-01T10:00:00Z")
    gone = deletion("mastodon", "https://m.example/1", status_id="1")
    assert edit.key == gone.key == post.key
    assert (event_kind(post), event_kind(edit), event_kind(gone)) == (None, "update", "delete")
    assert gone.text == DELETED_TEXT and gone.metadata["status_id"] == "1"
    keys = {dedupe_key(post), dedupe_key(edit), dedupe_key(gone), dedupe_key(as_update(post, "v2"))}
    assert len(keys) == 4 and dedupe_key(post) == post.key


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_markup_is_empty_text(value: str | None):
    assert html_to_text(value) == markdown_to_text(value) == ""
