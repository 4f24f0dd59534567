"""The alert cycle: read newly closed windows, run each topic's detector, update alerts, deliver.

`run_alert_cycle` is idempotent and cheap when nothing is new, so the processing driver (under Faust
or the embedded runner) calls it every few seconds. One cycle runs at a time per database (an advisory lock
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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from sentimon.schema import last_closed_window, minute_index, minute_start
from sentimon.settings import Settings
from sentimon.storage import alerts as store
from sentimon.storage import topics as topic_store
from sentimon.storage.topics import Topic
from stream_processor.alerting.channels import AlertChannel, build_channels, close_channels
from stream_processor.alerting.config import AlertConfigError, AlertSettings, Route, parse_alert_config
from stream_processor.alerting.delivery import deliver_due
from stream_processor.alerting.detector import FIRING, KIND, NORMAL, Detector, DetectorState, Event
from stream_processor.alerting.inputs import observation
from stream_processor.alerting.lifecycle import AlertEvent, apply_event, unsilence
from stream_processor.timers import Periodic

log = logging.getLogger(__name__)
CLOSE_AFTER_S = 15.0  # grace for late posts before a window counts as closed
HISTORY_WINDOWS = 24 * 60  # how far back a topic's detector is rebuilt the first time
CATCH_UP_WINDOWS = 30  # after downtime, only this many newest windows may raise alerts
CYCLE_EVERY_S = 5.0


class AlertCycle:
    """The alert cycle the processing driver runs, over the driver's own engine.

    On the wall clock (the service) it is a periodic callback that runs one cycle in a background
    thread, so slow channels (retries with backoff) never hold up stream processing; a call while
    the last cycle still runs is skipped. On event time (a replay) it runs a cycle after every
    batch, in the processing thread, so every window is judged in order however fast the replay
    runs (no catch-up limit), and a last one at the end that closes the last window too: a replay
    of a day gives the alerts of living through it.
    """

    __name__ = "alert_cycle"

    def __init__(
        self, engine: Engine, channels: Mapping[str, AlertChannel], *, event_time: bool = False
    ) -> None:
        self.engine, self.channels, self.event_time = engine, channels, event_time
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, settings: Settings, engine: Engine, *, event_time: bool = False) -> AlertCycle:
        """The cycle with every channel the settings configure."""
        return cls(engine, build_channels(settings), event_time=event_time)

    def periodic(self) -> list[Periodic]:
        """What the driver runs every few seconds: this cycle, unless it follows event time."""
        return [] if self.event_time else [(CYCLE_EVERY_S, self)]

    def __call__(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run_once, name="alert-cycle", daemon=True)
        self._thread.start()

    def after_batch(self) -> None:
        if self.event_time:
            self.run_once(catch_up_windows=None)

    def at_end(self) -> None:
        if self.event_time:
            self.run_once(catch_up_windows=None, close_after_s=0.0)

    def run_once(self, **cycle: Any) -> list[AlertEvent]:
        """One cycle now, in this thread; keyword arguments go to run_alert_cycle."""
        try:
            events = run_alert_cycle(self.engine, self.channels, **cycle)
        except Exception:
            log.exception("alert cycle failed; the next one retries")
            return []
        names = self._topic_names() if events else {}
        for event in events:
            topic = names.get(event.topic_id, f"topic {event.topic_id}")
            log.info("alert %s %s: %s, %s", event.alert_id, event.event, topic, event.severity)
        return events

    def _topic_names(self) -> dict[int, str]:
        """Topic names by id, so the console's alert lines say which topic a person knows."""
        with self.engine.connect() as conn:
            return {t.id: t.name for t in topic_store.list_topics(conn)}

    def close(self) -> None:
        close_channels(self.channels)


def run_alert_cycle(
    engine: Engine, sinks: Mapping[str, AlertChannel], now: datetime | None = None, *,
    close_after_s: float = CLOSE_AFTER_S, deliver: bool = True,
    catch_up_windows: int | None = CATCH_UP_WINDOWS,
) -> list[AlertEvent]:  # fmt: skip
    """Evaluate every active topic's newly closed windows and return what happened to alerts.

    `catch_up_windows`: after a gap, only this many newest windows may raise alerts (None: all,
    for replays judged on event time)."""
    now = now or datetime.now(UTC)
    with store.cycle_lock(engine) as mine:
        if not mine:
            return []  # another worker is running the cycle right now
        with engine.connect() as conn:
            everyone = topic_store.list_topics(conn)
        watched = {
            t.id: config for t in everyone if t.active and (config := _config(t)) and config[0].enabled
        }
        with engine.connect() as conn:
            through = closed_through(conn, [t for t in everyone if t.id in watched], now, close_after_s)
        events: list[AlertEvent] = []
        for topic in everyone:
            try:
                with engine.begin() as conn:
                    if topic.id in watched:
                        events += evaluate_topic(
                            conn, topic, *watched[topic.id], set(sinks), now, through, catch_up_windows
                        )
                    else:
                        events += stand_down(conn, topic, now)
            except Exception:
                log.exception("alert cycle failed for topic %s (%s); the others go on", topic.id, topic.name)
        if deliver:
            deliver_due(engine, sinks, now)
        return events


