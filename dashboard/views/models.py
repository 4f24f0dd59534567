"""Models: the registered versions and their metrics, which one is live, and retraining."""

from __future__ import annotations

import streamlit as st

from dashboard import data, session, widgets
from dashboard.safe import escape_markdown

METRICS = ("avg_recall", "f1_pn", "accuracy", "kld")

user = session.require_user()
st.title("Models")
live, versions, requests = data.model_summary()
waiting = data.label_summary()[0]

if live:
    st.success(f"Live model: **{escape_markdown(live.version)}** since {widgets.when(live.promoted_at)}")
    shown = {k: v for k, v in live.metrics.items() if isinstance(v, int | float)}
    for col, (name, value) in zip(
        st.columns(max(1, min(len(shown), 5))), list(shown.items())[:5], strict=False
    ):
        col.metric(name, f"{value:.3f}")
else:
    st.info("No model has been promoted yet: workers serve the shipped default model.")

st.subheader("Registered versions", anchor=False)
if versions:
    rows = []
    for v in versions:
        row = {"version": v.version, "status": v.status, "created": widgets.when(v.created_at)}
        row.update({m: v.metrics.get(m) for m in METRICS if m in v.metrics})
        row.update({"promoted": widgets.when(v.promoted_at) if v.promoted_at else "", "note": v.note or ""})
        rows.append(row)
    st.dataframe(rows, hide_index=True, key="model_versions")
else:
    st.caption("No versions registered yet.")

st.subheader("Retraining", anchor=False)
st.metric("Labels waiting for the next retraining", waiting)
if session.admin_only(user, "models", "request a retraining"):
    note = st.text_input("Note (optional)", key="retrain_note", placeholder="why now?")
    if st.button("Request retraining now", key="retrain", type="primary"):
        request_id = data.request_retrain(user, note)
        st.success(f"Requested ({request_id}); the retrain job picks it up on its next run.")
if requests:
    st.dataframe(
        [
            {
                "requested": widgets.when(r.created_at),
                "by": r.metrics.get("requested_by", ""),
                "status": r.status,
                "note": r.note or "",
            }
            for r in requests
        ],
        hide_index=True,
        key="retrain_history",
    )
else:
    st.caption("No retraining requested yet.")
