"""What the labels bought: each retraining records parent vs new on the held-back labels and the
validation set (AvgRec, F1^PN, accuracy, confusion) in the registry, the card and `models list/show`."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from model.registry import read_card
from sentimon.storage import models
from sentimon.storage.db import make_engine
from tests.retrain.tiny import BASE, SLANG, texts, write_labels_csv

pytestmark = pytest.mark.slow


@pytest.fixture
def fake_quantstats(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Stands in for the lead's model.quantstats (fitting and storing are its own tests' business):
    records what retraining refits the statistics from and where it stores them."""
    import model

    calls: dict[str, list] = {"fit": [], "write": []}
    module = types.ModuleType("model.quantstats")

    def fit_correction(probs, preds, labels, source: str = "", groups=None) -> dict:  # type: ignore[no-untyped-def]
        calls["fit"].append((list(probs), list(preds), list(labels), source, list(groups)))
        return {"n": len(labels)}

    def write_quantification(folder: Path, stats: dict) -> None:
        calls["write"].append((Path(folder), stats))

    module.fit_correction = fit_correction  # type: ignore[attr-defined]
    module.write_quantification = write_quantification  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "model.quantstats", module)
    monkeypatch.setattr(model, "quantstats", module, raising=False)
    return calls


def test_retraining_records_what_the_labels_bought_everywhere(
    sentimon_env, invoke, base_data: Path, tmp_path: Path, fake_quantstats: dict[str, list]
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    sentimon_env(url)
    invoke("labels", "import", write_labels_csv(tmp_path / "l.csv", texts(90, SLANG, 7) + texts(30, BASE, 8)))
    assert "promoted" in invoke("retrain", "--base-data", base_data, "--threads", "1").output
    engine = make_engine(url)
    with engine.connect() as conn:
        new = models.live_version(conn)
    engine.dispose()
    evaluation = new.metrics["evaluation"]
    held, val = evaluation["held-back labels"], evaluation["validation"]
    assert held["n"] > 0 and val["n"] == 90
    for row in (held, val):
        for which in ("old", "new"):
            assert {"avgrec", "f1pn", "acc", "confusion"} <= set(row[which])
            assert sum(map(sum, row[which]["confusion"])) == row["n"]
    assert new.metrics["gain"]["validation"]["avgrec"] == pytest.approx(
        val["new"]["avgrec"] - val["old"]["avgrec"], abs=1e-4
    )
    assert val["new"]["avgrec"] > val["old"]["avgrec"]  # the slang half of validation: what labels teach

    card = read_card(Path(new.path))
    assert card["retrain"]["evaluation"] == evaluation and card["serving"] == {"cpu_int8": True}
    md = Path(new.path, "card.md").read_text()
    assert "## What the labels bought" in md and "| validation | 90 | AvgRec |" in md
    assert "Confusion on held-back labels" in md

    ((probs, preds, labels_seen, source, groups),) = fake_quantstats["fit"]
    assert len(probs) == len(preds) == len(labels_seen) == held["n"] + val["n"]
    assert groups == ["held-back labels"] * held["n"] + ["validation"] * val["n"]
    assert all(abs(sum(p) - 1) < 1e-4 for p in probs) and "held-back labels + validation" in source
    assert fake_quantstats["write"] == [(Path(new.path), {"n": held["n"] + val["n"]})]

    listing = invoke("models", "list").output
    assert "120 new labels:" in listing and "held-back labels 0." in listing
    assert f"validation {val['old']['avgrec']:.3f} → {val['new']['avgrec']:.3f}" in listing
    shown = invoke("models", "show", new.version).output
    assert "| validation | 90 | F1^PN |" in shown and "Confusion on validation" in shown
    assert "no model version 'nope'" in invoke("models", "show", "nope", code=2).output
    json.dumps(new.metrics)  # what the dashboard reads back stays plain JSON
