"""``sentimon bench labelling``: do the labelling queue's "most uncertain first" labels buy more than
labels in random order? Simulated on a labelled file: label N posts by each policy, retrain as
``sentimon retrain`` does, and score the gain on a fixed test slice of the same file."""

from __future__ import annotations

import contextlib
import json
import math
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from model.data import DEFAULT_DATA_DIR, SEMEVAL_DIR
from retraining import data as rd
from retraining.data import VALIDATION_FILE, LabelledText, Slices, as_labelled, bucket, split_labels

if TYPE_CHECKING:
    from retraining.retrain import RetrainOptions

POLICIES = (
    "uncertain",
    "random",
)  # the queue's order (sentimon.storage.labels.uncertainty_queue), the reference
DEFAULT_DATA = DEFAULT_DATA_DIR / SEMEVAL_DIR / VALIDATION_FILE


def entropy(probs: tuple[float, float, float]) -> float:
    """Bits, as the labelling queue ranks posts."""
    return -sum(p * math.log2(p) for p in probs if p > 0)


def read_stream(
    path: Path, fmt: str | None, test_share: float
) -> tuple[list[LabelledText], list[LabelledText]]:
    """(pool a labeller would see, test slice never labelled), split by post key."""
    from retraining.labels_io import read_label_file

    rows = [
        LabelledText(f"{r.source}:{r.post_id}", r.text, r.label) for r in read_label_file(Path(path), fmt)
    ]
    test = [r for r in rows if bucket(r.key) < test_share]
    return [r for r in rows if bucket(r.key) >= test_share], test


def orders(
    pool: list[LabelledText], probs: list, repeats: int, seed: int
) -> dict[str, list[list[LabelledText]]]:
    """Each policy's labelling order: by entropy (one order), and ``repeats`` random shuffles."""
    ranked = [pool[i] for i in sorted(range(len(pool)), key=lambda i: -entropy(probs[i]))]
    shuffled = []
    for r in range(repeats):
        order = list(pool)
        random.Random(seed + r).shuffle(order)
        shuffled.append(order)
    return {"uncertain": [ranked], "random": shuffled}


def run(
    data: Path = DEFAULT_DATA,
    fmt: str | None = None,
    model_path: Path | None = None,
    budgets: tuple[int, ...] = (50, 100, 200),
    repeats: int = 1,
    epochs: int = 1,
    test_share: float = 0.3,
    threads: int | None = None,
    seed: int = 0,
    say: Callable[[str], object] = print,
    base_data: Path | None = None,
) -> dict:
    """Baseline on the test slice, then per policy and budget the retrained model's gain over it."""
    from model.inference import load
    from retraining.retrain import RetrainOptions
    from retraining.serving import choose

    base = choose(model_path).path
    pool, test = read_stream(data, fmt, test_share)
    clf = load(base, threads=threads)
    probs = [p for _, p in clf.classify([r.text for r in pool])]
    # Trained on the chosen labels alone; tuned and calibrated as `retrain` does, on SemEval 2016dev plus
    # the labels' tune slice: calibrating on the chosen posts alone would divide out the skewed class
    # mix of whatever a policy picked.
    base_dir: Path | None = base_data or rd.default_base_dir()
    base_dir = base_dir if rd.base_available(base_dir) else None
    options = RetrainOptions(epochs=epochs, threads=threads, seed=seed, base_train=False, grow_vocab=0)
    tune = "2016dev + the labels' tune slice" if base_dir else "the labels' tune slice"
    result: dict = {
        "model": clf.version,
        "data": str(data),
        "pool": len(pool),
        "test": len(test),
        "tune": tune,
    }
    result["runs"] = []
    say(f"{clf.version}: pool {len(pool)} posts, test slice {len(test)}; budgets {list(budgets)}")
    for policy, policy_orders in orders(pool, probs, repeats, seed).items():
        for r, order in enumerate(policy_orders):
            for n in budgets:
                chosen = order[: min(n, len(order))]
                gain = _retrain_gain(base, chosen, test, options, base_dir)
                result["runs"].append({"policy": policy, "repeat": r, "labels": len(chosen), **gain})
                say(f"{policy} #{r} {len(chosen)} labels: AvgRec {gain['old']:.4f} → {gain['new']:.4f}")
    result["baseline_avgrec"] = result["runs"][0]["old"] if result["runs"] else None
    result["summary"] = summary(result["runs"])
    result["winner"] = max(result["summary"], key=lambda p: result["summary"][p]["mean_gain"])
    return result


