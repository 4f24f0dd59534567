"""alert_config parsing: sensible defaults, every problem named, routes per topic."""

from __future__ import annotations

import pytest

from stream_processor.alerting.config import (
    DEFAULT_SINKS,
    AlertConfigError,
    AlertSettings,
    Route,
    parse_alert_config,
)


def test_empty_config_gives_defaults_and_internal_sinks() -> None:
    settings, routes = parse_alert_config({})
    assert settings == AlertSettings()
    assert [r.sink for r in routes] == list(DEFAULT_SINKS)
    assert AlertSettings().problems() == []


def test_overrides_are_typed() -> None:
    settings, _ = parse_alert_config({"min_volume": 50, "min_rise": 0.1, "volume_surge": 2, "enabled": False})
    assert (settings.min_volume, settings.min_rise, settings.volume_surge, settings.enabled) == (
        50,
        0.1,
        2.0,
        False,
    )
    assert isinstance(settings.volume_surge, float)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(AlertConfigError) as info:
        parse_alert_config({"min_rise": 8, "min_volum": 10, "confirm_windows": 1.5, "enabled": "yes"})
    message = str(info.value)
    assert "min_rise must be between 0 and 1" in message
    assert "unknown setting 'min_volum'" in message
    assert "confirm_windows must be a whole number" in message
    assert "enabled must be true or false" in message


def test_routes_are_validated() -> None:
    config = {
        "sinks": [
            {
                "type": "webhook",
                "url": "https://hooks.example.com/x",
                "secret_env": "HOOK_KEY",
                "format": "json",
            },
            {"type": "email", "to": ["ops@example.com", "pr@example.com"], "min_severity": "major"},
            "redis",
        ]
    }
    _, routes = parse_alert_config(config)
    assert routes[0] == Route(
        "webhook", "https://hooks.example.com/x", None, "HOOK_KEY", "minor", {"format": "json"}
    )
    assert routes[1].target == "ops@example.com,pr@example.com"
    assert not routes[1].wants("minor") and routes[1].wants("critical")
    assert routes[2] == Route("redis")
    with pytest.raises(AlertConfigError, match=r"sinks\[0\] \(webhook\) needs a url"):
        parse_alert_config({"sinks": [{"type": "webhook", "url": "ftp://x"}]})
    with pytest.raises(AlertConfigError, match=r"sinks\[0\] \(email\) needs 'to'"):
        parse_alert_config({"sinks": [{"type": "email", "to": "not an address"}]})
    with pytest.raises(AlertConfigError, match=r"sinks\[0\] needs a type"):
        parse_alert_config({"sinks": [{"type": "pager"}]})
