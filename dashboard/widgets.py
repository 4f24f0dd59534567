"""Pieces several pages draw: a topic tile, a post card (always escaped), small formatters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import streamlit as st

from dashboard.safe import escape_markdown, link_markdown, plain
from dashboard.trends import Tile, pct
from sentimon.sentiment import LABELS
from sentimon.storage.posts import PostRow

LABEL_COLORS = {"negative": "red", "neutral": "gray", "positive": "green"}
# Why a label can differ from the largest probability: the model labels by probability over the
# class's share of its calibration set (the rule that balances recall), so a rarer class wins ties.
LABEL_RULE_NOTE = ":gray[label weighs each probability by how rare its class is]"


def ago(t: datetime | None, now: datetime | None = None) -> str:
    """'3 min ago'-style age of a timestamp."""
    if t is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - t).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def when(t: datetime | None) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if t else "—"


def tile_badges(t: Tile) -> str:
    """A tile's state badges, on their own line under the title (beside it they wrap a long name)."""
    badges = [] if t.active else [":gray-badge[paused]"]
    if t.open_alerts:
        badges.append(f":red-badge[{t.open_alerts} open alert{'s' if t.open_alerts > 1 else ''}]")
    return " ".join(badges)


def tile(t: Tile) -> None:
    """One topic on the overview: shares now with their 90% interval, sparkline, volume, change
    against the usual, alerts. Shares are corrected for the topic's own mix (sentimon.quantify)."""
    est = t.current
    change = t.neg_change
    with st.container(border=True, key=f"tile-{t.topic_id}"):
        st.markdown(f"#### {escape_markdown(t.name)}")
        badges = tile_badges(t)
        if badges:
            st.markdown(badges)
        delta: str | None = None
        color: Literal["inverse", "off"] = "inverse"
        arrow: Literal["auto", "off"] = "auto"
        if change is not None:
            moved = abs(change) >= 0.005
            delta = f"{100 * change:+.0f} pts vs 24 h" if moved else "as usual (24 h)"
            color = "inverse" if moved else "off"
            arrow = "auto" if moved else "off"
        known = est.n > 0 and not est.too_few
        st.metric(
            "Negative share (15 min)",
            pct(est.negative) if known else "—",
            delta=delta,
            delta_color=color,
            delta_arrow=arrow,
            chart_data=t.spark or None,
            chart_type="area",
            help=(
                "Share of negative posts in the last 15 minutes, corrected for this topic's own mix "
                f"({est.method.upper()}, from the model's error rates); the line: the last hour, per minute. "
                "The 90% interval counts how much those error rates differ between the labelled sets they "
                "were measured on, not only how many posts there are; statistics refitted on labelled "
                "posts of this stream alone (`sentimon model calibrate --val-data`) narrow it."
            ),
        )
        if not est.n:
            st.markdown("No posts in the last 15 minutes")
        elif not known:
            st.markdown(f"Too few posts to tell ({est.n} in 15 min)")
        else:
            st.markdown(
                f"90% interval **{pct(est.negative_low)}–{pct(est.negative_high)}**  \n"
                f"Neutral **{pct(est.neutral)}** · Positive **{pct(est.positive)}**"
            )
        if t.spark:
            st.caption(f"Last hour: {min(t.spark):.0f}–{max(t.spark):.0f}% negative per minute")
        st.markdown(f"Volume (15 min): **{est.n}** · last post {ago(t.last_window)}")
        st.page_link("views/topic_detail.py", label="Details", query_params={"topic": str(t.topic_id)})


def post_card(
    text: str,
    label: str,
    probs: tuple[float, float, float],
    *,
    source: str,
    url: str | None = None,
    author: str | None = None,
    created_at: datetime | None = None,
) -> None:
    """A post: its text shown literally, the model's verdict, author, time and a link to the source."""
    with st.container(border=True):
        st.text(plain(text))  # nothing in a post is parsed as markdown or HTML, or reordered
        parts = [f":{LABEL_COLORS.get(label, 'gray')}[**{label}**]"]
        parts.append(" / ".join(f"{name[:3]} {p:.0%}" for name, p in zip(LABELS, probs, strict=True)))
        if label in LABELS and probs[LABELS.index(label)] < max(probs):
            parts.append(LABEL_RULE_NOTE)
        if author:
            parts.append(escape_markdown(f"by {author}"))
        if created_at:
            parts.append(ago(created_at))
        parts.append(link_markdown(f"source: {source}", url))
        st.caption(" · ".join(parts))


def stored_posts(found: list[tuple[PostRow, int]], none: str) -> None:
    """Posts from the store as cards, each near-duplicate group once with its count; `none` when empty."""
    if not found:
        st.caption(none)
    for post, similar in found:
        stored_post(post)
        if similar > 1:
            st.caption(f"and {similar - 1} more like it")


def table_or(rows: list[dict[str, object]], none: str, key: str) -> None:
    """Rows as a table, or one line saying there are none yet."""
    if rows:
        st.dataframe(rows, hide_index=True, key=key)
    else:
        st.caption(none)


def stored_post(post: PostRow) -> None:
    """A post from the store, as a card."""
    post_card(
        post.text,
        post.label,
        (post.p_neg, post.p_neu, post.p_pos),
        source=post.source,
        url=post.url,
        author=post.author,
        created_at=post.created_at,
    )
