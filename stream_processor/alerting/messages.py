"""What the sinks send: one JSON payload per alert event, a Slack-compatible body, an email (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from stream_processor.alerting.explain import headline, term_list

if TYPE_CHECKING:
    from email.message import EmailMessage

EMOJI = {"fired": ":rotating_light:", "escalated": ":arrow_double_up:", "resolved": ":white_check_mark:"}
VERB = {"fired": "Negative spike", "escalated": "Spike escalated", "resolved": "Resolved"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def alert_payload(alert: Any, event: str) -> dict[str, Any]:
    """The machine-readable event (Kafka, Redis, webhook metadata): every field of the alert."""
    numbers = {"share_now": alert.share_now, "baseline": alert.baseline, "volume": alert.volume}
    return {
        "event": event,
        "alert_id": alert.id,
        "topic_id": alert.topic_id,
        "topic": alert.topic_name,
        "kind": alert.kind,
        "state": alert.state,
        "severity": alert.severity,
        "window_start": _iso(alert.window_start),
        "opened_at": _iso(alert.opened_at),
        "fired_at": _iso(alert.fired_at),
        "resolved_at": _iso(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        **numbers,
        "headline": headline(alert.topic_name, {**alert.explanation, **numbers}),
        "explanation": alert.explanation,
    }


def title(payload: dict[str, Any]) -> str:
    verb = VERB.get(payload["event"], payload["event"].capitalize())
    return f"[{payload['severity']}] {verb}: {payload['headline']}"


def _terms(payload: dict[str, Any], top: int = 6) -> str:
    terms = payload["explanation"].get("terms") or []
    return term_list(terms[:top]) or "(no stand-out terms)"


def _quotes(payload: dict[str, Any]) -> list[str]:
    return [p["text"].replace("\n", " ")[:280] for p in payload["explanation"].get("posts") or []]


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: text (the fallback), Block Kit blocks, and the full payload
    as message metadata so a bot can act on it."""
    lines = [f"*{title(payload)}*", f"Terms driving it: {_terms(payload)}"]
    if payload["event"] == "resolved":
        lines = [f"*{title(payload)}*"]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if payload["event"] != "resolved":
        for quote in _quotes(payload):
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"> {quote}"}]})
    return {
        "text": f"{EMOJI.get(payload['event'], '')} {title(payload)}".strip(),
        "blocks": blocks,
        "metadata": {"event_type": f"sentimon_alert_{payload['event']}", "event_payload": payload},
    }


def email_message(payload: dict[str, Any], sender: str, recipients: list[str]) -> EmailMessage:
    """A plain-text email a person can read on a phone."""
    from email.message import EmailMessage  # here, not at the top: email.utils pulls in socket

    message = EmailMessage()
    message["Subject"] = f"Sentimon {title(payload)}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    explanation = payload["explanation"]
    body = [
        title(payload),
        "",
        f"Topic: {payload['topic']} (alert #{payload['alert_id']}, {payload['state']})",
        f"Started: {payload['window_start']}",
    ]
    if payload["event"] != "resolved":
        body += [
            f"Negative share now: {_pct(payload['share_now'])}  usual: {_pct(payload['baseline'])}",
            f"Posts per minute: {payload['volume']} (usual {explanation.get('baseline_volume', '?')})",
            f"Terms driving it: {_terms(payload, top=10)}",
            "",
            "Example posts:",
            *[f"  - {q}" for q in _quotes(payload)],
        ]
    message.set_content("\n".join(body) + "\n")
    return message


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"
