"""Models: the registered versions and their metrics, which one is live, retraining and promotion."""

from __future__ import annotations

import streamlit as st

from dashboard import data, model_card, model_charts, session, widgets
from dashboard.auth import User
from dashboard.safe import escape_markdown, plain
from model.gains import one_line
from sentimon.sentiment import LABELS

HEADLINE = {"avg_recall": "AvgRec", "f1_pn": "F1 PN", "accuracy": "Accuracy"}
COLUMNS = ("kind", "avg_recall", "f1_pn", "accuracy", "new_labels", "parent")


def confusion_rows(row: dict) -> list[dict[str, str]]:
    """One table row per gold class: 'parent → new' counts for each predicted class."""
    old, new = row["old"]["confusion"], row["new"]["confusion"]
    return [
        {"gold": gold, **{f"→ {p}": f"{old[i][j]} → {new[i][j]}" for j, p in enumerate(LABELS)}}
        for i, gold in enumerate(LABELS)
    ]


user = session.require_user()
st.title("Models")
live, versions, requests = data.model_summary()
flash = st.session_state.pop("models_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(escape_markdown(flash[1]))

if live:
    st.success(f"Live model: **{escape_markdown(live.version)}** since {widgets.when(live.promoted_at)}")
    shown = [(label, live.metrics[key]) for key, label in HEADLINE.items() if key in live.metrics]
    for col, (label, value) in zip(st.columns(max(1, len(shown))), shown, strict=False):
        col.metric(label, f"{float(value):.3f}")
model_card.show(*data.serving_card())

st.subheader("What the labels bought", anchor=False)
retrained = data.retrained_versions()
if retrained:
    st.caption(
        "Each retraining scores its parent and the new version, both as served, on labelled posts it "
        "never trained on (held back) and on the fixed validation set."
    )
    if len(retrained) > 1:
        st.plotly_chart(
            model_charts.trend_figure(
                [(v.version, v.created_at, v.metrics["evaluation"]) for v in retrained]
            ),
            key="models_trend",
        )
    for v in reversed(retrained[-5:]):
        evaluation = v.metrics["evaluation"]
        with st.expander(
            f"{v.version} ({v.status}) · {v.metrics.get('new_labels', 0)} new labels · "
            + escape_markdown(one_line(evaluation)),
            expanded=v is retrained[-1],
        ):
            st.plotly_chart(model_charts.before_after_figure(evaluation), key=f"bought_{v.version}")
            for name in model_charts.judged_sets(evaluation):
                st.caption(f"Confusion on {name} (rows: gold; columns: predicted), parent → this version")
                st.table(confusion_rows(evaluation[name]), border="horizontal")
else:
    st.caption("No retraining yet: `sentimon retrain` (or the button below) records what the labels bought.")

st.subheader("Registered versions", anchor=False)
if versions:
    rows = []
    for v in versions:
        row: dict[str, object] = {
            "version": v.version,
            "status": v.status,
            "created": widgets.when(v.created_at),
        }
        row.update({k: v.metrics[k] for k in COLUMNS if k in v.metrics})
        row["promoted"] = widgets.when(v.promoted_at) if v.promoted_at else ""
        row["note"] = plain(v.note or "")
        rows.append(row)
    st.dataframe(rows, hide_index=True, key="model_versions")
else:
    st.caption("No versions registered yet.")


def _act(action: str, user: User, version: str | None = None) -> None:
    from model.registry import ModelError  # with torch: only when someone acts

    try:
        if action != "promote":
            message = data.rollback_model(user)
        elif version is None:
            raise ValueError("pick a version to make live")
        else:
            message = data.promote_model(user, version)
    except (ValueError, ModelError) as exc:  # refused: a broken folder, nothing to roll back to
        st.session_state.models_flash = ("error", f"Not done: {exc}")
        return
    st.session_state.models_flash = ("ok", message)


if user.can("models") and versions:
    candidates = [v.version for v in versions if v.status != "live"]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    if candidates:
        chosen = left.selectbox("Version to make live", candidates, key="promote_pick")
        left.button("Make live", key="promote", on_click=_act, args=("promote", user, chosen))
    right.button(
        "Roll back",
        key="rollback",
        on_click=_act,
        args=("rollback", user),
        help="Back to the version live before",
    )

st.subheader("Retraining", anchor=False)
waiting, needed, _ = data.retraining_status()
st.metric(
    "Labels waiting for the next retraining", waiting, help=f"a scheduled retraining waits for {needed}"
)
if session.admin_only(user, "models", "request a retraining or change the live model"):
    note = st.text_input("Note (optional)", key="retrain_note", placeholder="why now?")
    if st.button("Request retraining now", key="retrain", type="primary"):
        request_id = data.request_retrain(user, note)
        st.success(f"Requested ({request_id}); the retrain job picks it up on its next run.")
        requests = data.model_summary()[2]
widgets.table_or(
    [
        {"requested": widgets.when(r.created_at), "by": plain(r.metrics.get("requested_by", "")),
         "status": r.status, "note": plain(r.note or "")}
        for r in requests
    ],
    "No retraining requested yet.", key="retrain_history",
)  # fmt: skip
