"""Alerts: open and past alerts, why each fired, and acknowledging, resolving or silencing them."""

from __future__ import annotations

import streamlit as st

from dashboard import data, session, widgets
from dashboard.alert_card import alert_card
from dashboard.safe import escape_markdown

user = session.require_user()
st.title("Alerts")
session.admin_only(user, "alert_actions", "acknowledge, resolve or silence alerts")

open_alerts = data.alert_list(open_only=True)
open_tab, past_tab, silenced_tab = st.tabs(
    [f"Open ({len(open_alerts)})", "Past", "Silenced topics"], key="alerts_tab"
)
with open_tab:
    if not open_alerts:
        st.success("No open alerts.")
    for alert in open_alerts:
        alert_card(alert, user)
with past_tab:
    past = data.alert_list(open_only=False)
    if not past:
        st.caption("No resolved alerts yet.")
    for alert in past:
        alert_card(alert, user)
with silenced_tab:
    now = data.now()
    silenced = [t for t in data.topic_list() if t.silenced_until and t.silenced_until > now]
    if not silenced:
        st.caption("No topic is silenced.")
    for topic in silenced:
        left, right = st.columns([3, 1])
        left.markdown(
            f"**{escape_markdown(topic.name)}** silenced until {widgets.when(topic.silenced_until)}"
        )
        if user.can("alert_actions"):
            right.button(
                "Lift", key=f"unsilence_{topic.id}", on_click=data.silence_topic, args=(user, topic.id, None)
            )
