"""When to retrain: the scheduled loop (every N hours with enough new labels) and dashboard requests."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from retraining.retrain import Outcome, RetrainOptions, Say, retrain_once
from sentimon.settings import Settings
from sentimon.storage import labels, models

log = logging.getLogger(__name__)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """'24h', '30m', '90s', '1d', '1.5h' or a plain number of seconds → seconds (> 0)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text).lower())
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"expected a duration like 24h, 30m or 90s, not {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def is_due(now: float, last_run: float | None, every_s: float, waiting: int, min_new: int) -> bool:
    """A scheduled run is due when the period has passed since the last run and enough labels wait."""
    if waiting < max(1, min_new):
        return False
    return last_run is None or now - last_run >= every_s


def run_pending(
    settings: Settings, options: RetrainOptions, engine: Engine, say: Say = print
) -> list[Outcome]:
    """Handle every retraining request from the dashboard, oldest first (each claimed, so two jobs
    never run the same one); the request row ends done or failed with what happened as its note."""
    outcomes = []
    with engine.connect() as conn:
        pending = models.pending_requests(conn)
    for request in pending:
        with engine.begin() as conn:
            if not models.claim_request(conn, request.version):
                continue
        who = request.metrics.get("requested_by", "?")
        say(f"retraining requested by {who} ({request.version})")
        try:
            outcome = retrain_once(settings, replace(options, force=True), engine, say)
        except Exception as exc:  # the request records the failure; the loop goes on
            log.exception("retraining for %s failed", request.version)
            outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
        status = "failed" if outcome.status == "failed" else "done"
        note = f"{outcome.status}: {outcome.version + ' · ' if outcome.version else ''}{outcome.reason}"
        with engine.begin() as conn:
            models.set_status(conn, request.version, status, note=note[:4000])
        outcomes.append(outcome)
    return outcomes


def run_scheduled(
    settings: Settings,
    options: RetrainOptions,
    every_s: float,
    engine: Engine,
    stop: threading.Event,
    poll_s: float = 30.0,
    say: Say = print,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> None:
    """Until ``stop`` is set: handle requests, and retrain when due. The last scheduled run is read
    from model_versions, so a restarted scheduler does not retrain at once."""
    with engine.connect() as conn:
        last = models.last_retrain_at(conn)
    last_run = last.timestamp() if last else None
    say(
        f"retraining every {every_s:g}s when ≥{max(1, options.min_new_labels)} new labels wait; "
        f"last run {datetime.fromtimestamp(last_run, UTC).isoformat() if last_run else 'never'}"
    )
    while not stop.is_set():
        try:
            outcomes = run_pending(settings, options, engine, say)
            with engine.connect() as conn:
                waiting = labels.waiting_count(conn)
            if is_due(time.time(), last_run, every_s, waiting, options.min_new_labels):
                last_run = time.time()  # set first: a run that fails is not retried at once
                outcomes.append(retrain_once(settings, options, engine, say))
            for outcome in outcomes:
                say(f"{outcome.status}: {outcome.reason}")
                if on_outcome is not None:
                    on_outcome(outcome)
        except Exception:  # the database may be away for a while: try again on the next tick
            log.exception("scheduled retraining tick failed")
        stop.wait(min(poll_s, every_s))
