"""Labelling: judge the posts the model is least sure about; the labels feed the next retraining."""

from __future__ import annotations

import streamlit as st

from dashboard import data, session, widgets
from dashboard.safe import escape_markdown, one_line, plain
from model.gains import one_line as gain_line
from sentimon.storage.labels import QueueItem

KEYS = {"negative": "1", "neutral": "2", "positive": "3"}
SKIPPED = "label_skipped"

user = session.require_user()
st.title("Labelling")
waiting, per_person, recent = data.label_summary()
_, needed, last = data.retraining_status()
c1, c2 = st.columns(2)
c1.metric(
    "Labels waiting for the next retraining",
    f"{waiting} of {needed}",
    help="A scheduled retraining runs once this many new labels wait (SENTIMON_RETRAIN_MIN_LABELS); "
    "an admin can request one sooner on the Models page.",
)
c2.metric("Labels given in all", sum(per_person.values()))
with st.container(key="label_progress"):
    more = max(0, needed - waiting)
    st.caption(
        f"{more} more labels until the next scheduled retraining."
        if more
        else "Enough labels for the next retraining."
    )
    if last is not None:
        st.caption(
            f"The last retraining ({escape_markdown(last.version)}, {last.status}) learnt from "
            f"{last.metrics.get('new_labels', 0)} new labels, AvgRec: "
            f"{escape_markdown(gain_line(last.metrics['evaluation']))}."
        )


def _label(item: QueueItem, label: str) -> None:
    data.add_label(user, item, label)
    st.session_state.label_last = f"{label} ← {one_line(item.text, 60)}"


def _skip(item: QueueItem) -> None:
    st.session_state.setdefault(SKIPPED, []).append(item.key)


if session.admin_only(user, "label", "label posts"):
    names = data.topic_names()
    scope = st.selectbox(
        "Queue",
        [None, *names],
        format_func=lambda t: "Most uncertain, all topics" if t is None else plain(names[t]),
        key="label_scope",
    )
    queue = data.label_queue(scope, tuple(st.session_state.get(SKIPPED, [])), limit=6)
    if not queue:
        st.success("Nothing left to label here.")
    else:
        item = queue[0]
        st.caption(
            f"Model says {item.predicted} (entropy {item.entropy:.2f} bits) · {len(queue) - 1}+ more queued"
        )
        with st.container(key="label_current"):
            widgets.post_card(
                item.text,
                item.predicted,
                item.probs,
                source=item.source,
                url=item.url,
                author=item.author,
                created_at=item.created_at,
            )
        cols = st.columns(4)
        for col, (label, key) in zip(cols, KEYS.items(), strict=False):
            col.button(
                f"{label.capitalize()}",
                key=f"label_{label}",
                shortcut=key,
                on_click=_label,
                args=(item, label),
                width="stretch",
                type="primary" if label == item.predicted else "secondary",
            )
        cols[3].button("Skip", key="label_skip", shortcut="S", on_click=_skip, args=(item,), width="stretch")
        st.caption("Keys: 1 negative · 2 neutral · 3 positive · S skip")
        if st.session_state.get("label_last"):
            st.caption(f"Last: {escape_markdown(st.session_state.label_last)}")
    skipped = st.session_state.get(SKIPPED, [])
    if skipped and st.button(f"Bring back {len(skipped)} skipped", key="label_unskip"):
        st.session_state[SKIPPED] = []
        st.rerun()

st.subheader("Who labelled what", anchor=False)
if per_person:
    with st.container(key="label_people"):
        st.table(
            [{"person": escape_markdown(p), "labels": n} for p, n in per_person.items()],
            border="horizontal",
            hide_index=True,
        )
widgets.table_or(
    [
        {
            "when": widgets.when(x.created_at),
            "who": plain(x.labelled_by),
            "label": x.label,
            "post": one_line(x.text, 160),
            "used by model": x.used_by_model or "waiting",
        }
        for x in recent
    ],
    "No labels yet.",
    key="label_recent",
)
