"""What a post's text is: HTML, Markdown and Bluesky facets to plain text, truncated to the schema's limit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from sentimon.schema import MAX_TEXT_CHARS, Post

_BLOCK = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
_SKIP = frozenset({"script", "style"})
# Mastodon (and Pleroma/Akkoma) add a "RE: <link>" fallback to quote posts in an element of this
# class; it repeats the quoted post's address, not the author's words.
_SKIP_CLASSES = frozenset({"quote-inline"})
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "source", "area", "col"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\n{3,}")
ELLIPSIS = "…"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[bool] = []  # per open element: does it hide its content?

    def _hidden(self) -> bool:
        return any(self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if not self._hidden():
            self.parts.append("\n" if tag == "br" else "\n\n" if tag in _BLOCK else "")
        if tag not in _VOID:
            self._open.append(tag in _SKIP or bool(classes & _SKIP_CLASSES))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._open:
            self._open.pop()
        if tag in _BLOCK and not self._hidden():
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, paragraphs kept apart."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return _tidy("".join(collector.parts))


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _NEWLINES.sub("\n\n", "\n".join(lines)).strip()


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # Reddit's Markdown has no raw HTML: "<T>" is text a reader sees, not a tag.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def markdown_to_text(source: str | None) -> str:
    """What a reader sees of a Markdown text (Reddit): emphasis and link syntax dropped, link text
    and code kept verbatim, entities decoded, one blank line between blocks."""
    if not source or not source.strip():
        return ""
    blocks: list[str] = []
    for token in _markdown().parse(source):
        if token.type == "inline":
            blocks.append(_inline_text(token.children or []))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    text = "\n\n".join(block for block in blocks if block.strip())
    return text.replace(">!", "").replace("!<", "").strip()  # Reddit spoilers: >!hidden!<


def _inline_text(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
    return "".join(parts)


def plain(text: str | None) -> str:
    """A plain-text field that may still carry HTML entities (titles, old Reddit texts)."""
    return html.unescape(text or "").strip()


def facet_text(text: str, facets: Any) -> tuple[str, dict[str, list[str]]]:
    """A Bluesky post's text with shortened link labels replaced by their full address, and the
    links, mentions and tags its facets name. Facet ranges count UTF-8 bytes, not characters."""
    found: dict[str, list[str]] = {"links": [], "mentions": [], "tags": []}
    data = text.encode("utf-8")
    replacements: list[tuple[int, int, bytes]] = []
    for start, end, feature in _facet_features(facets, len(data)):
        kind = str(feature.get("$type", "")).rsplit("#", 1)[-1]
        if kind == "link" and isinstance(feature.get("uri"), str):
            found["links"].append(feature["uri"])
            label = data[start:end].decode("utf-8", errors="replace")
            if label.endswith(("...", ELLIPSIS)):
                replacements.append((start, end, feature["uri"].encode()))
        elif kind == "mention" and isinstance(feature.get("did"), str):
            found["mentions"].append(feature["did"])
        elif kind == "tag" and isinstance(feature.get("tag"), str):
            found["tags"].append(feature["tag"])
    for start, end, full in sorted(replacements, reverse=True):
        data = data[:start] + full + data[end:]
    return data.decode("utf-8", errors="replace"), {k: v for k, v in found.items() if v}


def _facet_features(facets: Any, size: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(byteStart, byteEnd, feature) of each well-formed facet; the relay does not validate them."""
    if not isinstance(facets, list):
        return
    for facet in facets:
        index = facet.get("index") if isinstance(facet, dict) else None
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(index, dict) or not isinstance(features, list):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size):
            continue
        for feature in features:
            if isinstance(feature, dict):
                yield start, end, feature


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """The text cut to `limit` characters (at a word break when one is near, ending in '…'), and
    whether it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ", len(head) - 200)
    if space > 0:
        head = head[:space]
    return head.rstrip() + ELLIPSIS, True


def make_post(fields: dict[str, Any]) -> Post:
    """A Post from an adapter's fields; a text over the schema's limit is truncated, never refused,
    and the metadata says so (`truncated: true`, `text_chars`: the original length)."""
    text = fields.get("text")
    if isinstance(text, str):
        cut, truncated = truncate(text)
        if truncated:
            metadata = {**(fields.get("metadata") or {}), "truncated": True, "text_chars": len(text.strip())}
            fields = {**fields, "text": cut, "metadata": metadata}
    return Post.from_dict(fields)
