"""One alert as a card: what happened, why, the posts behind it, and the actions an admin can take."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from dashboard import data, widgets
from dashboard.auth import User
from dashboard.safe import escape_markdown
from dashboard.trends import pct
from sentimon.storage.alerts import ACKNOWLEDGED, RESOLVED, Alert

SEVERITY_COLORS = {"critical": "red", "major": "orange", "minor": "blue"}
SILENCE_CHOICES = {"30 minutes": 30, "1 hour": 60, "4 hours": 240, "1 day": 1440}


def headline(a: Alert) -> str:
    color = SEVERITY_COLORS.get(a.severity, "gray")
    kind = a.kind.replace("_", " ")
    badge = f":{color}-badge[{a.severity}]"
    return f"**{escape_markdown(a.topic_name)}** · {escape_markdown(kind)} · {badge} · {a.state}"


def numbers(a: Alert) -> str:
    parts = []
    if a.share_now is not None:
        base = f" against a usual {pct(a.baseline)}" if a.baseline is not None else ""
        parts.append(f"negative share {pct(a.share_now)}{base}")
    if a.volume is not None:
        parts.append(f"{a.volume} posts in the minute")
    parts.append(f"window {widgets.when(a.window_start)}")
    parts.append(f"opened {widgets.ago(a.opened_at)}")
    if a.acked_by:
        parts.append(f"acknowledged by {escape_markdown(a.acked_by)} {widgets.ago(a.acked_at)}")
    if a.resolved_at:
        who = f" by {escape_markdown(a.resolved_by)}" if a.resolved_by else ""
        parts.append(f"resolved{who} {widgets.ago(a.resolved_at)}")
    return " · ".join(parts)


def explanation(details: dict[str, Any]) -> None:
    """The detector's reasons: its summary in words, the rest as data (never rendered as markup)."""
    summary = details.get("summary") or details.get("text")
    if isinstance(summary, str):
        st.markdown(escape_markdown(summary))
    rest = {k: v for k, v in details.items() if k not in ("summary", "text")}
    if rest:
        with st.expander("Details"):
            st.json(rest, expanded=1)


def alert_card(a: Alert, user: User) -> None:
    with st.container(border=True, key=f"alert-{a.id}"):
        st.markdown(headline(a))
        st.caption(numbers(a))
        explanation(a.explanation)
        with st.expander("Posts behind it"):
            found = data.top_posts(
                a.topic_id,
                a.window_start - timedelta(minutes=10),
                a.window_start + timedelta(minutes=2),
                "negative",
            )
            if not found:
                st.caption("No stored posts around this window.")
            for post in found:
                widgets.stored_post(post)
        if a.state != RESOLVED and user.can("alert_actions"):
            actions(a, user)


def actions(a: Alert, user: User) -> None:
    ack, resolve, silence = st.columns(3)
    if a.state != ACKNOWLEDGED:
        ack.button("Acknowledge", key=f"ack_{a.id}", on_click=data.acknowledge_alert, args=(user, a.id))
    resolve.button("Resolve", key=f"resolve_{a.id}", on_click=data.resolve_alert, args=(user, a.id))
    with silence.popover("Silence topic…"):
        choice = st.radio("For", list(SILENCE_CHOICES), key=f"silence_for_{a.id}", horizontal=True)
        st.button(
            "Silence",
            key=f"silence_{a.id}",
            on_click=data.silence_topic,
            args=(user, a.topic_id, SILENCE_CHOICES[choice]),
        )
