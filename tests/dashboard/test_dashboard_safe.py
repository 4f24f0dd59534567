"""Untrusted text and links: markdown escaping that shows text literally, and link filtering."""

from __future__ import annotations

import pytest

from dashboard.safe import WORD_JOINER, escape_markdown, link_markdown, one_line, safe_url


@pytest.mark.parametrize(
    "text",
    [
        "**bold**",
        "[x](https://e.example)",
        "![p](https://e.example/p.png)",
        "<img src=x onerror=1>",
        ":red[alarm]",
        "$x^2$",
        "# heading",
        "a_b_c",
        "`code`",
        "> quote",
        "1. item",
        "| a | b |",
    ],
)
def test_every_markdown_trigger_is_escaped(text: str) -> None:
    escaped = escape_markdown(text)
    unescaped = [ch for i, ch in enumerate(escaped) if ch in "*[]()!<>:$#_`|." and escaped[i - 1] != "\\"]
    assert unescaped == []
    assert escaped.replace("\\", "").replace(WORD_JOINER, "") == text.replace("\\", "")


def test_bare_urls_and_addresses_cannot_become_links() -> None:
    escaped = escape_markdown("see https://e.example, www.e.example or a@e.example")
    assert "://" not in escaped.replace("\\", "")
    assert "www\\." not in escaped and "@e" not in escaped


def test_line_breaks_are_kept_as_hard_breaks() -> None:
    assert escape_markdown("one\ntwo") == "one  \ntwo"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://bsky.app/post/1", True),
        ("http://e.example/a?b=c", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,x", False),
        ("/relative", False),
        ("", False),
        (None, False),
        ("https://", False),
        ("https://e.example/a b", False),
    ],
)
def test_only_plain_web_links_are_linked(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_links_escape_their_label_and_encode_parentheses() -> None:
    assert link_markdown("*x*", "https://e.example/a_(b)") == "[\\*x\\*](https://e.example/a_%28b%29)"
    assert link_markdown("src", "javascript:alert(1)") == "src"


def test_one_line_flattens_and_shortens() -> None:
    assert one_line("a\n\n b  c") == "a b c"
    assert one_line("x" * 300, 10) == "x" * 9 + "…"
