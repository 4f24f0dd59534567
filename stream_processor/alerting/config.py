"""Per-topic alert settings and routes, read from `topics.alert_config` with clear validation errors."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("minor", "major", "critical")
SINK_TYPES = ("webhook", "email", "kafka", "redis")
# Sinks every alert goes to when a topic names none: the dashboard's pub/sub and the Kafka topic.
DEFAULT_SINKS = ("redis", "kafka")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class AlertConfigError(ValueError):
    """An alert_config that cannot be used; the message lists every problem."""


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """How the spike detector judges one topic. Units: shares are fractions (0.08 = 8 points) of the
    corrected negative share, durations are 1-minute windows, z values are in robust standard
    deviations. Defaults tuned by `sentimon bench alerts` (real text, seeds 0-4)."""

    enabled: bool = True
    min_volume: int = 20  # posts in a window for it to count as evidence
    min_rise: float = 0.10  # mean rise of the negative share over the baseline to alert at all
    half_life: float = 30.0  # of the EWMA baseline and its spread
    warmup_windows: int = 30  # windows with data before the first alert
    z_enter: float = 2.0  # a window this high (and min_rise up) opens a pending episode
    threshold: float = 3.2  # combined z of the recent elevated windows needed to fire
    z_cap: float = 5.0  # one window counts at most this much (a lone outlier cannot carry an alert)
    confirm_windows: int = 2  # pending period: windows of evidence needed, at least
    scan_windows: int = 4  # ... and at most (older windows of a long run no longer count)
    recover_z: float = 0.5  # a window counts as back at the baseline at or below this z ...
    recover_rise: float = 0.03  # ... or at or below this rise over the baseline
    recover_windows: int = 3  # recovered windows in a row to resolve
    cooldown_windows: int = 10  # after a resolve, no new alert for this long ...
    cooldown_break: float = 0.05  # ... unless its rise beats the last alert's by this much
    stale_windows: int = 30  # an open alert with no data for this long is resolved
    max_firing_windows: int = 360  # a rise that lasts this long becomes the new baseline
    volume_surge: float | None = None  # e.g. 1.5: also require volume >= 1.5x its baseline
    severity_major: float = 0.15  # rise for severity "major"
    severity_critical: float = 0.30  # rise for severity "critical"
    sigma_floor: float = 0.005  # spread never assumed below half a point

    @property
    def alpha(self) -> float:
        return 1.0 - 0.5 ** (1.0 / self.half_life)

    def severity(self, rise: float) -> str:
        if rise >= self.severity_critical:
            return "critical"
        return "major" if rise >= self.severity_major else "minor"

    def problems(self) -> list[str]:
        """Every rule this combination breaks, in words a user can act on."""
        checks = [
            (self.min_volume >= 1, "min_volume must be at least 1"),
            (0 < self.min_rise < 1, "min_rise must be between 0 and 1 (a share, 0.08 = 8 points)"),
            (self.half_life >= 1, "half_life must be at least 1 window"),
            (self.warmup_windows >= 1, "warmup_windows must be at least 1"),
            (self.z_enter > self.recover_z, "z_enter must be above recover_z"),
            (self.threshold > 0, "threshold must be positive"),
            (self.z_cap >= self.z_enter, "z_cap must be at least z_enter"),
            (self.confirm_windows >= 1, "confirm_windows must be at least 1"),
            (self.scan_windows >= self.confirm_windows, "scan_windows must be at least confirm_windows"),
            (0 <= self.recover_rise < self.min_rise, "recover_rise must be in [0, min_rise)"),
            (self.recover_windows >= 1, "recover_windows must be at least 1"),
            (self.cooldown_windows >= 0, "cooldown_windows must not be negative"),
            (0 < self.cooldown_break < 1, "cooldown_break must be between 0 and 1 (a share)"),
            (self.stale_windows >= 1, "stale_windows must be at least 1"),
            (self.max_firing_windows >= 1, "max_firing_windows must be at least 1"),
            (self.volume_surge is None or self.volume_surge > 1, "volume_surge must be above 1 (or null)"),
            (
                0 < self.severity_major <= self.severity_critical < 1,
                "need 0 < severity_major <= severity_critical < 1",
            ),
            (self.sigma_floor > 0, "sigma_floor must be positive"),
        ]
        return [message for ok, message in checks if not ok]


@dataclass(frozen=True, slots=True)
class Route:
    """Where one topic's alerts go: a sink type and, for webhook and email, its target."""

    sink: str
    target: str | None = None  # webhook URL, or comma-separated email addresses
    secret: str | None = None  # webhook HMAC-SHA256 key, given inline ...
    secret_env: str | None = None  # ... or the name of an environment variable holding it
    min_severity: str = "minor"
    options: dict[str, Any] = field(default_factory=dict)

    def wants(self, severity: str) -> bool:
        return SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)


