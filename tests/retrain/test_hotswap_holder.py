"""ModelHolder logic with stand-in classifiers: swap only between batches, refuse broken models."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from model.registry import ModelError
from stream_processor.hotswap import LiveModel, ModelHolder, SwappingClassifier


@dataclass
class Fake:
    version: str

    def classify(self, texts):  # type: ignore[no-untyped-def]
        return [("neutral", (0.2, 0.6, 0.2)) for _ in texts]


class Registry:
    """What model_versions says is live, and the model folders a loader can open."""

    def __init__(self, live: str) -> None:
        self.live: LiveModel | None = LiveModel(live, live)
        self.broken: set[str] = set()
        self.loads: list[str] = []

    def lookup(self) -> LiveModel | None:
        return self.live

    def load(self, path: str) -> Fake:
        self.loads.append(path)
        if path in self.broken:
            raise ModelError(f"{path}: weights.pt does not match the sha256 in card.json (corrupt or edited)")
        return Fake(path)


def holder(reg: Registry, start: str = "v1") -> ModelHolder:
    return ModelHolder(Fake(start), reg.lookup, reg.load, poll_s=3600)


def test_a_promoted_model_is_loaded_beside_and_swapped_in_at_the_next_batch() -> None:
    reg = Registry("v1")
    h = holder(reg)
    swaps: list[tuple[str, str]] = []
    h.on_swap.append(lambda old, new: swaps.append((old, new)))
    assert h.check() == "up to date" and reg.loads == []
    reg.live = LiveModel("v2", "v2")
    assert h.check() == "loaded"
    assert h.version == "v1" and h.peek().version == "v1"  # the running batch keeps the old model
    assert h.check() == "already loaded" and reg.loads == ["v2"]
    assert h.current().version == "v2" and swaps == [("v1", "v2")]
    assert h.current().version == "v2" and swaps == [("v1", "v2")]


def test_a_broken_model_is_refused_once_and_the_old_one_kept() -> None:
    reg = Registry("v1")
    h = holder(reg)
    refusals: list[tuple[str, str]] = []
    h.on_refuse.append(lambda version, why: refusals.append((version, why)))
    reg.live = LiveModel("v2", "v2")
    reg.broken.add("v2")
    assert h.check() == "refused"
    assert h.check() == "refused before" and reg.loads == ["v2"]  # not reloaded on every poll
    assert h.current().version == "v1"
    assert refusals and refusals[0][0] == "v2" and "sha256" in refusals[0][1]


def test_a_model_whose_card_names_another_version_is_refused() -> None:
    reg = Registry("v1")
    h = holder(reg)
    reg.live = LiveModel("v2", "v3")  # the registry points at the wrong folder
    assert h.check() == "refused" and h.current().version == "v1"
    assert "holds v3, the registry says v2" in h.refused["v2"][1]


def test_a_promotion_undone_before_the_swap_is_dropped() -> None:
    reg = Registry("v1")
    h = holder(reg)
    reg.live = LiveModel("v2", "v2")
    assert h.check() == "loaded"
    reg.live = LiveModel("v1", "v1")  # rolled back before any batch ran
    assert h.check() == "up to date"
    assert h.current().version == "v1"


def test_lookup_failures_keep_the_current_model(tmp_path: Path) -> None:
    def down() -> LiveModel | None:
        raise OSError("database is away")

    h = ModelHolder(Fake("v1"), down, Registry("v1").load, poll_s=3600)
    assert h.check() == "lookup failed" and h.current().version == "v1"


def test_swapping_classifier_reports_the_version_that_scored_each_threads_batch() -> None:
    reg = Registry("v1")
    h = holder(reg)
    clf = SwappingClassifier(h)
    assert clf.version == "v1"
    clf.classify(["a"])
    reg.live = LiveModel("v2", "v2")
    h.check()
    assert clf.version == "v1"  # loaded but not yet used: posts of the last batch were scored by v1
    seen: list[str] = []
    worker = threading.Thread(target=lambda: (clf.classify(["b"]), seen.append(clf.version)))
    worker.start()
    worker.join()
    assert seen == ["v2"] and clf.version == "v1"  # this thread's last batch was still v1's


def test_background_thread_wakes_on_demand() -> None:
    reg = Registry("v1")
    h = holder(reg).start()
    try:
        reg.live = LiveModel("v2", "v2")
        h.wake()
        from tests.helpers import wait_until

        wait_until(lambda: reg.loads == ["v2"], timeout=5, message="the holder to load v2 after a wake-up")
    finally:
        h.stop()
    assert h.current().version == "v2"


@dataclass
class Corrected(Fake):
    """A stand-in that labels everything negative, with its own quantification statistics."""

    quantification: dict | None = None

    def classify(self, texts):  # type: ignore[no-untyped-def]
        return [("negative", (0.7, 0.2, 0.1)) for _ in texts]


def test_a_window_scored_across_a_hot_swap_is_corrected_by_each_model(tmp_path: Path) -> None:
    import numpy as np

    from model.quantstats import fit_correction
    from sentimon.quantify import Correction
    from sentimon.storage import topics, windows
    from sentimon.storage.db import make_engine, migrate
    from stream_processor.batch import RawMessage
    from stream_processor.pipeline import Processor
    from stream_processor.rulebook import RuleBook
    from stream_processor.sinks.sql import SqlStore
    from tests.stream_processor.worker_helpers import post_json

    # v1 calls 60% of negatives negative; v2 calls 90% of them negative (columns: true class).
    def stats(recall: float) -> dict:
        rest = (1 - recall) / 2
        matrix = np.array([[recall, 0.2, 0.1], [rest, 0.6, 0.2], [rest, 0.2, 0.7]])
        labels = np.repeat([0, 1, 2], 1000)
        preds = np.concatenate(
            [np.repeat([0, 1, 2], (matrix[:, j] * 1000).round().astype(int)) for j in range(3)]
        )
        return fit_correction(np.eye(3)[preds], preds, labels)

    url = f"sqlite:///{tmp_path / 'swap.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        topic = topics.create_topic(conn, "acme", "acme")
    reg = Registry("v1")
    models = {"v1": Corrected("v1", stats(0.6)), "v2": Corrected("v2", stats(0.9))}
    h = ModelHolder(models["v1"], reg.lookup, lambda path: models[path], poll_s=3600)
    rules = RuleBook(engine)
    rules.refresh()
    processor = Processor(SwappingClassifier(h), SqlStore(engine), matcher=rules.matcher)
    batch = [RawMessage(post_json(i, f"acme {i}"), f"t/0/{i}") for i in range(20)]  # one minute
    processor.commit(processor.compute(batch[:10])[0])
    reg.live = LiveModel("v2", "v2")
    assert h.check() == "loaded"
    processor.commit(processor.compute(batch[10:])[0])
    with engine.connect() as conn:
        [row] = windows.get_windows(conn, topic)
    expected = [10 * Correction.from_stats(models[v].quantification).acc_inv[c][0] for v in ("v1", "v2")
                for c in range(3)]  # fmt: skip
    assert row.agg.n == 20
    assert (row.agg.acc_neg, row.agg.acc_neu, row.agg.acc_pos) == pytest.approx(
        (expected[0] + expected[3], expected[1] + expected[4], expected[2] + expected[5])
    )
