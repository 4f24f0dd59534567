"""Untrusted text and links: markdown escaping that shows text literally, and link filtering."""

from __future__ import annotations

import pytest

from dashboard.safe import (
    WORD_JOINER,
    cli_text,
    escape_markdown,
    html_text,
    link_markdown,
    one_line,
    plain,
    safe_url,
)


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


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\u202eexe.gnp\u202c", "\ufffdexe.gnp\ufffd"),  # right-to-left override: in logical order, marked
        ("a\u2066b\u2069c\u200fd", "a\ufffdb\ufffdc\ufffdd"),
        ("zero\u200bwidth\ufeff\u2060joined\u00ad", "zerowidthjoined"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("one\r\ntwo\u2028three\rfour", "one\ntwo\nthree\nfour"),
        ("family 👨\u200d👩\u200d👧 flag 🏴\U000e0067\U000e0062\U000e007f", None),  # joiners and tags kept
        ("plain ascii, tabs\tand\nlines", None),
    ],
)
def test_plain_neutralises_invisible_and_reordering_characters(text: str, shown: str | None) -> None:
    assert plain(text) == (text if shown is None else shown)


def test_every_medium_applies_plain() -> None:
    hostile = "\u202e<a href='x'>[b]</a> :smile:"
    assert "\u202e" not in escape_markdown(hostile) and "\u202e" not in one_line(hostile)
    assert html_text(hostile) == "\ufffd&lt;a href=&#x27;x&#x27;&gt;[b]&lt;/a&gt; :smile:"
    rendered = cli_text("[bold]x[/] :smile:")
    assert rendered.plain == "[bold]x[/] :smile:" and not rendered.spans


def test_rich_prints_names_as_written() -> None:
    from rich.console import Console

    console = Console(record=True, width=80)
    console.print(cli_text("[lnk]x[/lnk] :smile: \u202enimda"))
    assert console.export_text().strip() == "[lnk]x[/lnk] :smile: \ufffdnimda"


def test_alert_figures_are_shown_plain_all_the_way_down() -> None:
    from dashboard.alert_card import _shown

    assert _shown({"k\u202e": ["x\u202ey", 1, {"z": "\u200bq"}]}) == {"k\ufffd": ["x\ufffdy", 1, {"z": "q"}]}
