"""Showing untrusted text and links safely: nothing a user or a post wrote is rendered as markup,
and no invisible character can reorder or hide what is shown (the stored text stays as it came).

`plain` is the one rule; the others apply it for their medium: `escape_markdown` (Streamlit
markdown: headings, captions, labels), `one_line` (tables), `html_text` (Plotly legends and hover
text, which render an HTML subset), `cli_text` (rich output on the command line)."""

from __future__ import annotations

import html
import re
import string
import unicodedata
from urllib.parse import urlsplit

from rich.text import Text

# Bidirectional controls reorder the text around them ("\u202eexe.gnp" reads "png.exe"): each is
# shown as a visible replacement mark, so the reader sees that something was there.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BIDI_MARK = "\ufffd"
# Joiners shape emoji and some scripts; tag characters spell subdivision flags. Other invisible
# format characters (zero-width spaces, word joiners, BOMs, soft hyphens, …) are dropped.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_LINE_BREAKS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\r": "\n", "\x85": "\n"})


def _shown(ch: str) -> str:
    if ch in BIDI_CONTROLS:
        return BIDI_MARK
    if ch in "\n\t" or ch in _KEPT_FORMAT or "\U000e0020" <= ch <= "\U000e007f":
        return ch
    return "" if unicodedata.category(ch) in ("Cc", "Cf") else ch


def plain(text: object) -> str:
    """Text fit for display anywhere: bidirectional controls made visible, other control and
    invisible format characters removed, every line break a newline."""
    raw = "" if text is None else str(text)
    raw = raw.replace("\r\n", "\n").translate(_LINE_BREAKS)
    if raw.isascii() and raw.isprintable():
        return raw
    return "".join(_shown(ch) for ch in raw)


def html_text(text: object) -> str:
    """For Plotly names and hover text: `plain`, then HTML-escaped (Plotly shows entities as text)."""
    return html.escape(plain(text), quote=True)


def cli_text(text: object, style: str = "") -> Text:
    """For rich tables and messages: a Text is never parsed for markup or :emoji: codes."""
    return Text(plain(text), style=style)


# Every ASCII punctuation character may be backslash-escaped in CommonMark, which turns it into a
# literal. Escaping all of them disables links, images, emphasis, raw HTML (`<`), Streamlit's
# `:color[...]` and `:emoji:` directives and `$math$` in one rule.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
# GFM turns bare URLs, www. names and e-mail addresses into links even when escaped; an invisible
# word joiner inside the trigger stops that without changing what people read.
_AUTOLINK_TRIGGERS = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"


def escape_markdown(text: str) -> str:
    """Text that Streamlit's markdown shows literally (no links, images, markup, directives or
    math); line breaks kept as hard breaks. Post bodies use st.text instead, which parses nothing."""
    escaped = _PUNCTUATION.sub(r"\\\1", _AUTOLINK_TRIGGERS.sub(WORD_JOINER, plain(text)))
    lines = [line.rstrip() for line in escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "  \n".join(line if line else "\u200b" for line in lines)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data: or relative links)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def link_markdown(label: str, url: str | None) -> str:
    """A markdown link with an escaped label, or just the escaped label when the URL is unsafe."""
    target = safe_url(url)
    if target is None:
        return escape_markdown(label)
    target = target.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{escape_markdown(label)}]({target})"


def one_line(text: str, limit: int = 280) -> str:
    """A post squeezed to one line for tables (tables render plain text, never markup)."""
    flat = " ".join(plain(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
