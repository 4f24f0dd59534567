"""Periodic work that runs beside stream processing in both runners (the alert cycle plugs in here)."""

from __future__ import annotations

import importlib
import logging

from sentimon.settings import Settings
from stream_processor.timers import Periodic

log = logging.getLogger(__name__)

# "module:function" names of factories `f(settings) -> list[(seconds, callback)]`; a missing module is
# skipped, so the runners work before the alerting service exists. Extend it to add periodic work.
FACTORIES: list[str] = ["stream_processor.alerting.service:periodic_tasks"]


def periodic_tasks(settings: Settings) -> list[Periodic]:
    """Every (seconds, callback) pair the installed factories offer."""
    tasks: list[Periodic] = []
    for name in FACTORIES:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        factory = getattr(module, attr, None)
        if factory is None:
            log.warning("%s has no %s; no periodic tasks from it", module_name, attr)
            continue
        tasks.extend(factory(settings))
    return tasks
