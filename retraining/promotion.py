"""Make a registered model version live (or roll back), and tell running workers through Redis."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import Engine

from model.registry import ModelError, read_card, verify
from sentimon.storage import models
from sentimon.storage.redis_keys import MODEL_CHANNEL, live_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Promotion:
    version: str
    path: str
    previous: str | None
    notified: bool


def publish(redis_url: str | None, version: str, path: str) -> bool:
    """SET the live-model key and PUBLISH on the model channel; workers also poll the database, so a
    Redis that is down only delays the switch (returns False)."""
    if not redis_url:
        return False
    message = json.dumps({"version": version, "path": path, "at": datetime.now(UTC).isoformat()})
    try:
        with redis.Redis.from_url(redis_url, socket_timeout=5) as client:
            client.set(live_model(), version)
            client.publish(MODEL_CHANNEL, message)
    except redis.RedisError as exc:
        log.warning("could not notify workers through Redis (they will notice by polling): %s", exc)
        return False
    return True


def promote_version(
    engine: Engine, version: str, redis_url: str | None = None, check: bool = True
) -> Promotion:
    """Verify the model folder (hashes, format), mark the version live in model_versions, notify."""
    with engine.begin() as conn:
        found = models.get_version(conn, version)
        if found is None or found.is_request:
            raise ValueError(f"no model version {version!r}")
        if check:
            verify(Path(found.path))  # raises ModelError: a broken folder is never made live
        before = models.live_version(conn)
        models.promote(conn, version)
    notified = publish(redis_url, version, found.path)
    return Promotion(version, found.path, before.version if before else None, notified)


def rollback(engine: Engine, redis_url: str | None = None) -> Promotion:
    """Go back to the version that was live before the current one; the current one is rejected."""
    with engine.begin() as conn:
        current = models.live_version(conn)
        if current is None:
            raise ValueError("no live model version to roll back from")
        target = models.previous_live(conn)
        if target is None:
            raise ValueError(
                f"{current.version} is the only version that was ever live: nothing to roll back to"
            )
        verify(Path(target.path))
        models.promote(conn, target.version)
        models.set_status(conn, current.version, "rejected")
        models.add_note(
            conn,
            current.version,
            f"rolled back at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {target.version} is live again",
        )
    notified = publish(redis_url, target.version, target.path)
    return Promotion(target.version, target.path, current.version, notified)


def card_metrics(card: dict) -> dict:
    """Headline validation figures of a model card, under the names the dashboard shows."""
    val = card.get("metrics", {}).get("val", {})
    out: dict[str, str | float] = {"kind": "baseline"}
    for ours, theirs in (("avg_recall", "avgrec"), ("f1_pn", "f1pn"), ("accuracy", "acc")):
        if isinstance(val.get(theirs), int | float):
            out[ours] = float(val[theirs])
    return out


def ensure_live(engine: Engine, default_path: Path) -> tuple[str, Path]:
    """(version, folder) of the live model; when none is registered yet, the model workers serve by
    default is registered and made live, so that later promotions can be rolled back to it."""
    with engine.begin() as conn:
        live = models.live_version(conn)
        if live is not None:
            return live.version, Path(live.path)
        folder = Path(default_path).resolve()
        card = read_card(folder)
        version = card.get("version")
        if not version:
            raise ModelError(f"{folder}: model card has no version")
        if models.get_version(conn, version) is None:
            models.register_version(
                conn,
                version,
                str(folder),
                card_metrics(card),
                note="the model served before any retraining",
                status="live",
            )
        models.promote(conn, version)
        return version, folder
