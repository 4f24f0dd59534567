"""Per-topic class prevalence from window aggregates: CC, PCC, ACC, PACC with 90% intervals, and EMQ.

A topic's share of negative posts is a quantification problem: the mean calibrated probability
(PCC) keeps the prior of the set the model was calibrated on, and counting labels (CC) keeps the
classifier's bias. ACC and PACC undo both with the model's correction statistics (its confusion
matrix P(predicted | true) and its mean posteriors per true class, fitted on data it was not trained
on; see `model/quantstats.py`). Both corrections are linear, so each post contributes its own
corrected vector, computed with the statistics of the model that scored it, and windows add those
up: any span of windows, scored by any mix of model versions, is answered from sums. The 90%
interval adds the window's sampling variance and the error of the correction statistics (delta
method), which includes how much they differ between the labelled collections they were fitted on:
a stream is one more collection. Pure Python; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

METHODS = ("cc", "pcc", "acc", "pacc")
ALL_METHODS = (*METHODS, "emq")
# Chosen by `sentimon bench quantify` among the estimators answerable from aggregates (README).
DEFAULT_METHOD = "acc"
Z90 = 1.6448536269514722  # two-sided 90% normal quantile
MIN_POSTS = 10  # fewer posts than this: "too few posts to tell", whatever the interval says
MAX_WIDTH = 0.5  # an interval this wide from the posts' own sampling error says nothing useful either
# What each post adds to its windows, beside the counts and probability sums they already hold.
QUANT_SUMS = (
    "sq_neg",  # sum of p_neg^2: PCC's sampling variance
    "acc_neg", "acc_neu", "acc_pos",  # sum of M^-1 e_predicted (ACC's corrected vector)
    "acc_sq",  # sum of its negative component squared (sampling variance)
    "acc_cv",  # sum of the negative share's variance per unit p_neg^2 from M's error (true-negative column)
    "pacc_neg", "pacc_neu", "pacc_pos", "pacc_sq", "pacc_cv",  # the same for PACC (M = mean posteriors)
    "acc_cv_neu", "acc_cv_pos",  # acc_cv's terms of the true-neutral and true-positive columns
    "pacc_cv_neu", "pacc_cv_pos",  # (last, so the sums stored with a post before them still line up)
)  # fmt: skip


class Sums(Protocol):
    """What an estimate reads: a window aggregate, or the sum of several."""

    n: int
    n_neg: int
    n_neu: int
    n_pos: int
    sum_neg: float
    sum_neu: float
    sum_pos: float
    sq_neg: float
    acc_neg: float
    acc_neu: float
    acc_pos: float
    acc_sq: float
    acc_cv: float
    pacc_neg: float
    pacc_neu: float
    pacc_pos: float
    pacc_sq: float
    pacc_cv: float
    acc_cv_neu: float
    acc_cv_pos: float
    pacc_cv_neu: float
    pacc_cv_pos: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """Class shares of some posts, with the 90% interval of the negative share."""

    method: str
    n: int
    negative: float
    neutral: float
    positive: float
    negative_low: float
    negative_high: float
    # the part of the error that more posts would shrink (the rest, the correction's, does not)
    sampling_se: float = 0.5

    @property
    def shares(self) -> tuple[float, float, float]:
        return (self.negative, self.neutral, self.positive)

    @property
    def too_few(self) -> bool:
        """True when there are too few posts to mean anything: under MIN_POSTS, or so few that their
        own sampling error alone spans MAX_WIDTH. (A wide correction term is not a lack of posts.)"""
        return self.n < MIN_POSTS or 2 * Z90 * self.sampling_se > MAX_WIDTH

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "n": self.n,
            "negative": round(self.negative, 4), "neutral": round(self.neutral, 4),
            "positive": round(self.positive, 4), "negative_low": round(self.negative_low, 4),
            "negative_high": round(self.negative_high, 4), "too_few": self.too_few,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Correction:
    """A model version's correction statistics in the form the streaming path needs."""

    acc_inv: tuple[tuple[float, float, float], ...]  # rows of M^-1 (identity: plain counting)
    pacc_inv: tuple[tuple[float, float, float], ...]
    # per true class j, Var(negative share) per unit p_j^2 from the error of M (and the spread of the
    # collections it was fitted on)
    acc_cv: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pacc_cv: tuple[float, float, float] = (0.0, 0.0, 0.0)
    prior: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)  # class mix the statistics came from

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any] | None) -> Correction:
        """From the `quantification` section of a model's config; none: no correction (identity)."""
        if not stats:
            return IDENTITY
        return cls(
            acc_inv=_rows(stats["acc"]["inverse"]) if stats["acc"]["usable"] else IDENTITY.acc_inv,
            pacc_inv=_rows(stats["pacc"]["inverse"]) if stats["pacc"]["usable"] else IDENTITY.pacc_inv,
            acc_cv=_variances(stats["acc"]),
            pacc_cv=_variances(stats["pacc"]),
            prior=_triple(stats["prior"]),
        )

    def contribution(self, label: int, probs: Sequence[float]) -> tuple[float, ...]:
        """What one post adds to each of QUANT_SUMS, in that order."""
        a = self.acc_inv
        acc = (a[0][label], a[1][label], a[2][label])
        b = self.pacc_inv
        p0, p1, p2 = probs[0], probs[1], probs[2]
        pacc = tuple(r[0] * p0 + r[1] * p1 + r[2] * p2 for r in b)
        cv, pcv = self.acc_cv, self.pacc_cv
        return (p0 * p0, *acc, acc[0] * acc[0], cv[0], *pacc, pacc[0] * pacc[0], pcv[0], *cv[1:], *pcv[1:])


