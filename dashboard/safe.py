"""Showing untrusted post text and links safely: nothing from a post is ever rendered as markup."""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

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
    escaped = _PUNCTUATION.sub(r"\\\1", _AUTOLINK_TRIGGERS.sub(WORD_JOINER, text))
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
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
