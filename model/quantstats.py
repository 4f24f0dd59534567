"""Fit a classifier's quantification correction statistics on labelled data it was not trained on.

What per-topic shares need from the model (see `sentimon/quantify.py`): the confusion matrix
M[i][j] = P(predicted i | true j) for ACC, the mean calibrated posteriors P[i][j] = E[p_i | true j]
for PACC, their inverses, and how uncertain each column is (it was estimated from n_j posts), for
the delta-method part of every interval. Stored as the `quantification` section of config.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

K = 3
# Below this smallest singular value a correction matrix is too close to singular to invert: the
# method falls back to no correction (counting / mean probability) instead of amplifying noise.
MIN_SINGULAR = 0.05


def fit_correction(probs: Any, preds: Any, labels: Any, source: str = "") -> dict[str, Any]:
    """Correction statistics from calibrated probabilities [n, 3], predicted and true class ids."""
    p = np.asarray(probs, dtype=float).reshape(-1, K)
    yhat = np.asarray(preds, dtype=int).reshape(-1)
    y = np.asarray(labels, dtype=int).reshape(-1)
    if not len(p) == len(yhat) == len(y):
        raise ValueError(f"probs, preds and labels differ in length ({len(p)}, {len(yhat)}, {len(y)})")
    counts = np.bincount(y, minlength=K)[:K]
    if (counts == 0).any():
        missing = [c for c in range(K) if counts[c] == 0]
        raise ValueError(f"every class needs labelled examples; none for class ids {missing}")
    onehot = np.eye(K)[yhat]
    acc_cols, acc_covs, pacc_cols, pacc_covs = [], [], [], []
    for j in range(K):
        rows = y == j
        m = onehot[rows].mean(0)
        acc_cols.append(m)
        acc_covs.append((np.diag(m) - np.outer(m, m)) / counts[j])
        pacc_cols.append(p[rows].mean(0))
        pacc_covs.append(np.cov(p[rows].T, ddof=1) / counts[j] if counts[j] > 1 else np.zeros((K, K)))
    return {
        "n": len(y),
        "counts": [int(c) for c in counts],
        "prior": [float(c) for c in counts / counts.sum()],
        "source": source,
        "acc": _method(np.stack(acc_cols, 1), acc_covs),
        "pacc": _method(np.stack(pacc_cols, 1), pacc_covs),
    }


def _method(matrix: np.ndarray, covs: Sequence[np.ndarray]) -> dict[str, Any]:
    """One correction: its matrix, inverse, conditioning and per-class variance bound.

    Delta method: with p = M^-1 q, an error E in M moves p by -M^-1 E p, so the variance of class c's
    share is sum_j p_j^2 a_c C_j a_c (a_c the c-th row of M^-1, C_j the covariance of column j's
    estimate). `var_bound[c]` = max_j a_c C_j a_c, which times sum_j p_j^2 bounds it from above."""
    singular = float(np.linalg.svd(matrix, compute_uv=False).min())
    usable = singular >= MIN_SINGULAR
    inverse = np.linalg.inv(matrix) if usable else np.eye(K)
    bound = [max(float(inverse[c] @ cov @ inverse[c]) for cov in covs) if usable else 0.0 for c in range(K)]
    return {
        "matrix": matrix.round(6).tolist(),
        "inverse": inverse.round(6).tolist(),
        "min_singular_value": round(singular, 6),
        "usable": usable,
        "var_bound": [round(b, 8) for b in bound],
    }


def write_quantification(folder: Path, stats: dict[str, Any]) -> None:
    """Store the statistics in the model folder (config.json, whose hash the card carries, and the
    card), leaving weights and calibration as they are."""
    from model.registry import read_card, sha256, write_card

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    config["quantification"] = stats
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    card = read_card(folder)
    card["quantification"] = stats
    card.setdefault("files", {})["config.json"] = sha256(folder / "config.json")
    write_card(folder, card)