def parse_alert_config(config: dict[str, Any] | None) -> tuple[AlertSettings, list[Route]]:
    """The settings and routes of one topic; raises AlertConfigError listing every problem."""
    config = dict(config or {})
    sinks = config.pop("sinks", None)
    problems: list[str] = []
    settings = _settings(config, problems)
    routes = _routes(sinks, problems)
    if problems:
        raise AlertConfigError("alert_config: " + "; ".join(problems))
    return settings, routes


def _settings(config: dict[str, Any], problems: list[str]) -> AlertSettings:
    fields = {f.name: f for f in dataclasses.fields(AlertSettings)}
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key not in fields:
            problems.append(f"unknown setting '{key}' (known: {', '.join(sorted(fields))})")
            continue
        default = fields[key].default
        if key == "volume_surge" and value is None:
            values[key] = None
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                problems.append(f"{key} must be true or false, got {value!r}")
                continue
            values[key] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{key} must be a number, got {value!r}")
        elif isinstance(default, int) and not float(value).is_integer():
            problems.append(f"{key} must be a whole number, got {value!r}")
        else:
            values[key] = int(value) if isinstance(default, int) else float(value)
    settings = AlertSettings(**values)
    problems.extend(settings.problems())
    return settings


def _routes(sinks: Any, problems: list[str]) -> list[Route]:
    if sinks is None:
        return [Route(sink=name) for name in DEFAULT_SINKS]
    if not isinstance(sinks, list):
        problems.append('sinks must be a list, e.g. [{"type": "webhook", "url": "https://…"}]')
        return []
    routes = []
    for i, entry in enumerate(sinks):
        if isinstance(entry, str):
            entry = {"type": entry}
        route = _route(entry, f"sinks[{i}]", problems)
        if route:
            routes.append(route)
    return routes


def _route(entry: Any, where: str, problems: list[str]) -> Route | None:
    if not isinstance(entry, dict) or entry.get("type") not in SINK_TYPES:
        problems.append(f"{where} needs a type, one of {', '.join(SINK_TYPES)}")
        return None
    entry = dict(entry)
    sink = entry.pop("type")
    min_severity = entry.pop("min_severity", "minor")
    if min_severity not in SEVERITIES:
        problems.append(f"{where}.min_severity must be one of {', '.join(SEVERITIES)}")
        return None
    secret, secret_env = entry.pop("secret", None), entry.pop("secret_env", None)
    target = None
    if sink == "webhook":
        target = entry.pop("url", None)
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            problems.append(f"{where} (webhook) needs a url starting with http:// or https://")
            return None
    elif sink == "email":
        to = entry.pop("to", None)
        to = [to] if isinstance(to, str) else to
        if not to or not isinstance(to, list) or not all(isinstance(a, str) and _EMAIL.match(a) for a in to):
            problems.append(f"{where} (email) needs 'to': one or more email addresses")
            return None
        target = ",".join(to)
    return Route(sink, target, secret, secret_env, min_severity, options=entry)
