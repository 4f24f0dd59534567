"""All data the pages show and every change they make, cached: the one module pages talk to."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard import live, trends
from dashboard.auth import Credentials, User, credentials_from, session_key_for
from sentimon.schema import WindowAggregate, window_start
from sentimon.settings import Settings, get_settings
from sentimon.storage import alerts, audit, labels, models, posts, topics, windows
from sentimon.storage.db import make_engine
from stream_processor.alerting.explain import PostText, Term, over_represented


@st.cache_resource
def settings() -> Settings:
    return get_settings()


@st.cache_resource
def engine() -> Engine:
    return make_engine(settings().db_url)


@st.cache_resource(show_spinner=False)
def credentials() -> Credentials:
    """Hashed once per process; the plain passwords are not kept."""
    s = settings()
    return credentials_from(s.admin_password.get_secret_value(), s.viewer_password.get_secret_value())


def session_key() -> str:
    return session_key_for(settings())


def client_address() -> str | None:
    """Who is connecting: the proxy's X-Forwarded-For (its last hop) when trusted, else the peer."""
    if settings().trust_forwarded_for:
        forwarded = st.context.headers.get("X-Forwarded-For") or ""
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return st.context.ip_address or "localhost"  # Streamlit gives None for loopback connections


@st.cache_resource
def live_reader() -> live.LiveReader | None:
    """The Redis live view when one is configured (None: read the database)."""
    url = settings().redis_url
    return live.LiveReader(url) if url else None


def now() -> datetime:
    return datetime.now(UTC)


# ---- reads -------------------------------------------------------------------------------------


def topic_list() -> list[topics.Topic]:
    """Every topic, re-read as soon as any topic changes (by whoever: a page, the CLI, a test)."""
    return _topics_as_of(_topics_fingerprint())


@st.cache_data(ttl=1, show_spinner=False)
def _topics_fingerprint() -> tuple[int, str]:
    with engine().connect() as conn:
        return topics.rules_fingerprint(conn)


@st.cache_data(max_entries=4, show_spinner=False)
def _topics_as_of(fingerprint: tuple[int, str]) -> list[topics.Topic]:
    with engine().connect() as conn:
        return topics.list_topics(conn)


def topic_names() -> dict[int, str]:
    return {t.id: t.name for t in topic_list()}


@st.cache_data(ttl=2, show_spinner=False)
def overview_tiles() -> tuple[list[trends.Tile], str]:
    """Every topic's tile and where the live numbers came from ('Redis' or 'the database')."""
    t = now()
    since = window_start(t) - trends.SPARK
    rows = [(x.id, x.name, x.active) for x in topic_list()]
    reader = live_reader()
    recent = reader.recent([r[0] for r in rows], since) if reader else None
    recent = {k: v for k, v in (recent or {}).items() if v}
    source = "Redis" if recent else "the database"
    with engine().connect() as conn:
        if len(recent) < len(rows):  # topics Redis knows nothing about (yet) come from the database
            stored = _group(r.agg for r in windows.get_windows(conn, start=since))
            recent = {**stored, **recent}
        alerts_open = alerts.open_alert_counts(conn)
    return trends.build_tiles(
        rows, recent, _baselines(window_start(t), tuple(r[0] for r in rows)), alerts_open, t
    ), source


def _group(aggs: Any) -> dict[int, list[WindowAggregate]]:
    out: dict[int, list[WindowAggregate]] = defaultdict(list)
    for agg in aggs:
        out[agg.topic_id].append(agg)
    return dict(out)


@st.cache_data(ttl=60, show_spinner=False)
def _baselines(at: datetime, topic_ids: tuple[int, ...]) -> dict[int, WindowAggregate]:
    """The day before the current quarter hour; it moves slowly, so cached for a minute."""
    with engine().connect() as conn:
        sums = windows.totals(conn, *trends.baseline_span(at), topic_ids)
    return sums


@st.cache_data(ttl=5, show_spinner=False)
def series(topic_ids: tuple[int, ...], start: datetime, end: datetime, bucket: str) -> pd.DataFrame:
    """Each topic's series rolled up to `bucket`, in one frame (column `topic` tells them apart)."""
    names = topic_names()
    with engine().connect() as conn:
        frames = [
            trends.to_frame(windows.series(conn, t, start, end, bucket), names.get(t, str(t)))
            for t in topic_ids
        ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=trends.SERIES_COLUMNS)


@st.cache_data(ttl=30, show_spinner=False)
def first_window(topic_ids: tuple[int, ...]) -> datetime | None:
    with engine().connect() as conn:
        return windows.first_window(conn, topic_ids)


