"""Match posts against every topic at once: one Aho–Corasick pass, then each candidate rule's tree."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from stream_processor.rules import Node, RuleError, evaluate, normalize, parse, terms

_SIGILS = "#$@"
_HANDLE_JOINERS = ".-@"


@lru_cache(maxsize=4096)
def is_word_char(ch: str) -> bool:
    """Letters, digits, underscore and combining marks continue a word (Unicode-aware)."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc")


@lru_cache(maxsize=4096)
def _unspaced(ch: str) -> bool:
    """Scripts written without spaces (CJK, kana, Thai): there a term may sit inside a run of text."""
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x0E00 <= code <= 0x0E7F
        or 0x20000 <= code <= 0x2FA1F
    )


@dataclass(frozen=True, slots=True)
class _Pattern:
    index: int
    length: int
    check_left: bool
    check_right: bool
    handle: bool


def _describe(pattern: str, index: int) -> _Pattern:
    first, last = pattern[0], pattern[-1]
    check_left = (is_word_char(first) or first in _SIGILS) and not _unspaced(first)
    check_right = is_word_char(last) and not _unspaced(last)
    return _Pattern(index, len(pattern), check_left, check_right, first == "@")


def _bounded(text: str, start: int, end: int, spec: _Pattern) -> bool:
    """Whether text[start:end+1] stands on word boundaries, so 'acme' does not match 'acmeco'."""
    if spec.check_left and start > 0 and is_word_char(text[start - 1]):
        return False
    if spec.check_right and end + 1 < len(text):
        nxt = text[end + 1]
        if is_word_char(nxt):
            return False
        # @alice must not match @alice.bsky.social or @alice@mastodon.social.
        if spec.handle and nxt in _HANDLE_JOINERS and end + 2 < len(text) and is_word_char(text[end + 2]):
            return False
    return True


@dataclass
class TopicMatcher:
    """All topics' rules compiled into one automaton; `errors` holds the rules that did not parse."""

    rules: dict[int, Node] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._patterns: list[str] = []
        self._topics_of: list[list[int]] = []
        index_of: dict[str, int] = {}
        for topic_id, tree in sorted(self.rules.items()):
            for term in terms(tree):
                idx = index_of.get(term.pattern)
                if idx is None:
                    idx = index_of[term.pattern] = len(self._patterns)
                    self._patterns.append(term.pattern)
                    self._topics_of.append([])
                if topic_id not in self._topics_of[idx]:
                    self._topics_of[idx].append(topic_id)
        self._index_of = index_of
        self._automaton: ahocorasick.Automaton | None = None
        if self._patterns:
            automaton = ahocorasick.Automaton()
            for idx, pattern in enumerate(self._patterns):
                automaton.add_word(pattern, _describe(pattern, idx))
            automaton.make_automaton()
            self._automaton = automaton

    @classmethod
    def from_rules(cls, rules: Mapping[int, str] | Iterable[tuple[int, str]]) -> TopicMatcher:
        """Compile (topic id, rule text) pairs; a bad rule is skipped and reported in `errors`."""
        items = rules.items() if isinstance(rules, Mapping) else rules
        parsed: dict[int, Node] = {}
        errors: dict[int, str] = {}
        for topic_id, text in items:
            try:
                parsed[topic_id] = parse(text)
            except RuleError as exc:
                errors[topic_id] = str(exc)
        return cls(parsed, errors)

    @property
    def topic_ids(self) -> list[int]:
        return sorted(self.rules)

    @property
    def pattern_count(self) -> int:
        return len(self._patterns)

    def found(self, text: str) -> set[str]:
        """The normalized patterns that occur in the text on word boundaries."""
        if self._automaton is None:
            return set()
        norm = normalize(text)
        hits: set[str] = set()
        for end, spec in self._automaton.iter(norm):
            start = end - spec.length + 1
            if _bounded(norm, start, end, spec):
                hits.add(self._patterns[spec.index])
        return hits

    def match(self, text: str) -> list[int]:
        """Ids of the topics whose rule the text satisfies, ascending."""
        hits = self.found(text)
        if not hits:
            return []
        candidates = {t for p in hits for t in self._topics_of[self._index_of[p]]}
        return sorted(t for t in candidates if evaluate(self.rules[t], hits))
