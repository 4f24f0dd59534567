"""The typer app: eval (text, --json, --predictions, --record) and bench, on the tiny model."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model.cli import app
from model.registry import read_card
from tests.model.tiny_data import make_texts, write_semeval

runner = CliRunner()


def _eval_file(tmp_path):
    f = tmp_path / "eval.tsv"
    write_semeval(f, *make_texts(30, seed=42))
    return f


def test_eval_json_has_the_task_metrics(tiny_clf, tmp_path):
    f = _eval_file(tmp_path)
    preds = tmp_path / "preds.jsonl"
    result = runner.invoke(
        app,
        [
            "eval",
            "--data",
            str(f),
            "--model",
            str(tiny_clf),
            "--json",
            "--predictions",
            str(preds),
            "--confusion-png",
            str(tmp_path / "c.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {"avgrec", "f1pn", "acc", "n", "per_class", "confusion"} <= set(metrics)
    assert metrics["n"] == 30 and sum(map(sum, metrics["confusion"])) == 30
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(rows) == 30 and {"text", "gold", "label", "probs"} <= set(rows[0])
    assert (tmp_path / "c.png").stat().st_size > 0


def test_eval_text_output_and_record(tiny_clf, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_clf, folder)
    result = runner.invoke(
        app, ["eval", "--data", str(_eval_file(tmp_path)), "--model", str(folder), "--record", "synthetic"]
    )
    assert result.exit_code == 0, result.output
    assert "AvgRec" in result.output and "confusion" in result.output
    assert read_card(folder)["metrics"]["synthetic"]["n"] == 30


def test_calibrate_refits_in_place_and_drops_stale_scores(tiny_clf, tmp_path):
    """Weights untouched, config and card rewritten (hashes still verify), the decision offsets are
    the prior rule on the given labels, and old scores are gone: they described the old rule."""
    import torch

    from model.calibrate import prior_decision
    from model.data import read_semeval
    from model.registry import verify

    folder = tmp_path / "m"
    shutil.copytree(tiny_clf, folder)
    weights = (folder / "weights.pt").read_bytes()
    f = _eval_file(tmp_path)
    recorded = runner.invoke(app, ["eval", "--data", str(f), "--model", str(folder), "--record", "old"])
    assert recorded.exit_code == 0 and "old" in read_card(folder)["metrics"]
    result = runner.invoke(app, ["calibrate", "--model", str(folder), "--val-data", str(f)])
    assert result.exit_code == 0, result.output
    _, card = verify(folder)
    assert (folder / "weights.pt").read_bytes() == weights
    labels = torch.tensor(read_semeval(f)[1])
    assert card["calibration"]["decision"] == prior_decision(labels) and "old" not in card["metrics"]
    assert card["metrics"]["val"]["n"] == 30 and card["metrics"]["val"]["avgrec"] > 0.8
    assert runner.invoke(app, ["calibrate", "--model", str(tmp_path / "nope")]).exit_code == 2


def test_eval_refuses_a_broken_model_with_exit_code_2(tmp_path):
    (tmp_path / "m").mkdir()
    result = runner.invoke(app, ["eval", "--data", str(_eval_file(tmp_path)), "--model", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "card.json" in result.output


def test_bench_json_reports_both_systems(tiny_clf):
    result = runner.invoke(app, ["bench", "--n", "300", "--model", str(tiny_clf), "--json", "--threads", "1"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("{"))
    figures = json.loads(line)
    assert figures["model_tps"] > 0 and figures["vader_tps"] > 0
    assert abs(figures["ratio"] - figures["model_tps"] / figures["vader_tps"]) < 0.01


def test_finetune_rejects_unknown_settings(tiny_lm, tmp_path):
    result = runner.invoke(
        app,
        ["finetune", "--init-from", str(tiny_lm), "--out", str(tmp_path / "x"), "--set", "no_such_knob=1"],
    )
    assert result.exit_code != 0
    assert "no_such_knob" in result.output


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Settings on this test's own SQLite registry, no configured model folder."""
    from sentimon.settings import get_settings

    url = f"sqlite:///{tmp_path / 'reg.db'}"
    monkeypatch.setenv("SENTIMON_DATABASE_URL", url)
    monkeypatch.setenv("SENTIMON_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SENTIMON_MODEL_PATH", raising=False)
    monkeypatch.delenv("SENTIMON_CONFIG", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _register_live(url: str, folder: Path, version: str) -> None:
    from model.registry import update_card
    from sentimon.storage import models
    from sentimon.storage.db import make_engine, migrate

    update_card(folder, version=version)
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        models.register_version(conn, version, str(folder))
        models.promote(conn, version)
    engine.dispose()


def test_eval_and_bench_default_to_the_registry_live_model_and_say_so(tiny_clf, tmp_path, registry):
    live = Path(shutil.copytree(tiny_clf, tmp_path / "live"))
    before = runner.invoke(app, ["eval", "--data", str(_eval_file(tmp_path)), "--json"])
    assert before.exit_code == 0, before.output
    assert "(the shipped default (no live version in the registry))" in before.stderr
    _register_live(registry, live, "tiny-live")
    result = runner.invoke(app, ["eval", "--data", str(_eval_file(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == "tiny-live"
    assert f"model: {live} (the registry's live version tiny-live)" in result.stderr
    bench = runner.invoke(app, ["bench", "--n", "50", "--json", "--threads", "1"])
    assert bench.exit_code == 0 and json.loads(bench.stdout)["model"] == "tiny-live"


def test_eval_reads_the_format_from_the_extension(tiny_clf, tmp_path):
    texts, labels = make_texts(12, seed=3)
    jsonl = tmp_path / "eval.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in zip(texts, labels, strict=True))
    )
    csv_file = tmp_path / "eval.csv"
    csv_file.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in zip(texts, labels, strict=True)))
    for f in (jsonl, csv_file):
        result = runner.invoke(app, ["eval", "--data", str(f), "--model", str(tiny_clf), "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["n"] == 12
    forced = runner.invoke(
        app, ["eval", "--data", str(jsonl), "--model", str(tiny_clf), "--format", "semeval"]
    )
    assert forced.exit_code == 2 and "expected id<TAB>label<TAB>text" in forced.output
    odd = tmp_path / "eval.xlsx"
    odd.write_text("x")
    refused = runner.invoke(app, ["eval", "--data", str(odd), "--model", str(tiny_clf)])
    assert refused.exit_code == 2 and "pass --format" in refused.output


def test_eval_reports_progress_over_every_text(tiny_clf, tmp_path):
    from model.evaluate import evaluate
    from model.inference import load

    seen: list[tuple[int, int]] = []
    clf = load(tiny_clf, threads=1, batch_size=8)
    metrics, _ = evaluate(clf, _eval_file(tmp_path), progress=lambda done, n: seen.append((done, n)))
    assert len(seen) == 4 and seen[-1] == (30, 30) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert metrics == evaluate(load(tiny_clf, threads=1, batch_size=8), _eval_file(tmp_path))[0] | {
        "seconds": metrics["seconds"]
    }


def test_list_shows_the_registry_the_shipped_default_and_what_serves(tiny_clf, tmp_path, registry):
    from model.registry import DEFAULT_PATH, read_card

    root = tmp_path / "var" / "models"
    shutil.copytree(tiny_clf, root / "good")
    (root / "bad").mkdir()
    (root / "bad" / "card.json").write_text("{")
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    shipped = read_card(DEFAULT_PATH)["version"]
    lines = result.output.splitlines()
    assert any("▶" in x and shipped in x and "shipped default" in x for x in lines)
    assert any("folder (clf)" in x and re.search(r"val [01]\.\d{4}", x) for x in lines), result.output
    assert "broken: unreadable model card" in result.output
    assert "serving now: the shipped default" in result.output
    live = Path(shutil.copytree(tiny_clf, tmp_path / "live"))
    _register_live(registry, live, "tiny-live")
    lines = runner.invoke(app, ["list"]).output.splitlines()
    assert any("▶" in x and "tiny-live" in x and "live" in x for x in lines)
    assert not any("▶" in x and shipped in x for x in lines)


def test_recorded_command_names_the_subcommand_once(monkeypatch):
    """Cards keep the command that made them; `sentimon model …` once wrote `sentimon model model …`."""
    from model.cli import _command

    monkeypatch.setattr("sys.argv", ["sentimon", "model", "pretrain", "--epochs", "3"])
    assert _command() == "sentimon model pretrain --epochs 3"
    monkeypatch.setattr("sys.argv", ["model/cli.py", "finetune", "--set", "a=b c"])
    assert _command() == "sentimon model finetune --set 'a=b c'"
