"""One alert as a card: what happened, why, the posts behind it, and the actions an admin can take."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from dashboard import data, widgets
from dashboard.auth import User
from dashboard.safe import escape_markdown, link_markdown, plain
from dashboard.trends import pct
from sentimon.storage.alerts import ACKNOWLEDGED, RESOLVED, Alert
from stream_processor.alerting.explain import headline as headline_text
from stream_processor.alerting.explain import term_list

SEVERITY_COLORS = {"critical": "red", "major": "orange", "minor": "blue"}
SILENCE_CHOICES = {"30 minutes": 30, "1 hour": 60, "4 hours": 240, "1 day": 1440}


def headline(a: Alert) -> str:
    color = SEVERITY_COLORS.get(a.severity, "gray")
    kind = a.kind.replace("_", " ")
    badge = f":{color}-badge[{a.severity}]"
    return f"**{escape_markdown(a.topic_name)}** · {escape_markdown(kind)} · {badge} · {a.state}"


def facts(a: Alert) -> str:
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


def explanation(a: Alert) -> None:
    """The detector's reasons: a headline, the terms driving it, the posts behind it, the figures."""
    details = a.explanation
    now = {"share_now": a.share_now, "baseline": a.baseline, "volume": a.volume}
    st.markdown(escape_markdown(headline_text(a.topic_name, {**details, **now})))
    terms = [
        {**t, "term": escape_markdown(str(t["term"]))}
        for t in details.get("terms") or []
        if isinstance(t, dict) and t.get("term")
    ]
    if terms:
        st.markdown("Terms driving it: " + term_list(terms[:8], markdown=True))
    with st.expander("Posts behind it"):
        quoted = [p for p in details.get("posts") or [] if isinstance(p, dict) and p.get("text")]
        for post in quoted:
            with st.container(border=True):
                st.text(plain(post["text"]))
                st.caption(
                    f"negative {float(post.get('p_neg', 0)):.0%} · "
                    + link_markdown("source", post.get("url"))
                )
        if not quoted:
            start = a.window_start - timedelta(minutes=10)
            found = data.top_posts(a.topic_id, start, a.window_start + timedelta(minutes=2), "negative")
            widgets.stored_posts(found, "No stored posts around this window.")
    figures = {k: v for k, v in details.items() if k not in ("terms", "posts")}
    if figures:
        with st.expander("Figures"):
            st.json(_shown(figures), expanded=True)


def _shown(value: Any) -> Any:
    """The figures as shown: every string through `plain` (the JSON viewer parses no markup, but
    invisible characters would still reorder it)."""
    if isinstance(value, dict):
        return {plain(k): _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return plain(value) if isinstance(value, str) else value


def alert_card(a: Alert, user: User) -> None:
    with st.container(border=True, key=f"alert-{a.id}"):
        st.markdown(headline(a))
        st.caption(facts(a))
        explanation(a)
        if a.state != RESOLVED and user.can("alert_actions"):
            actions(a, user)


def _acknowledge(user: User, alert_id: int) -> None:
    data.acknowledge_alert(user, alert_id)  # whether it changed anything shows on the next run


def _resolve(user: User, alert_id: int) -> None:
    data.resolve_alert(user, alert_id)


def actions(a: Alert, user: User) -> None:
    ack, resolve, silence = st.columns(3)
    if a.state != ACKNOWLEDGED:
        ack.button("Acknowledge", key=f"ack_{a.id}", on_click=_acknowledge, args=(user, a.id))
    resolve.button("Resolve", key=f"resolve_{a.id}", on_click=_resolve, args=(user, a.id))
    with silence.popover("Silence topic…"):
        choice = st.radio("For", list(SILENCE_CHOICES), key=f"silence_for_{a.id}", horizontal=True)
        st.button(
            "Silence",
            key=f"silence_{a.id}",
            on_click=data.silence_topic,
            args=(user, a.topic_id, SILENCE_CHOICES[choice]),
        )
