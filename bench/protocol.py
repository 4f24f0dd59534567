"""The artificial-prevalence protocol over the negative share, and every estimator on each sample.

Samples are drawn by QuaPy (stratified, with replacement) at negative prevalences on a grid, the
rest split at random between neutral and positive; each estimator sees only what the product would
see: CC, PCC, ACC and PACC read the same window sums the streaming path adds up (`Correction.
contribution` per post, `estimate` on the sums), EMQ the per-post probabilities. Errors are QuaPy's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from types import SimpleNamespace

import numpy as np
import quapy as qp
from quapy.data import LabelledCollection
from quapy.protocol import OnLabelledCollectionProtocol

from bench.data import Scored
from sentimon.quantify import ALL_METHODS, QUANT_SUMS, Correction, emq, estimate

GRID = tuple(round(0.05 * k, 2) for k in range(1, 18))  # negative prevalence 0.05 .. 0.85
SIZES = (50, 200, 1000)
CLASSES = (0, 1, 2)
_COUNTS = ("n_neg", "n_neu", "n_pos", "sum_neg", "sum_neu", "sum_pos")


class NegativeGridAPP(OnLabelledCollectionProtocol):
    """`repeats` samples of `sample_size` at each negative prevalence of `grid`; yields (grid point,
    index into the collection). Seeded, so the same arguments give the same samples."""

    def __init__(
        self,
        data: LabelledCollection,
        sample_size: int,
        grid: Sequence[float] = GRID,
        repeats: int = 50,
        random_state: int = 0,
    ) -> None:
        super().__init__(random_state)
        self.data = data
        self.sample_size = sample_size
        self.grid = tuple(grid)
        self.repeats = repeats
        self.collator = self.get_collator("index")

    def samples_parameters(self) -> list[tuple[float, np.ndarray]]:
        out = []
        for neg in self.grid:
            for _ in range(self.repeats):
                split = np.random.uniform()
                prevs = (neg, (1 - neg) * split, (1 - neg) * (1 - split))
                out.append((neg, self.data.sampling_index(self.sample_size, *prevs)))
        return out

    def sample(self, params: tuple[float, np.ndarray]) -> LabelledCollection:
        return self.data.sampling_from_index(params[1])

    def total(self) -> int:
        return len(self.grid) * self.repeats


class Estimators:
    """Every method's class shares for any subset of scored posts, the way the product computes them."""

    def __init__(self, scored: Scored, correction: Correction, methods: Sequence[str] = ALL_METHODS):
        self.scored = scored
        self.correction = correction
        self.methods = tuple(methods)
        onehot = np.eye(3)[scored.preds]
        extra = [correction.contribution(int(y), p) for y, p in zip(scored.preds, scored.probs, strict=True)]
        self.table = np.hstack(
            [onehot, scored.probs, np.asarray(extra, dtype=float).reshape(-1, len(QUANT_SUMS))]
        )

    def sums(self, index: np.ndarray) -> SimpleNamespace:
        """What a window holding these posts would hold."""
        totals = self.table[index].sum(0)
        return SimpleNamespace(
            n=len(index), **dict(zip((*_COUNTS, *QUANT_SUMS), totals.tolist(), strict=True))
        )

    def shares(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {method: hat for method, (hat, _, _) in self.estimates(index).items()}

    def estimates(self, index: np.ndarray) -> dict[str, tuple[np.ndarray, float, float]]:
        """Each method's class shares and the 90% interval of its negative share (EMQ has none: NaN)."""
        sums = self.sums(index)
        out = {}
        for method in self.methods:
            if method == "emq":
                hat = emq(self.scored.probs[index].tolist(), self.correction.prior)
                out[method] = (np.asarray(hat), float("nan"), float("nan"))
            else:
                e = estimate(sums, method)
                out[method] = (np.asarray(e.shares), e.negative_low, e.negative_high)
        return out


def app_rows(
    scored: Scored,
    estimators: Estimators,
    sizes: Sequence[int] = SIZES,
    grid: Sequence[float] = GRID,
    repeats: int = 50,
    seed: int = 0,
) -> Iterator[dict[str, float | int | str]]:
    """One row per (sample, method): size, grid point, true and estimated negative share, errors, and
    whether the 90% interval held the true negative share (NaN for a method without one)."""
    data = LabelledCollection(np.arange(len(scored.labels)), scored.labels, classes=list(CLASSES))
    for size in sizes:
        protocol = NegativeGridAPP(data, size, grid, repeats, random_state=seed + size)
        for point, index in protocol():
            truth = qp.functional.prevalence_from_labels(scored.labels[index], classes=list(CLASSES))
            for method, (hat, low, high) in estimators.estimates(index).items():
                covered = float("nan") if math.isnan(low) else float(low <= truth[0] <= high)
                yield error_row(method, truth, hat, size) | {"size": size, "grid": point, "covered": covered}


def error_row(method: str, truth: np.ndarray, hat: np.ndarray, size: int) -> dict[str, float | str]:
    """The negative share's absolute error, mean absolute error over classes and KLD (eps = 1/2n)."""
    return {
        "method": method,
        "true_negative": float(truth[0]),
        "negative": float(hat[0]),
        "ae_negative": float(abs(hat[0] - truth[0])),
        "ae": float(qp.error.ae(truth, hat)),
        "kld": float(qp.error.kld(truth, hat, eps=1 / (2 * size))),
    }
