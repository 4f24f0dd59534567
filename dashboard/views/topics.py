"""Topics: create, edit, pause and delete topics, with rule checks and a preview of what they match."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.exc import IntegrityError

from dashboard import data, session, widgets
from dashboard.safe import escape_markdown, plain
from dashboard.topic_editor import RULE_HELP, alert_fields, name_problem, rule_check

user = session.require_user()
st.title("Topics")
all_topics = data.topic_list()
flash = st.session_state.pop("topics_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])

st.dataframe(
    [
        {
            "name": plain(t.name),
            "rule": plain(t.rule),
            "status": "active" if t.active else "paused",
            "alerts": "on" if t.alert_config.get("enabled", True) else "off",
            "silenced until": widgets.when(t.silenced_until) if t.silenced_until else "",
        }
        for t in all_topics
    ],
    hide_index=True,
    key="topics_table",
)

if not session.admin_only(user, "edit_topics", "add or change topics"):
    st.stop()


def _create(config: dict[str, Any]) -> None:
    state = st.session_state
    try:
        data.create_topic(user, state.new_name, state.new_rule, config)
    except IntegrityError:
        state.topics_flash = (
            "error",
            f"There is already a topic called “{escape_markdown(state.new_name.strip())}”.",
        )
        return
    state.topics_flash = ("ok", f"Topic “{escape_markdown(state.new_name.strip())}” created.")
    state.new_name = state.new_rule = ""


def _save(topic_id: int, config: dict[str, Any]) -> None:
    state = st.session_state
    name, rule = state[f"edit_name_{topic_id}"], state[f"edit_rule_{topic_id}"]
    try:
        data.update_topic(user, topic_id, name=name.strip(), rule=rule.strip(), alert_config=config)
    except IntegrityError:
        state.topics_flash = ("error", f"There is already a topic called “{escape_markdown(name.strip())}”.")
        return
    state.topics_flash = ("ok", f"Topic “{escape_markdown(name.strip())}” saved.")


new_tab, edit_tab = st.tabs(["New topic", "Edit a topic"], key="topics_tab")
with new_tab:
    name = st.text_input("Name", key="new_name", max_chars=100)
    rule = st.text_input("Rule", key="new_rule", placeholder='acme OR "acme corp" -hiring', help=RULE_HELP)
    problem = name_problem(name, {t.name.casefold() for t in all_topics}) if name else None
    if problem:
        st.error(problem)
    rule_ok = rule_check(rule, "new")
    with st.expander("Alert settings"):
        config, config_problem = alert_fields("new", {})
    if config_problem:
        st.error(config_problem)
    ready = bool(name.strip()) and not problem and rule_ok and config is not None
    st.button(
        "Create topic", type="primary", disabled=not ready, on_click=_create, args=(config,), key="create"
    )

with edit_tab:
    if not all_topics:
        st.info("No topics yet.")
        st.stop()
    by_id = {t.id: t for t in all_topics}
    topic = by_id[
        st.selectbox("Topic", list(by_id), format_func=lambda i: plain(by_id[i].name), key="edit_pick")
    ]
    tid = topic.id
    name = st.text_input("Name", topic.name, key=f"edit_name_{tid}", max_chars=100)
    rule = st.text_input("Rule", topic.rule, key=f"edit_rule_{tid}", help=RULE_HELP)
    others = {t.name.casefold() for t in all_topics if t.id != tid}
    problem = name_problem(name, others)
    if problem:
        st.error(problem)
    rule_ok = rule_check(rule, f"edit_{tid}")
    with st.expander("Alert settings", expanded=False):
        config, config_problem = alert_fields(f"edit_{tid}", topic.alert_config)
    if config_problem:
        st.error(config_problem)
    save, pause, delete = st.columns(3)
    save.button(
        "Save changes",
        type="primary",
        disabled=bool(problem) or not rule_ok or config is None,
        on_click=_save,
        args=(tid, config),
        key=f"save_{tid}",
    )
    pause.button(
        "Resume" if not topic.active else "Pause",
        key=f"pause_{tid}",
        on_click=lambda: data.update_topic(user, tid, active=not topic.active),
    )
    with delete.popover("Delete…"):
        st.warning("Deleting a topic also deletes its windows and alerts.")
        if st.button(f"Delete “{escape_markdown(topic.name)}” for good", key=f"delete_{tid}"):
            data.delete_topic(user, tid)
            st.session_state.topics_flash = ("ok", f"Topic “{escape_markdown(topic.name)}” deleted.")
            st.rerun()
