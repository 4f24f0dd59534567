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


def fit_correction(
    probs: Any, preds: Any, labels: Any, source: str = "", groups: Any = None
) -> dict[str, Any]:
    """Correction statistics from calibrated probabilities [n, 3], predicted and true class ids.

    `groups` names each post's collection (a labelled file: a year, a sampling). The statistics
    differ between collections by far more than their sampling error, and a live stream is one
    more collection, so with two or more collections each column's spread between them is added to
    its error (see `_between`)."""
    p = np.asarray(probs, dtype=float).reshape(-1, K)
    yhat = np.asarray(preds, dtype=int).reshape(-1)
    y = np.asarray(labels, dtype=int).reshape(-1)
    g = np.asarray(groups if groups is not None else [""] * len(y)).reshape(-1)
    if not len(p) == len(yhat) == len(y) == len(g):
        raise ValueError(
            f"probs, preds, labels and groups differ in length ({len(p)}, {len(yhat)}, {len(y)}, {len(g)})"
        )
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
        acc_covs.append((np.diag(m) - np.outer(m, m)) / counts[j] + _between(onehot, rows, g))
        pacc_cols.append(p[rows].mean(0))
        sampling = np.cov(p[rows].T, ddof=1) / counts[j] if counts[j] > 1 else np.zeros((K, K))
        pacc_covs.append(sampling + _between(p, rows, g))
    names = [str(name) for name in dict.fromkeys(g.tolist())]
    return {
        "n": len(y),
        "counts": [int(c) for c in counts],
        "prior": [float(c) for c in counts / counts.sum()],
        "source": source,
        "collections": {name: int((g == name).sum()) for name in names} if len(names) > 1 else {},
        "acc": _method(np.stack(acc_cols, 1), acc_covs),
        "pacc": _method(np.stack(pacc_cols, 1), pacc_covs),
    }


MIN_GROUP_POSTS = 30  # of a class, for a collection's column to count in the spread between them


def _between(values: np.ndarray, rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Covariance, between collections, of one column (the mean of `values` over one true class):
    the error of applying statistics pooled over the collections to a new one. It includes each
    collection's own sampling noise, so it errs wide. Zero with fewer than two collections."""
    masks = (rows & (groups == name) for name in dict.fromkeys(groups[rows].tolist()))
    means = [values[mask].mean(0) for mask in masks if mask.sum() >= MIN_GROUP_POSTS]
    if len(means) < 2:
        return np.zeros((K, K))
    return np.atleast_2d(np.cov(np.stack(means).T, ddof=1))


def _method(matrix: np.ndarray, covs: Sequence[np.ndarray]) -> dict[str, Any]:
    """One correction: its matrix, inverse, conditioning and per-class variance bound.

    Delta method: with p = M^-1 q, an error E in M moves p by -M^-1 E p, so the variance of class c's
    share is sum_j p_j^2 a_c C_j a_c (a_c the c-th row of M^-1, C_j the covariance of column j's
    estimate): `var_by_class[c][j]` = a_c C_j a_c. `var_bound[c]` = its max over j, which times
    sum_j p_j^2 bounds the variance from above (what statistics written before var_by_class had)."""
    singular = float(np.linalg.svd(matrix, compute_uv=False).min())
    usable = singular >= MIN_SINGULAR
    inverse = np.linalg.inv(matrix) if usable else np.eye(K)
    # by_class[c][j] = a_c C_j a_c: class c's share variance per unit p_j^2
    by_class = [[float(inverse[c] @ cov @ inverse[c]) if usable else 0.0 for cov in covs] for c in range(K)]
    return {
        "matrix": matrix.round(6).tolist(),
        "inverse": inverse.round(6).tolist(),
        "min_singular_value": round(singular, 6),
        "usable": usable,
        "var_bound": [round(max(row), 8) for row in by_class],
        "var_by_class": [[round(v, 8) for v in row] for row in by_class],
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
