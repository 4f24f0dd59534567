"""The fields of a topic on the Topics page: rule check with a live preview, alert settings."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from dashboard import data
from dashboard.safe import escape_markdown, one_line
from dashboard.widgets import ago
from stream_processor.alerting.config import AlertConfigError, AlertSettings, parse_alert_config
from stream_processor.matcher import TopicMatcher
from stream_processor.rules import check_rule

PREVIEW_POSTS = 500
PREVIEW_ROWS = 30
RULE_HELP = (
    'Keywords (`acme`), phrases (`"acme corp"`), hashtags (`#acme`), handles (`@acme`); '
    "`a b` or `a OR b` means either, `+a` or `a AND b` means required, `-a` or `NOT a` excludes; "
    "parentheses group."
)
_DEFAULTS = AlertSettings()  # what a topic without its own alert settings gets
BASIC_ALERT_KEYS = ("enabled", "min_volume", "min_rise", "sinks")


def name_problem(name: str, taken: set[str]) -> str | None:
    """Why a topic name cannot be used, or None."""
    clean = name.strip()
    if not clean:
        return "Give the topic a name."
    if len(clean) > 100:
        return "Names are at most 100 characters."
    if clean.casefold() in taken:
        return f"There is already a topic called “{escape_markdown(clean)}”."
    return None


def rule_check(rule: str, key: str) -> bool:
    """Show whether the rule parses and which recent posts it would match; True when it is valid."""
    if not rule.strip():
        st.caption("Type a rule to see which recent posts it matches.")
        return False
    problem = check_rule(rule)
    if problem:
        st.error(f"Rule problem: {escape_markdown(problem)}", icon=":material/error:")
        return False
    matcher = TopicMatcher.from_rules({0: rule})
    recent = data.recent_posts(PREVIEW_POSTS)
    hits = [p for p in recent if matcher.match(p.text)]
    st.success(f"Valid rule: matches {len(hits)} of the last {len(recent)} posts.", icon=":material/check:")
    if hits:
        rows = [
            {
                "post": escape_markdown(one_line(p.text, 200)),
                "label": p.label,
                "source": escape_markdown(p.source),
                "when": ago(p.created_at),
            }
            for p in hits[:PREVIEW_ROWS]
        ]
        with st.container(key=f"{key}_preview", height=min(60 + 40 * len(rows), 320)):
            st.table(rows, border="horizontal", hide_index=True)
    return True


def alert_fields(key: str, config: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Alert settings widgets; returns (config, None) when valid, else (None, the problems)."""
    c1, c2, c3 = st.columns(3)
    enabled = c1.toggle("Alerts on", value=bool(config.get("enabled", True)), key=f"{key}_al_on")
    min_volume = c2.number_input(
        "Min posts per minute",
        1,
        100_000,
        int(config.get("min_volume", _DEFAULTS.min_volume)),
        key=f"{key}_al_vol",
        help="A minute with fewer posts is not evidence enough.",
    )
    rise = c3.number_input(
        "Alert on a rise of (points)",
        1,
        99,
        round(100 * float(config.get("min_rise", _DEFAULTS.min_rise))),
        key=f"{key}_al_rise",
        help="How far the negative share must climb above its usual level.",
    )
    webhook = st.text_input("Webhook URL (optional)", _sink(config, "webhook", "url"), key=f"{key}_al_hook")
    emails = st.text_input(
        "Email to (optional, comma-separated)", _sink(config, "email", "to"), key=f"{key}_al_mail"
    )
    extra_default = {k: v for k, v in config.items() if k not in BASIC_ALERT_KEYS}
    extra_text = st.text_area(
        "More settings (JSON)",
        json.dumps(extra_default) if extra_default else "",
        key=f"{key}_al_extra",
        help='e.g. {"confirm_windows": 3, "volume_surge": 1.5}',
        height=68,
    )
    try:
        extra = json.loads(extra_text) if extra_text.strip() else {}
    except json.JSONDecodeError as exc:
        return None, f"More settings: not JSON ({exc.msg} at character {exc.pos + 1})"
    if not isinstance(extra, dict):
        return None, 'More settings: expected a JSON object like {"confirm_windows": 3}'
    result = {**extra, "enabled": enabled, "min_volume": int(min_volume), "min_rise": rise / 100}
    sinks = _sinks(webhook, emails)
    if sinks:
        result["sinks"] = sinks
    try:
        parse_alert_config(result)
    except AlertConfigError as exc:
        return None, str(exc)
    return result, None


def _sink(config: dict[str, Any], kind: str, field: str) -> str:
    for sink in config.get("sinks") or []:
        if isinstance(sink, dict) and sink.get("type") == kind:
            value = sink.get(field, "")
            return ", ".join(value) if isinstance(value, list) else str(value)
    return ""


def _sinks(webhook: str, emails: str) -> list[Any]:
    """Named sinks replace the defaults, so the dashboard's own (redis) and kafka are kept."""
    extra: list[Any] = []
    if webhook.strip():
        extra.append({"type": "webhook", "url": webhook.strip()})
    addresses = [a.strip() for a in emails.split(",") if a.strip()]
    if addresses:
        extra.append({"type": "email", "to": addresses})
    return ["redis", "kafka", *extra] if extra else []
