"""The alert cycle: read newly closed windows, run each topic's detector, update alerts, deliver.

`run_alert_cycle` is idempotent and cheap when nothing is new, so the embedded runner and a Faust
timer can both call it every few seconds. One cycle runs at a time per database (an advisory lock
on Postgres). The detector's state is saved per topic with the last window it saw, in the same
transaction as the alert changes, so a crash never double-counts a window; a topic seen for the
first time is rebuilt silently from its recent history of windows.

Time: a window [t, t+1min) is closed once the clock passes t + 1 min + `close_after_s`. The clock
is the wall clock, held back to the end of the newest window any topic has (event time), so
replays of old posts are judged as they arrive rather than all at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sentimon.storage import alerts as store
from sentimon.storage import topics as topic_store
from sentimon.storage.topics import Topic
from stream_processor.alerting.config import AlertConfigError, AlertSettings, Route, parse_alert_config
from stream_processor.alerting.delivery import deliver_due
from stream_processor.alerting.detector import FIRING, KIND, NORMAL, Detector, DetectorState
from stream_processor.alerting.lifecycle import (
    AlertEvent,
    apply_event,
    dt_to_minute,
    minute_to_dt,
    unsilence,
)
from stream_processor.alerting.sinks import Sink

log = logging.getLogger(__name__)
CLOSE_AFTER_S = 15.0  # grace for late posts before a window counts as closed
HISTORY_WINDOWS = 24 * 60  # how far back a topic's detector is rebuilt the first time
CYCLE_EVERY_S = 5.0


def periodic_tasks(settings: Any) -> list[tuple[float, Callable[[], object]]]:
    """The (seconds, callback) pair the runners call (see stream_processor/hooks.py)."""
    return [(CYCLE_EVERY_S, AlertCycleTask(settings))]


class AlertCycleTask:
    """A callback that runs one alert cycle in a background thread, so slow sinks (retries with
    backoff) never hold up stream processing; a call while the last cycle still runs is skipped."""

    __name__ = "alert_cycle"

    def __init__(self, settings: Any):
        self.settings = settings
        self._engine: Engine | None = None
        self._sinks: dict[str, Sink] | None = None
        self._thread: threading.Thread | None = None

    def __call__(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run_once, name="alert-cycle", daemon=True)
        self._thread.start()

    def run_once(self) -> list[AlertEvent]:
        from sentimon.storage.db import make_engine
        from stream_processor.alerting.sinks import build_sinks

        try:
            self._engine = self._engine or make_engine(self.settings.db_url)
            self._sinks = self._sinks if self._sinks is not None else build_sinks(self.settings)
            events = run_alert_cycle(self._engine, self._sinks)
        except Exception:
            log.exception("alert cycle failed; the next one retries")
            return []
        for event in events:
            log.info("alert %s %s: topic %s, %s", event.alert_id, event.event, event.topic_id, event.severity)
        return events


def run_alert_cycle(
    engine: Engine, sinks: Mapping[str, Sink], now: datetime | None = None, *,
    close_after_s: float = CLOSE_AFTER_S, deliver: bool = True,
) -> list[AlertEvent]:  # fmt: skip
    """Evaluate every active topic's newly closed windows and return what happened to alerts."""
    now = now or datetime.now(UTC)
    with store.cycle_lock(engine) as mine:
        if not mine:
            return []  # another worker is running the cycle right now
        with engine.connect() as conn:
            topics = topic_store.list_topics(conn, active_only=True)
            through = closed_through(conn, topics, now, close_after_s)
        events: list[AlertEvent] = []
        for topic in topics:
            config = _config(topic)
            if config is None or not config[0].enabled:
                continue
            with engine.begin() as conn:
                events += evaluate_topic(conn, topic, *config, set(sinks), now, through)
        if deliver:
            deliver_due(engine, sinks, now)
        return events


def closed_through(conn: Connection, topics: list[Topic], now: datetime, close_after_s: float) -> int | None:
    """The newest closed window (as a minute index), or None when no topic has any window yet."""
    newest = [store.latest_window_start(conn, t.id) for t in topics]
    newest_ends = [dt_to_minute(w) + 1 for w in newest if w is not None]
    if not newest_ends:
        return None
    clock = min(now.timestamp(), max(newest_ends) * 60.0)
    return int((clock - close_after_s) // 60) - 1


def evaluate_topic(
    conn: Connection, topic: Topic, settings: AlertSettings, routes: list[Route], available: set[str],
    now: datetime, through: int | None,
) -> list[AlertEvent]:  # fmt: skip
    """One topic's share of a cycle, inside one transaction."""
    saved = store.load_detector_state(conn, topic.id, KIND, for_update=True)
    state = DetectorState.from_dict(saved[0]) if saved else DetectorState()
    detector = Detector(settings, state)
    open_alert = store.find_open_alert(conn, topic.id, KIND)
    if state.phase != NORMAL and open_alert is None:
        detector.reset(cooldown=True)  # someone resolved it by hand: start over after a cooldown
    changes: list[AlertEvent] = []
    if through is not None:
        rebuild = state.last_minute is None
        after = minute_to_dt(state.last_minute) if not rebuild else minute_to_dt(through - HISTORY_WINDOWS)
        detector_events = []
        for w in store.windows_between(conn, topic.id, after, minute_to_dt(through)):
            detector_events += detector.observe(dt_to_minute(w.window_start), w.n, w.sum_neg)
        detector_events += detector.advance(through)
        if rebuild:
            _settle(conn, detector, open_alert)
        else:
            for ev in detector_events:
                change = apply_event(conn, topic, routes, available, ev, now)
                changes += [change] if change else []
    change = unsilence(conn, topic, routes, available, now)
    changes += [change] if change else []
    last = minute_to_dt(state.last_minute) if state.last_minute is not None else None
    store.save_detector_state(conn, topic.id, KIND, state.to_dict(), last, now)
    return changes


def _settle(conn: Connection, detector: Detector, open_alert: store.Alert | None) -> None:
    """After a silent rebuild, make the detector's episode match the alert open in the database."""
    if open_alert is not None and open_alert.state == store.PENDING:
        store.delete_alert(conn, open_alert.id)
        open_alert = None
    detector.reset(cooldown=False)
    if open_alert is not None:
        detector.state.phase, detector.state.severity = FIRING, open_alert.severity


def _config(topic: Topic) -> tuple[AlertSettings, list[Route]] | None:
    try:
        return parse_alert_config(topic.alert_config)
    except AlertConfigError as exc:
        log.warning(
            "topic %s (%s): alerts off until its alert_config is fixed: %s", topic.id, topic.name, exc
        )
        return None
