"""What happens to each post before it is produced: de-duplication and pre-filters, free of I/O."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sentimon.schema import Post

from .edits import UPDATE, dedupe_key, event_kind

log = logging.getLogger(__name__)


class Deduper:
    """Remembers the most recent `capacity` post keys (LRU), so memory stays bounded."""

    def __init__(self, capacity: int = 100_000, keys: Iterable[str] = ()):
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()
        for key in keys:
            self.add(key)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)

    def check_and_add(self, key: str) -> bool:
        """True when the key was seen before (a duplicate); remembers it either way."""
        seen = key in self._keys
        self.add(key)
        return seen


class KeywordFilter:
    """Keeps posts mentioning any keyword: case-insensitive, whole words, '#tag' and phrases allowed."""

    def __init__(self, keywords: Iterable[str] = ()):
        self.keywords = [k.strip() for k in keywords if k and k.strip()]
        if self.keywords:
            alternatives = "|".join(re.escape(k) for k in sorted(self.keywords, key=len, reverse=True))
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![\w#@])(?:{alternatives})(?!\w)", re.IGNORECASE
            )
        else:
            self._pattern = None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def matches(self, text: str) -> bool:
        return self._pattern is None or self._pattern.search(text) is not None


def lang_matches(post: Post, langs: frozenset[str]) -> bool:
    """True when the post is in one of `langs` (primary subtag: 'en' matches 'en-US').

    A post of unknown language is dropped when a filter is set: the user asked for these languages.
    """
    if not langs:
        return True
    declared = post.metadata.get("langs") or ([post.lang] if post.lang else [])
    return any(str(tag).split("-")[0].lower() in langs for tag in declared)


@dataclass(slots=True)
class IngestStats:
    """Counters a person reads at the end of a run or in the metrics line."""

    received: int = 0
    sent: int = 0
    duplicates: int = 0
    filtered: int = 0
    malformed: int = 0
    reposts: int = 0
    updates: int = 0
    deletes: int = 0
    edits_skipped: int = 0
    reconnects: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class Pipeline:
    """The decision for each post: send it, or count why not.

    Edits and deletions (see edits.py) follow the post they change: they pass when that post was
    sent (whatever the keyword and language filters say of the new text), and only with
    `forward_edits`; otherwise they are counted as `edits_skipped` and logged.
    """

    deduper: Deduper
    keywords: KeywordFilter
    langs: frozenset[str] = frozenset()
    forward_edits: bool = False

    def admit(self, post: Post, stats: IngestStats) -> bool:
        stats.received += 1
        kind = event_kind(post)
        if kind is not None:
            return self._admit_edit(post, kind, stats)
        if not self.keywords.matches(post.text) or not lang_matches(post, self.langs):
            stats.filtered += 1
            return False
        if self.deduper.check_and_add(post.key):
            stats.duplicates += 1
            return False
        return True

    def _admit_edit(self, post: Post, kind: str, stats: IngestStats) -> bool:
        """Each edit or deletion of a post sent before (its key is remembered), once: a firehose
        reports the deletions of the whole network, a polled source sees a change on every poll."""
        if post.key not in self.deduper:
            stats.filtered += 1
            return False
        if self.deduper.check_and_add(dedupe_key(post)):
            stats.duplicates += 1
            return False
        if not self.forward_edits:
            stats.edits_skipped += 1
            log.info("%s: skipped the %s of %s (edits are not forwarded)", post.source, kind, post.key)
            return False
        if kind == UPDATE:
            stats.updates += 1
        else:
            stats.deletes += 1
        return True


def make_pipeline(
    keywords: Iterable[str] = (),
    langs: Iterable[str] = (),
    recent_keys: Iterable[str] = (),
    forward_edits: bool = False,
) -> Pipeline:
    return Pipeline(
        deduper=Deduper(keys=recent_keys),
        keywords=KeywordFilter(keywords),
        langs=frozenset(lang.split("-")[0].lower() for lang in langs if lang),
        forward_edits=forward_edits,
    )
