"""Plotly figures for the topic detail page: shares and volume over time, alerts marked on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.safe import html_text

COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def series_figure(
    frame: pd.DataFrame,
    alerts: Sequence[tuple[datetime, float | None, str]],
    span: tuple[datetime, datetime],
    bucket: timedelta,
) -> go.Figure:
    """Shares on top and volume below; one topic shows all three shares, several compare negativity.

    `alerts` are (time, share when fired, label) triples drawn as markers on the share chart; the
    x axis always shows the whole chosen `span`, and bars are one `bucket` wide.
    """
    bar_ms = bucket.total_seconds() * 1000 * 0.8
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    topics = list(dict.fromkeys(frame["topic"])) if not frame.empty else []
    if len(topics) <= 1:
        _band(fig, frame, COLORS["negative"], "negative 90% interval")
        for share, color in COLORS.items():
            _share(fig, frame, share, share, color)
        _volume(fig, frame, "volume", bar_ms, color="#7f7f7f")
    else:
        for topic in topics:
            part = frame[frame["topic"] == topic]
            _band(fig, part, "#888888", html_text(f"{topic} 90% interval"))
            _share(fig, part, "negative", html_text(f"{topic} negative"))
            _volume(fig, part, html_text(f"{topic} volume"), bar_ms / len(topics))
    if alerts:
        fig.add_trace(
            go.Scatter(
                x=[a[0] for a in alerts],
                y=[a[1] if a[1] is not None else 1.0 for a in alerts],
                mode="markers",
                marker={"symbol": "triangle-down", "size": 14, "color": "#ff7f0e", "line": {"width": 1}},
                name="alert",
                text=[html_text(a[2]) for a in alerts],
                hovertemplate="%{text}<br>%{x}<extra>alert</extra>",
            ),
            row=1,
            col=1,
        )
    fig.update_xaxes(range=list(span))
    fig.update_yaxes(title_text="share", tickformat=".0%", range=[0, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="posts", row=2, col=1)
    fig.update_layout(
        height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10}, barmode="group", hovermode="x unified"
    )
    return fig


def _share(fig: go.Figure, frame: pd.DataFrame, share: str, name: str, color: str | None = None) -> None:
    """One share's line on the top panel."""
    line = {"color": color} if color else None
    fig.add_trace(go.Scatter(x=frame["bucket_start"], y=frame[share], name=name, line=line), row=1, col=1)


def _volume(
    fig: go.Figure, frame: pd.DataFrame, name: str, width_ms: float, color: str | None = None
) -> None:
    """Posts per bucket as bars on the bottom panel."""
    bar = go.Bar(x=frame["bucket_start"], y=frame["volume"], name=name, width=width_ms, marker_color=color)
    fig.add_trace(bar, row=2, col=1)


def _band(fig: go.Figure, frame: pd.DataFrame, color: str, name: str) -> None:
    """The negative share's 90% interval as a shaded band behind its line."""
    if frame.empty or "negative_low" not in frame:
        return
    x = list(frame["bucket_start"])
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=list(frame["negative_high"]) + list(frame["negative_low"])[::-1],
            fill="toself",
            fillcolor=color,
            opacity=0.15,
            line={"width": 0},
            hoverinfo="skip",
            name=name,
        ),
        row=1,
        col=1,
    )