@st.cache_data(ttl=5, show_spinner=False)
def top_posts(
    topic_id: int, start: datetime, end: datetime, polarity: str, limit: int = 6
) -> list[tuple[posts.PostRow, int]]:
    """The most negative (or positive) posts, among those the model labelled so, near-duplicates
    collapsed into one with their count (read deep: a retweet storm fills the first rows with one text)."""
    with engine().connect() as conn:
        found = posts.top_posts(conn, topic_id, start, end, polarity, limit * 50)
    return trends.collapse_similar((p for p in found if p.label == polarity), lambda p: p.text, limit)


@st.cache_data(ttl=30, show_spinner=False)
def negativity_terms(topic_id: int, start: datetime, end: datetime) -> tuple[list[Term], int]:
    """Terms over-represented in the negativity of [start, end) against the week before `start`
    (the same weighted log-odds the alert explanations use), and how many posts that week had."""
    with engine().connect() as conn:
        recent = posts.recent_posts(conn, topic_id, since=start, until=end, limit=2000)
        before = posts.recent_posts(conn, topic_id, since=start - timedelta(days=7), until=start, limit=5000)
    spike, base = ([PostText(p.id, p.text, p.p_neg, p.url) for p in group] for group in (recent, before))
    return over_represented(spike, base, top=12), len(base)


@st.cache_data(ttl=10, show_spinner=False)
def alert_markers(topic_ids: tuple[int, ...], start: datetime) -> list[alerts.Alert]:
    with engine().connect() as conn:
        found = [a for t in topic_ids for a in alerts.list_alerts(conn, topic_id=t, limit=500)]
    return [a for a in found if a.window_start >= start]


@st.cache_data(ttl=3, show_spinner=False)
def alert_list(open_only: bool, limit: int = 100) -> list[alerts.Alert]:
    states = alerts.OPEN_STATES if open_only else (alerts.RESOLVED,)
    with engine().connect() as conn:
        return alerts.list_alerts(conn, states=states, limit=limit)


@st.cache_data(ttl=5, show_spinner=False)
def recent_posts(limit: int = 500) -> list[posts.PostRow]:
    with engine().connect() as conn:
        return posts.recent_posts(conn, limit=limit)


def label_queue(topic_id: int | None, exclude: tuple[str, ...], limit: int = 10) -> list[labels.QueueItem]:
    """Not cached: it changes with every click."""
    with engine().connect() as conn:
        return labels.uncertainty_queue(conn, limit=limit, topic_id=topic_id, exclude=exclude)


@st.cache_data(ttl=5, show_spinner=False)
def label_summary() -> tuple[int, dict[str, int], list[labels.Label]]:
    """(labels waiting for retraining, labels per person, newest labels)."""
    with engine().connect() as conn:
        return labels.waiting_count(conn), labels.counts_by_person(conn), labels.list_labels(conn, limit=100)


@st.cache_data(ttl=10, show_spinner=False)
def model_summary() -> tuple[
    models.ModelVersion | None, list[models.ModelVersion], list[models.ModelVersion]
]:
    """(the live version, registered versions, retraining requests)."""
    with engine().connect() as conn:
        return models.live_version(conn), models.list_versions(conn), models.retrain_history(conn)


def serving_card() -> tuple[str, str, dict[str, Any]]:
    """(folder, why it serves, its card.json) of the model serving now: the live version, else
    SENTIMON_MODEL_PATH, else the shipped default."""
    live = model_summary()[0]
    if live is not None:
        return _card(live.path, "the live version")
    why = "SENTIMON_MODEL_PATH" if settings().model_path else "the shipped default (nothing promoted)"
    return _card(str(settings().resolved_model_path), why)


@st.cache_data(ttl=60, show_spinner=False)
def _card(folder: str, why: str) -> tuple[str, str, dict[str, Any]]:
    """A model folder's card.json, read as JSON (the page loads no torch); {} when it has none."""
    try:
        card = json.loads((Path(folder) / "card.json").read_text())
    except (OSError, ValueError):
        card = {}
    return folder, why, card


def retrained_versions() -> list[models.ModelVersion]:
    """Versions a retraining made (they carry their parent-vs-new evaluation), oldest first."""
    versions = model_summary()[1]
    return sorted((v for v in versions if v.metrics.get("evaluation")), key=lambda v: v.created_at or now())


def retraining_status() -> tuple[int, int, models.ModelVersion | None]:
    """(labels waiting, labels a scheduled retraining waits for, the latest retrained version)."""
    done = retrained_versions()
    return label_summary()[0], settings().retrain_min_labels, done[-1] if done else None