def closed_through(conn: Connection, topics: list[Topic], now: datetime, close_after_s: float) -> int | None:
    """The newest closed window (as a minute index), or None when no topic has any window yet."""
    starts = [store.latest_window_start(conn, t.id) for t in topics]
    newest = [w for w in starts if w is not None]
    if not newest:
        return None
    return minute_index(last_closed_window(now, max(newest), timedelta(seconds=close_after_s)))


def evaluate_topic(
    conn: Connection, topic: Topic, settings: AlertSettings, routes: list[Route], available: set[str],
    now: datetime, through: int | None, catch_up_windows: int | None = CATCH_UP_WINDOWS,
) -> list[AlertEvent]:  # fmt: skip
    """One topic's share of a cycle, inside one transaction."""
    saved = store.load_detector_state(conn, topic.id, KIND, for_update=True)
    state = DetectorState.from_dict(saved[0]) if saved else DetectorState()
    detector = Detector(settings, state)
    open_alert = store.find_open_alert(conn, topic.id, KIND)
    if state.phase != NORMAL and open_alert is None:
        detector.reset(cooldown=True, by_hand=True)  # resolved by hand: this rise is dealt with
    changes: list[AlertEvent] = []
    if through is not None:
        for ev in _feed(conn, topic, detector, open_alert, through, catch_up_windows):
            change = apply_event(conn, topic, routes, available, ev, now)
            changes += [change] if change else []
    change = unsilence(conn, topic, routes, available, now)
    changes += [change] if change else []
    last = minute_start(state.last_minute) if state.last_minute is not None else None
    store.save_detector_state(conn, topic.id, KIND, state.to_dict(), last, now)
    return changes


def _feed(
    conn: Connection, topic: Topic, detector: Detector, open_alert: store.Alert | None, through: int,
    catch_up_windows: int | None = CATCH_UP_WINDOWS,
) -> list[Event]:  # fmt: skip
    """Run the detector over the topic's new windows. Windows older than `catch_up_windows` (a first
    run, or a backlog after downtime) only rebuild the baseline: no alerts about the distant past."""
    last = detector.state.last_minute
    start = through - HISTORY_WINDOWS if last is None else last
    if last is None:
        quiet_until = through
    else:
        quiet_until = last if catch_up_windows is None else through - catch_up_windows
    windows = store.windows_between(conn, topic.id, minute_start(start), minute_start(through))
    if last is None or last < quiet_until:
        for w in windows:
            if minute_index(w.window_start) <= quiet_until:
                detector.observe(minute_index(w.window_start), *observation(w))
        detector.advance(quiet_until)
        _settle(conn, detector, open_alert)
    events: list[Event] = []
    for w in windows:
        if minute_index(w.window_start) > quiet_until:
            events += detector.observe(minute_index(w.window_start), *observation(w))
    return events + detector.advance(through)


def stand_down(conn: Connection, topic: Topic, now: datetime) -> list[AlertEvent]:
    """A paused topic, or one with alerts off: close its alert and forget its detector, so that it
    starts afresh (rebuilt silently) when watched again."""
    store.delete_detector_state(conn, topic.id, KIND)
    alert = store.find_open_alert(conn, topic.id, KIND)
    if alert is None:
        return []
    store.update_alert(
        conn, alert.id, state=store.RESOLVED, resolved_at=now, resolved_by="detector: alerts off"
    )
    return [AlertEvent("resolved", alert.id, topic.id, store.RESOLVED, alert.severity, alert.window_start,
                       reason="alerts off")]  # fmt: skip


def _settle(conn: Connection, detector: Detector, open_alert: store.Alert | None) -> None:
    """After a silent rebuild, make the detector's episode match the alert open in the database."""
    if open_alert is not None and open_alert.state == store.PENDING:
        store.delete_alert(conn, open_alert.id)
        open_alert = None
    detector.reset(cooldown=False)
    if open_alert is not None:
        detector.state.phase, detector.state.severity = FIRING, open_alert.severity


_warned: set[tuple[int, str]] = set()


def _config(topic: Topic) -> tuple[AlertSettings, list[Route]] | None:
    try:
        return parse_alert_config(topic.alert_config)
    except AlertConfigError as exc:
        if (topic.id, str(exc)) in _warned:
            return None
        _warned.add((topic.id, str(exc)))
        log.warning(
            "topic %s (%s): alerts off until its alert_config is fixed: %s", topic.id, topic.name, exc
        )
        return None
