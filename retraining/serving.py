"""Which model serves now (the registry's live version, else the configured folder, else the shipped
default), so that every command taking a model measures the one the workers use and says which."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from model.registry import DEFAULT_PATH, ModelError, list_models, read_card
from sentimon.settings import Settings, get_settings
from sentimon.storage import models
from sentimon.storage.db import make_engine
from sentimon.storage.models import ModelVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """A model folder and why it was chosen (said to the user next to the figures)."""

    path: Path
    why: str


def _settings() -> Settings | None:
    try:
        return get_settings()
    except Exception:  # a broken configuration still lets a user pick a model folder
        return None


def _sqlite_missing(url: str) -> bool:
    """A SQLite database file that is not there yet: nothing registered, and nothing to create."""
    if not url.startswith("sqlite:///"):
        return False
    return not Path(url.removeprefix("sqlite:///")).exists()


def registry_versions(settings: Settings | None = None) -> tuple[list[ModelVersion], str | None]:
    """(registered versions newest first, why the registry could not be read or None)."""
    settings = settings or _settings()
    if settings is None:
        return [], "no settings"
    url = settings.db_url
    if _sqlite_missing(url):
        return [], None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return models.list_versions(conn), None
    except SQLAlchemyError as exc:
        log.debug("registry unreadable: %s", exc)
        return [], f"registry unreadable ({type(exc).__name__})"
    finally:
        engine.dispose()


def choose(explicit: Path | str | None = None) -> Choice:
    """An explicit folder, else the registry's live version, else settings.model_path, else the
    shipped ``model/default`` — the order the workers follow."""
    if explicit:
        return Choice(Path(explicit), "given with --model")
    settings = _settings()
    versions, problem = registry_versions(settings)
    live = next((v for v in versions if v.status == "live"), None)
    if live is not None:
        return Choice(Path(live.path), f"the registry's live version {live.version}")
    note = f"; {problem}" if problem else ""
    configured = settings.model_path if settings else None
    if configured:
        return Choice(Path(configured), f"SENTIMON_MODEL_PATH (no live version in the registry{note})")
    return Choice(DEFAULT_PATH, f"the shipped default (no live version in the registry{note})")


def overview(root: Path | None = None) -> list[dict]:
    """Every model a user can pick: the registry's versions, the shipped default and model folders
    under ``root`` (default <data_dir>/models), each with its status and which one serves now."""
    settings = _settings()
    serving = choose().path.resolve()
    versions, _ = registry_versions(settings)
    rows: list[dict] = []
    seen: set[Path] = set()
    for v in versions:
        seen.add(Path(v.path).resolve())
        rows.append(_row(v.version, v.status, Path(v.path), v.metrics, serving))
    if DEFAULT_PATH.resolve() not in seen:
        rows.append(_card_row(DEFAULT_PATH, "shipped default", serving))
        seen.add(DEFAULT_PATH.resolve())
    root = root or (Path(settings.data_dir) / "models" if settings else Path("var/models"))
    for found in list_models(root):
        path = Path(found["path"]).resolve()
        if path not in seen:
            status = (
                f"broken: {_reason(found['error'])}" if "error" in found else f"folder ({found.get('task')})"
            )
            rows.append(
                _row(found.get("version") or path.name, status, path, found.get("metrics", {}), serving)
            )
    return rows


def _reason(error: str) -> str:
    """A ModelError's message without the folder it starts with (the path column shows it)."""
    return error.split(": ", 1)[-1]


def _card_row(path: Path, status: str, serving: Path) -> dict:
    try:
        card = read_card(path)
    except ModelError as exc:
        return _row(path.name, f"broken: {_reason(str(exc))}", path, {}, serving)
    return _row(card.get("version", path.name), status, path, card.get("metrics", {}), serving)


def _row(version: str, status: str, path: Path, metrics: dict, serving: Path) -> dict:
    return {
        "version": version,
        "status": status,
        "serving": path.resolve() == serving,
        "path": str(path),
        "avgrec": _avgrec(metrics),
    }


def _avgrec(metrics: dict) -> str:
    """Validation / benchmark AvgRec from a card's metrics or a registry row's."""
    parts = [f"{k} {v['avgrec']:.4f}" for k, v in metrics.items() if isinstance(v, dict) and "avgrec" in v]
    if not parts and isinstance(metrics.get("avg_recall"), int | float):
        parts.append(f"validation {metrics['avg_recall']:.4f}")
    return "  ".join(parts[:4])
