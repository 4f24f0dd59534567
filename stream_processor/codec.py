"""How a window travels to live views and pub/sub subscribers: one JSON shape, both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from sentimon.schema import WINDOW_SUMS
from stream_processor.windows import Representative, WindowState


def window_to_dict(w: WindowState) -> dict[str, Any]:
    """The window's sums, and its corrected shares (the one number everywhere) for subscribers."""
    est = w.estimate()
    return {
        "topic_id": w.topic_id,
        "window_start": w.window_start.isoformat(),
        "ts": int(w.window_start.timestamp()),
        **{name: getattr(w, name) for name in WINDOW_SUMS},
        "neg_share": est.negative,
        "neu_share": est.neutral,
        "pos_share": est.positive,
        "neg_low": est.negative_low,
        "neg_high": est.negative_high,
        "method": est.method,
        "top_neg": _rep_dict(w.top_neg),
        "top_pos": _rep_dict(w.top_pos),
        "rev": w.rev,
    }


def window_to_json(w: WindowState) -> bytes:
    return orjson.dumps(window_to_dict(w))


def window_from_json(raw: bytes | str) -> WindowState:
    d = orjson.loads(raw)
    window = WindowState.from_sums(int(d["topic_id"]), datetime.fromtimestamp(int(d["ts"]), UTC), d)
    window.top_neg, window.top_pos = _rep_from(d.get("top_neg")), _rep_from(d.get("top_pos"))
    window.rev = int(d.get("rev") or 0)
    return window


def _rep_dict(rep: Representative | None) -> dict[str, Any] | None:
    if rep is None:
        return None
    return {"score": rep.score, "key": rep.key, "text": rep.text, "row_id": rep.row_id}


def _rep_from(d: dict[str, Any] | None) -> Representative | None:
    if not d:
        return None
    return Representative(float(d["score"]), d.get("key") or "", d.get("text") or "", d.get("row_id"))
