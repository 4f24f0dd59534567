"""Start a worker: settings → database, model, sinks → Faust app → run until stopped."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from sentimon.settings import Settings
from stream_processor.options import ProcessOptions

if TYPE_CHECKING:
    from stream_processor.worker.core import WorkerCore

log = logging.getLogger(__name__)


def logging_config(level: str, json_logs: bool) -> dict:
    """dictConfig for the Faust worker: our JSON lines instead of its coloured console format."""
    plain = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    formatter = {"()": "stream_processor.logs.JsonFormatter"} if json_logs else plain
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "filters": {"repeats": {"()": "stream_processor.logs.RepeatFilter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["repeats"]}
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "aiokafka": {"level": "WARNING"},
            "faust": {"level": "WARNING"},
            "mode": {"level": "WARNING"},
        },
    }


def run_worker(
    settings: Settings, options: ProcessOptions, loglevel: str = "info", json_logs: bool = True
) -> None:
    """Blocking: load the model once, connect the sinks, and run the Faust worker until SIGTERM/SIGINT."""
    import faust

    from sentimon.storage.db import make_engine
    from stream_processor.alerting.service import AlertCycle
    from stream_processor.driver import Driver
    from stream_processor.hotswap import start_hot_swap
    from stream_processor.metrics import Health
    from stream_processor.pipeline import Processor
    from stream_processor.rulebook import RuleBook
    from stream_processor.sinks.sql import SqlStore
    from stream_processor.worker.app import create_app
    from stream_processor.worker.core import WorkerCore

    if not settings.kafka_bootstrap:
        raise SystemExit("the worker needs Kafka: set SENTIMON_KAFKA_BOOTSTRAP (or use `sentimon run`)")
    engine = make_engine(settings.db_url)
    swap = start_hot_swap(settings, engine)  # the registry's live model, swapped in between batches
    live, refill = [], None
    if settings.redis_url:
        from stream_processor.sinks.refill import redis_view

        redis, refill = redis_view(settings.redis_url, engine, options.heal_every_s)
        live.append(redis)
    processor = Processor(swap.classifier, SqlStore(engine), live, refill=refill)
    health = Health(model_version=swap.holder.version, stall_after_s=options.stall_after_s)
    swap.follow(health)
    alerts = AlertCycle.of(settings, engine)
    core = WorkerCore(Driver(processor, RuleBook(engine), options, health, alerts))
    app = create_app(settings, core, options)
    _tune_gc()
    worker = _worker_class(faust.Worker, core, options.stop_timeout_s)(
        app,
        loglevel=loglevel,
        quiet=True,
        redirect_stdouts=False,
        logging_config=logging_config(loglevel, json_logs),
    )
    worker.execute_from_commandline()


def _worker_class(base: type, core: WorkerCore, stop_timeout_s: float) -> type:
    """faust.Worker that, on SIGTERM/SIGINT, makes every retry loop give up its batch (unacknowledged,
    so it is replayed) and exits for sure within `stop_timeout_s`, whatever the worker is stuck on."""

    class BoundedStopWorker(base):
        def _schedule_shutdown(self, signal: Any) -> None:
            if not core.stopping:
                core.stop()
                log.info("stopping (within %.0fs); an unacknowledged batch will be replayed", stop_timeout_s)
                threading.Thread(target=_exit_after, args=(stop_timeout_s,), daemon=True).start()
            super()._schedule_shutdown(signal)

    return BoundedStopWorker


def _exit_after(seconds: float) -> None:
    threading.Event().wait(seconds)
    log.warning("did not stop within %.0fs; exiting now, unacknowledged messages will be replayed", seconds)
    logging.shutdown()
    os._exit(1)


def _tune_gc() -> None:
    """Every post allocates Faust events, dicts and tensors that die young; the default collector
    then rescans the loaded model and libraries over and over. Freezing what start-up built and
    collecting the young generation less often saved ~4% of worker CPU per post in the bench."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
