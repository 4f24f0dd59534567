"""The typer app: eval (text, --json, --predictions, --record) and bench, on the tiny model."""

from __future__ import annotations

import json
import shutil

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
    metrics = json.loads(result.output)
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


def test_list_shows_versions_and_flags_broken_folders(tiny_clf, tmp_path):
    shutil.copytree(tiny_clf, tmp_path / "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "card.json").write_text("{")
    result = runner.invoke(app, ["list", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "val AvgRec" in result.output and "BROKEN" in result.output


def test_recorded_command_names_the_subcommand_once(monkeypatch):
    """Cards keep the command that made them; `sentimon model …` once wrote `sentimon model model …`."""
    from model.cli import _command

    monkeypatch.setattr("sys.argv", ["sentimon", "model", "pretrain", "--epochs", "3"])
    assert _command() == "sentimon model pretrain --epochs 3"
    monkeypatch.setattr("sys.argv", ["model/cli.py", "finetune", "--set", "a=b c"])
    assert _command() == "sentimon model finetune --set 'a=b c'"
