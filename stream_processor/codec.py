"""How a window travels to live views and pub/sub subscribers: one JSON shape, both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from stream_processor.windows import Representative, WindowState


def window_to_dict(w: WindowState) -> dict[str, Any]:
    neg, neu, pos = w.shares
    return {
        "topic_id": w.topic_id,
        "window_start": w.window_start.isoformat(),
        "ts": int(w.window_start.timestamp()),
        "n": w.n,
        "n_neg": w.n_neg,
        "n_neu": w.n_neu,
        "n_pos": w.n_pos,
        "sum_neg": w.sum_neg,
        "sum_neu": w.sum_neu,
        "sum_pos": w.sum_pos,
        "neg_share": neg,
        "neu_share": neu,
        "pos_share": pos,
        "top_neg": _rep_dict(w.top_neg),
        "top_pos": _rep_dict(w.top_pos),
    }


def window_to_json(w: WindowState) -> bytes:
    return orjson.dumps(window_to_dict(w))


def window_from_json(raw: bytes | str) -> WindowState:
    d = orjson.loads(raw)
    return WindowState(
        topic_id=int(d["topic_id"]),
        window_start=datetime.fromtimestamp(int(d["ts"]), UTC),
        n=int(d["n"]),
        n_neg=int(d["n_neg"]),
        n_neu=int(d["n_neu"]),
        n_pos=int(d["n_pos"]),
        sum_neg=float(d["sum_neg"]),
        sum_neu=float(d["sum_neu"]),
        sum_pos=float(d["sum_pos"]),
        top_neg=_rep_from(d.get("top_neg")),
        top_pos=_rep_from(d.get("top_pos")),
    )


def _rep_dict(rep: Representative | None) -> dict[str, Any] | None:
    if rep is None:
        return None
    return {"score": rep.score, "key": rep.key, "text": rep.text, "row_id": rep.row_id}


def _rep_from(d: dict[str, Any] | None) -> Representative | None:
    if not d:
        return None
    return Representative(float(d["score"]), d.get("key") or "", d.get("text") or "", d.get("row_id"))
