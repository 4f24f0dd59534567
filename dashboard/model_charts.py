"""Plotly figures for the Models page: what one retraining's labels bought (parent against new on
the held-back labels and the validation set) and the trend of those figures over versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

METRICS = {"avgrec": "AvgRec", "f1pn": "F1^PN", "acc": "accuracy"}
SETS = ("held-back labels", "validation")
OLD, NEW = "#9e9e9e", "#1f77b4"


def judged_sets(evaluation: dict) -> list[str]:
    """The sets a retraining was judged on that held any texts, in the order the page shows them."""
    return [s for s in SETS if evaluation.get(s, {}).get("n")]


def before_after_figure(evaluation: dict) -> go.Figure:
    """One small panel per set: parent and new model side by side on AvgRec, F1^PN and accuracy."""
    sets = judged_sets(evaluation)
    titles = [f"{s} (n={evaluation[s]['n']})" for s in sets]
    fig = make_subplots(rows=1, cols=max(1, len(sets)), subplot_titles=titles, shared_yaxes=True)
    for col, name in enumerate(sets, 1):
        row = evaluation[name]
        for which, label, color in (("old", "parent", OLD), ("new", "this version", NEW)):
            values = [row[which][k] for k in METRICS]
            fig.add_trace(
                go.Bar(
                    x=list(METRICS.values()),
                    y=values,
                    name=label,
                    marker_color=color,
                    text=[f"{v:.3f}" for v in values],
                    textposition="outside",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_layout(height=260, barmode="group", margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def trend_figure(points: Sequence[tuple[str, datetime | None, dict]]) -> go.Figure:
    """AvgRec of each retrained version (new, solid) against its parent (dotted), per set, oldest
    first: whether the labels keep paying. ``points`` are (version, created, evaluation)."""
    fig = go.Figure()
    versions = [v for v, _, _ in points]
    for name, color in zip(SETS, ("#2ca02c", "#1f77b4"), strict=True):
        rows = [e.get(name, {}) for _, _, e in points]
        new = [r["new"]["avgrec"] if r.get("n") else None for r in rows]
        old = [r["old"]["avgrec"] if r.get("n") else None for r in rows]
        fig.add_trace(go.Scatter(x=versions, y=new, name=f"{name}: new", line={"color": color}))
        fig.add_trace(
            go.Scatter(x=versions, y=old, name=f"{name}: parent", line={"color": color, "dash": "dot"})
        )
    fig.update_yaxes(title_text="AvgRec", tickformat=".0%")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="x unified")
    return fig