def _retrain_gain(
    base: Path,
    chosen: list[LabelledText],
    test: list[LabelledText],
    options: RetrainOptions,
    base_dir: Path | None,
) -> dict:
    from retraining.evaluate import evaluate_pair
    from retraining.retrain import train_candidate

    slices = split_labels(chosen, holdout=0.0, tune=0.2)
    with (
        tempfile.TemporaryDirectory(prefix="sentimon-bench-labelling-") as work,
        contextlib.redirect_stdout(sys.stderr),  # the training loop's epoch lines: stdout stays JSON
    ):
        folder, _ = train_candidate(
            base, Slices(slices.train, slices.tune), base_dir, options, Path(work), _quiet
        )
        scores, _ = evaluate_pair(base, folder, {"test": as_labelled(test)}, options.threads)
    old, new = scores["test"]["old"], scores["test"]["new"]
    return {
        "old": old["avgrec"],
        "new": new["avgrec"],
        "gain": round(new["avgrec"] - old["avgrec"], 4),
        "f1pn_gain": round(new["f1pn"] - old["f1pn"], 4),
        "acc_gain": round(new["acc"] - old["acc"], 4),
    }


def _quiet(_: str) -> None:
    pass


def summary(runs: list[dict]) -> dict[str, dict]:
    """Per policy: mean gain over every budget and repeat, and the mean gain at each budget."""
    out: dict[str, dict] = {}
    for policy in POLICIES:
        mine = [r for r in runs if r["policy"] == policy]
        if not mine:
            continue
        by_n: dict[int, list[float]] = {}
        for r in mine:
            by_n.setdefault(r["labels"], []).append(r["gain"])
        out[policy] = {
            "mean_gain": round(sum(r["gain"] for r in mine) / len(mine), 4),
            "gain_by_labels": {n: round(sum(g) / len(g), 4) for n, g in sorted(by_n.items())},
        }
    return out


def plot(result: dict, out: Path) -> Path:
    """gain in AvgRec against labels given, one line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for policy, s in result["summary"].items():
        xs = list(s["gain_by_labels"])
        ax.plot(xs, [s["gain_by_labels"][x] for x in xs], marker="o", label=policy)
    ax.axhline(0, color="#999", lw=0.8)
    ax.set_xlabel("labels given")
    ax.set_ylabel("AvgRec gain on the test slice")
    ax.set_title(f"{result['model']}: labels that count")
    ax.legend()
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)


def bench_labelling_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    data: Path = typer.Option(
        DEFAULT_DATA, help="Labelled file standing in for the stream (CSV/JSONL/SemEval TSV)"
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, jsonl or semeval (default: from the extension)"
    ),
    model_path: Path | None = typer.Option(
        None, "--model", help="Model to retrain (default: the serving one)"
    ),
    budgets: str = typer.Option("50,100,200", help="Numbers of labels to give, comma-separated"),
    repeats: int = typer.Option(1, help="Random orders tried (the uncertain order is one)"),
    epochs: int = typer.Option(1, help="Fine-tuning epochs per retraining"),
    test_share: float = typer.Option(0.3, help="Share of the file kept as the never-labelled test slice"),
    threads: int | None = typer.Option(None, help="CPU threads for torch"),
    seed: int = typer.Option(0),
    png: Path = typer.Option(Path("var/bench/labelling.png"), help="Plot of gain against labels"),
    base_data: Path | None = typer.Option(
        None, help="Shared data folder whose 2016dev joins the tune set (default ../shared/data)"
    ),
) -> None:
    """Most-uncertain-first labelling against random order: label N posts by each, retrain, compare the
    AvgRec each buys on a test slice of the same file (the queue's default is what wins)."""
    from model.data import DataError
    from model.registry import ModelError

    try:
        sizes = tuple(int(x) for x in budgets.split(",") if x.strip())
        result = run(
            data, fmt, model_path, sizes, repeats, epochs, test_share, threads, seed, _stderr, base_data
        )
    except (ValueError, DataError, ModelError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    result["png"] = str(plot(result, png))
    if json_out:
        typer.echo(json.dumps(result))
        return
    for policy, s in result["summary"].items():
        steps = ", ".join(f"{n}: {g:+.4f}" for n, g in s["gain_by_labels"].items())
        typer.echo(f"{policy:<10} mean AvgRec gain {s['mean_gain']:+.4f}  (by labels {steps})")
    typer.echo(
        f"winner: {result['winner']} (baseline AvgRec {result['baseline_avgrec']:.4f}); plot {result['png']}"
    )


def _stderr(message: str) -> None:
    typer.echo(message, err=True)
