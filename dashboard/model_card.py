"""The Models page's card of the model serving now (the live version, else the shipped default):
what it is, its scores on the benchmark, its confusion matrix, its training curves and its speed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.safe import escape_markdown
from sentimon.sentiment import LABELS

SCORED_ON = ("benchmark-int8", "benchmark", "val")  # the first one the card has: as served, else fp32
HEADLINE = (("AvgRec", "avgrec"), ("F1 PN", "f1pn"), ("Accuracy", "acc"))
NAMES = {"benchmark-int8": "benchmark, int8 as served", "benchmark": "benchmark", "val": "validation"}


def scores(card: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(which split, its metrics) the card is best judged by, or None for a card without scores."""
    metrics = card.get("metrics", {})
    return next(((name, metrics[name]) for name in SCORED_ON if metrics.get(name, {}).get("n")), None)


def confusion_rows(confusion: list[list[int]]) -> list[dict[str, object]]:
    """One row per true class, the counts of each predicted class beside it."""
    return [
        {"true": gold, **{f"→ {p}": confusion[i][j] for j, p in enumerate(LABELS)}}
        for i, gold in enumerate(LABELS)
    ]


def speed_line(card: dict[str, Any]) -> str | None:
    served = "cpu_int8" if card.get("serving", {}).get("cpu_int8") else "cpu_fp32"
    speed = card.get("speed", {}).get(served)
    if not speed:
        return None
    return (f"Speed ({served.replace('_', ' ')}, {speed['threads']} threads): {speed['model_tps']:,.0f} "
            f"posts/s, against VADER's {speed['vader_tps']:,.0f}/s in the same run")  # fmt: skip


def show(folder: str, why: str, card: dict[str, Any]) -> None:
    """The card, or one line saying the folder has none."""
    st.subheader("Serving now", anchor=False)
    name = card.get("version") or card.get("name") or Path(folder).name
    facts = [f"**{escape_markdown(str(name))}**", escape_markdown(why)]
    if card.get("parameters"):
        facts.append(f"{card['parameters']:,} parameters, vocabulary {card.get('vocab_size', 0):,}")
    st.markdown(" · ".join(facts))
    judged = scores(card)
    if judged is None:
        st.caption(f"No model card with scores in `{escape_markdown(folder)}`.")
        return
    split, m = judged
    cols = st.columns(3)
    for col, (label, key) in zip(
        cols, (("AvgRec", "avgrec"), ("F1 PN", "f1pn"), ("Accuracy", "acc")), strict=True
    ):
        col.metric(label, f"{m[key]:.3f}", help=f"on {NAMES[split]} ({m['n']:,} posts never trained on)")
    speed = speed_line(card)
    if speed:
        st.caption(speed)
    left, right = st.columns(2)
    if m.get("confusion"):
        left.caption(f"Confusion on {NAMES[split]} (rows: true class; columns: predicted)")
        left.table(confusion_rows(m["confusion"]), border="horizontal")
    curves = Path(folder) / "curves.png"
    if curves.is_file():
        right.caption("Training curves")
        right.image(str(curves))