def _variances(method: Mapping[str, Any]) -> tuple[float, float, float]:
    """The negative share's variance terms per true class; statistics from before they were kept
    per class give their upper bound for every class."""
    if not method["usable"]:
        return (0.0, 0.0, 0.0)
    if "var_by_class" in method:
        return _triple(method["var_by_class"][0])
    bound = float(method["var_bound"][0])
    return (bound, bound, bound)


def _triple(row: Sequence[float]) -> tuple[float, float, float]:
    return float(row[0]), float(row[1]), float(row[2])


def _rows(matrix: Sequence[Sequence[float]]) -> tuple[tuple[float, float, float], ...]:
    return tuple(_triple(r) for r in matrix)


IDENTITY = Correction(acc_inv=((1, 0, 0), (0, 1, 0), (0, 0, 1)), pacc_inv=((1, 0, 0), (0, 1, 0), (0, 0, 1)))


def estimate(s: Sums, method: str = DEFAULT_METHOD) -> Estimate:
    """The class shares of the posts summed in `s` by one of METHODS, with a 90% interval."""
    n = int(s.n)
    if n <= 0:
        return Estimate(method, 0, 0.0, 0.0, 0.0, 0.0, 1.0)
    if method == "cc":
        raw = (s.n_neg / n, s.n_neu / n, s.n_pos / n)
        var = raw[0] * (1 - raw[0]) / n
        return _finish(method, n, raw, var, var)
    if method == "pcc":
        raw = (s.sum_neg / n, s.sum_neu / n, s.sum_pos / n)
        var = _sample_var(s.sq_neg, s.sum_neg, n)
        return _finish(method, n, raw, var, var)
    if method in ("acc", "pacc"):
        raw = (
            getattr(s, f"{method}_neg") / n,
            getattr(s, f"{method}_neu") / n,
            getattr(s, f"{method}_pos") / n,
        )
        sampling = _sample_var(getattr(s, f"{method}_sq"), getattr(s, f"{method}_neg"), n)
        p, cv = simplex(raw), correction_variances(s, method)
        correction = p[0] * p[0] * cv[0] + p[1] * p[1] * cv[1] + p[2] * p[2] * cv[2]
        return _finish(method, n, raw, sampling + correction, sampling)
    raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)} (emq needs per-post data)")


def correction_variances(s: Sums, method: str) -> tuple[float, float, float]:
    """Per true class j, the variance the correction statistics' error adds to the negative share of
    ACC or PACC per unit p_j^2, averaged over the posts in `s` (each post carries its own model's)."""
    n = max(int(s.n), 1)
    return (
        getattr(s, f"{method}_cv") / n,
        getattr(s, f"{method}_cv_neu") / n,
        getattr(s, f"{method}_cv_pos") / n,
    )


def _sample_var(sum_sq: float, total: float, n: int) -> float:
    """Variance of a mean of n values from their sum and sum of squares (0.25/n when n is tiny)."""
    if n < 2:
        return 0.25 / max(n, 1)
    return max(sum_sq - total * total / n, 0.0) / (n - 1) / n


def _finish(method: str, n: int, raw: Sequence[float], var: float, sampling: float) -> Estimate:
    neg, neu, pos = simplex(raw)
    half = Z90 * math.sqrt(max(var, 0.0))
    se = math.sqrt(max(sampling, 0.0))
    return Estimate(method, n, neg, neu, pos, max(0.0, neg - half), min(1.0, neg + half), se)


def simplex(raw: Sequence[float]) -> tuple[float, float, float]:
    """Clip a corrected vector to non-negative values and rescale it to sum to one."""
    clipped = [max(x, 0.0) for x in raw]
    total = sum(clipped)
    if total <= 0:
        return (1 / 3, 1 / 3, 1 / 3)
    return (clipped[0] / total, clipped[1] / total, clipped[2] / total)


def emq(
    probs: Iterable[Sequence[float]], prior: Sequence[float], iters: int = 200, tol: float = 1e-6
) -> tuple[float, float, float]:
    """EMQ / SLD (Saerens, Latinne & Decaestecker 2002): re-weight calibrated posteriors by the ratio
    of the estimated to the calibration prior until the prior they imply stops moving. Per post."""
    rows = [tuple(p) for p in probs]
    if not rows:
        return (0.0, 0.0, 0.0)
    base = [max(float(x), 1e-9) for x in prior]
    q = list(base)
    for _ in range(iters):
        ratio = [q[c] / base[c] for c in range(3)]
        acc = [0.0, 0.0, 0.0]
        for p in rows:
            w = (p[0] * ratio[0], p[1] * ratio[1], p[2] * ratio[2])
            z = w[0] + w[1] + w[2] or 1.0
            acc[0], acc[1], acc[2] = acc[0] + w[0] / z, acc[1] + w[1] / z, acc[2] + w[2] / z
        new = [a / len(rows) for a in acc]
        done = max(abs(a - b) for a, b in zip(new, q, strict=True)) < tol
        q = new
        if done:
            break
    return (q[0], q[1], q[2])
