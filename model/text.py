"""Tweet-aware text normalisation and tokenization (pure Python, no I/O)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 1000  # longer posts are cut before tokenizing: sentiment is decided early, cost stays bounded
MAX_TOKENS = 64

# Special tokens. Markers precede the word they describe so the word itself stays in the vocabulary.
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
URL, USER, NUMBER, HASHTAG = "<url>", "<user>", "<number>", "<hashtag>"
ALLCAPS, ELONG, REPEAT = "<allcaps>", "<elong>", "<repeat>"
SMILE, SAD, LOL, HEART, NEUTRALFACE, KISS = "<smile>", "<sad>", "<lol>", "<heart>", "<neutralface>", "<kiss>"
SPECIALS = (
    PAD,
    UNK,
    BOS,
    EOS,
    URL,
    USER,
    NUMBER,
    HASHTAG,
    ALLCAPS,
    ELONG,
    REPEAT,
    SMILE,
    SAD,
    LOL,
    HEART,
    NEUTRALFACE,
    KISS,
)

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_EYES, _NOSE = r"[:=;8xX]", r"['`\-o^]?"
_EMOTICON_MAP = (
    (re.compile(rf"^(?:{_EYES}{_NOSE}[)\]}}]+|\(+{_NOSE}{_EYES}|\^[_.\-]?\^)$"), SMILE),
    (re.compile(rf"^(?:{_EYES}{_NOSE}[dD]+|x[dD]+|X[dD]+)$"), LOL),
    (re.compile(rf"^(?:{_EYES}'?{_NOSE}[(\[{{]+|[)\]]+{_NOSE}{_EYES}|[:=]'\(|T_T|;_;)$"), SAD),
    (re.compile(rf"^(?:{_EYES}{_NOSE}[|/\\]|-_-)$"), NEUTRALFACE),
    (re.compile(r"^(?:<3+|♥+|❤+)$"), HEART),
    (re.compile(rf"^{_EYES}{_NOSE}[*xX]$"), KISS),
)

_TOKEN = re.compile(
    r"""
    (?P<url>(?:https?://|www\.)\S+)
  | (?P<user>@\w+)
  | (?P<hashtag>\#\w+)
  | (?P<emoticon>
        (?:[:=;8]['`\-o^]?[)\](\[dDpP/\\|*xX{}]+)(?![\w])
      | (?:[(\[]['`\-o^]?[:=;8])(?![\w])
      | <3+ | \^[_.\-]?\^ | -_- | T_T | ;_; | x[dD]\b | X[dD]\b )
  | (?P<number>[+\-]?[$£€]?\d+(?:[.,:/]\d+)*(?:%|k|K|st|nd|rd|th|am|pm|s)?\b)
  | (?P<word>[^\W\d_](?:[\w]|['’](?=\w))*)
  | (?P<punct>(?P<p>[!?.])(?P=p)+|[!?.]+|[^\w\s])
    """,
    re.VERBOSE,
)
_ELONG = re.compile(r"(\w)\1{2,}")
_SKIN_OR_SELECTOR = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_WS = re.compile(r"\s+")


def undo_semeval_escapes(text: str) -> str:
    """Undo the SemEval TSV quirks: JSON-style ``\\uXXXX`` escapes and CSV-style wrapping quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    text = text.replace('\\"', '"')
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return re.sub('"{2,}', '"', text)


def normalize(text: str) -> str:
    """Unicode/HTML clean-up shared by training and serving, so both see the same string."""
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "\\u" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'")
    text = _SKIN_OR_SELECTOR.sub("", text)
    return _WS.sub(" ", text).strip()


def _emoticon_token(tok: str) -> str:
    for pattern, name in _EMOTICON_MAP:
        if pattern.match(tok):
            return name
    return tok


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    """Lower-cased word with its casing / elongation markers (cached: tweets repeat words a lot)."""
    out: list[str] = []
    if len(word) > 2 and word.isupper():
        out.append(ALLCAPS)
    low = word.lower()
    short = _ELONG.sub(r"\1\1", low)
    out.append(short)
    if short != low:
        out.append(ELONG)
    return tuple(out)


def _punct_tokens(tok: str) -> list[str]:
    if len(tok) > 1 and tok[0] in "!?.":
        return [tok[0], REPEAT] if len(set(tok)) == 1 else [ch for ch in dict.fromkeys(tok)] + [REPEAT]
    if tok in "♥❤":
        return [HEART]
    return [tok]


def tokenize(text: str, max_tokens: int = MAX_TOKENS) -> list[str]:
    """Split a post into normalised tokens; never raises, returns [] for empty text."""
    if not text:
        return []
    out: list[str] = []
    for chunk in normalize(text).split(" "):
        if chunk.isalpha() and chunk.lower() != "xd":  # fast path: a plain word, most chunks are
            out.extend(_word_tokens(chunk))
        else:
            _chunk_tokens(chunk, out)
        if len(out) >= max_tokens:
            return out[:max_tokens]
    return out


def _chunk_tokens(chunk: str, out: list[str]) -> None:
    """Regex tokenization of one whitespace-free chunk (no token spans whitespace)."""
    for m in _TOKEN.finditer(chunk):
        kind, tok = m.lastgroup, m.group()
        if kind == "word":
            out.extend(_word_tokens(tok))
        elif kind == "url":
            out.append(URL)
        elif kind == "user":
            out.append(USER)
        elif kind == "hashtag":
            out.append(HASHTAG)
            out.extend(_word_tokens(tok[1:]))
        elif kind == "number":
            out.append(NUMBER)
        elif kind == "emoticon":
            out.append(_emoticon_token(tok))
        else:
            out.extend(_punct_tokens(tok))