# ---- changes (admins only; each clears the caches it makes stale) ------------------------------


def _require(user: User, action: str) -> None:
    if not user.can(action):
        raise PermissionError(f"{user.role} may not {action.replace('_', ' ')}")


def _audit(conn: Any, user: User, action: str, target: object, **detail: Any) -> None:
    """Log a change in the transaction that makes it: who, what, on what, from where."""
    audit.record(
        conn, user.name, action, role=user.role, target=target, detail=detail, client=client_address()
    )


def create_topic(user: User, name: str, rule: str, alert_config: dict[str, Any]) -> int:
    _require(user, "edit_topics")
    with engine().begin() as conn:
        topic_id = topics.create_topic(conn, name, rule, alert_config)
        _audit(conn, user, "topic_create", topic_id, name=name, rule=rule)
    _topics_changed()
    return topic_id


def update_topic(user: User, topic_id: int, **changes: Any) -> None:
    _require(user, "edit_topics")
    with engine().begin() as conn:
        topics.update_topic(conn, topic_id, **changes)
        _audit(conn, user, "topic_update", topic_id, **{k: _plain(v) for k, v in changes.items()})
    _topics_changed()


def delete_topic(user: User, topic_id: int) -> None:
    _require(user, "edit_topics")
    with engine().begin() as conn:
        topics.delete_topic(conn, topic_id)
        _audit(conn, user, "topic_delete", topic_id)
    _topics_changed()


def silence_topic(user: User, topic_id: int, minutes: int | None) -> None:
    """Mute a topic's alert notices for a while (None lifts the silence)."""
    _require(user, "alert_actions")
    until = now() + timedelta(minutes=minutes) if minutes else None
    with engine().begin() as conn:
        topics.update_topic(conn, topic_id, silenced_until=until)
        _audit(conn, user, "topic_silence", topic_id, minutes=minutes)
    _topics_changed()


def acknowledge_alert(user: User, alert_id: int) -> bool:
    _require(user, "alert_actions")
    with engine().begin() as conn:
        done = alerts.acknowledge(conn, alert_id, user.name)
        _audit(conn, user, "alert_acknowledge", alert_id, done=done)
    _alerts_changed()
    return done


def resolve_alert(user: User, alert_id: int) -> bool:
    _require(user, "alert_actions")
    with engine().begin() as conn:
        done = alerts.resolve(conn, alert_id, user.name)
        _audit(conn, user, "alert_resolve", alert_id, done=done)
    _alerts_changed()
    return done


def add_label(user: User, item: labels.QueueItem, label: str) -> None:
    _require(user, "label")
    with engine().begin() as conn:
        labels.add_label(conn, item.source, item.post_id, item.text, label, user.name)
        _audit(conn, user, "label", f"{item.source}:{item.post_id}", label=label)
    label_summary.clear()


def request_retrain(user: User, note: str) -> str:
    _require(user, "models")
    with engine().begin() as conn:
        request_id = models.request_retrain(conn, user.name, note)
        _audit(conn, user, "retrain_request", request_id, note=note)
    model_summary.clear()
    return request_id


def promote_model(user: User, version: str) -> str:
    """Make a registered version live (its folder is verified first) and tell the workers."""
    _require(user, "models")
    from retraining.promotion import promote_version  # imports torch: only when someone promotes

    done = promote_version(engine(), version, settings().redis_url)
    with engine().begin() as conn:
        _audit(conn, user, "model_promote", done.version, previous=done.previous)
    model_summary.clear()
    return f"{done.version} is live" + (f" (was {done.previous})" if done.previous else "")


def rollback_model(user: User) -> str:
    """Return to the version that was live before; the current one is marked rejected."""
    _require(user, "models")
    from retraining.promotion import rollback

    done = rollback(engine(), settings().redis_url)
    with engine().begin() as conn:
        _audit(conn, user, "model_rollback", done.version, rejected=done.previous)
    model_summary.clear()
    return f"rolled back: {done.version} is live again, {done.previous} rejected"


def _plain(value: Any) -> Any:
    """A change as the log keeps it (times as ISO text)."""
    return value.isoformat() if isinstance(value, datetime) else value


@st.cache_data(ttl=5, show_spinner=False)
def audit_entries(limit: int = 300, actions: tuple[str, ...] = ()) -> list[audit.AuditEntry]:
    with engine().connect() as conn:
        return audit.list_entries(conn, limit, actions)


def _topics_changed() -> None:
    _topics_fingerprint.clear()
    overview_tiles.clear()


def _alerts_changed() -> None:
    alert_list.clear()
    alert_markers.clear()
    overview_tiles.clear()
