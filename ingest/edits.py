"""Edits and deletions at the source, as Posts with the original's key and `metadata.event` saying which.

The shape (sentimon.schema names it; the stream processor honours it):
- an edit is the post as it is now, with `metadata.event == "update"` and `metadata.version` (what
  changed at the source: Mastodon's edited_at, the Bluesky record's cid, Reddit's edited time, a digest
  of the HN text);
- a deletion has `metadata.event == "delete"`, the post's source and id (so the same Kafka key),
  the time the source reported it as created_at, and the placeholder text DELETED_TEXT (the schema
  wants a text): it must never be scored as an opinion.
A plain post has no `event` in its metadata. An event may name a post the processor never stored
(filtered here, or sent before its memory): an update or deletion then changes nothing.
Adapters make them; the pipeline sends them with `forward_edits` (the CLI's `--edits`, on by default).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sentimon.schema import DELETE, EVENT, UPDATE, Post

from .text import make_post

DELETED_TEXT = "[deleted]"


def as_update(post: Post, version: Any) -> Post:
    """The post marked as the new version of one already sent under the same key."""
    metadata = {**post.metadata, EVENT: UPDATE, "version": str(version)}
    return post.model_copy(update={"metadata": metadata})


def deletion(source: str, post_id: str, when: datetime | None = None, **metadata: Any) -> Post:
    """The event saying the post (source, post_id) was deleted at the source."""
    return make_post(
        {
            "source": source,
            "id": post_id,
            "text": DELETED_TEXT,
            "created_at": when or datetime.now(UTC),
            "metadata": {**metadata, EVENT: DELETE},
        }
    )


def event_kind(post: Post) -> str | None:
    """'update', 'delete', or None for a new post."""
    return post.event


def dedupe_key(post: Post) -> str:
    """What de-duplication remembers: the key for a post; key, event and version for an edit or
    deletion, so a post's edit is not dropped as a duplicate of the post, nor sent twice."""
    return post.event_key
