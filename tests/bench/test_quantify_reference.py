"""Our CC, PCC, ACC, PACC (from window sums) and EMQ agree with QuaPy's on the same posteriors and
correction statistics: QuaPy is the reference implementation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

qp = pytest.importorskip("quapy")

from bench.data import Scored  # noqa: E402
from bench.protocol import Estimators  # noqa: E402
from model.quantstats import fit_correction  # noqa: E402
from sentimon.quantify import Correction  # noqa: E402


class FixedOutput(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose input is a row number into posteriors computed beforehand."""

    def __init__(self, probs: np.ndarray | None = None) -> None:
        self.probs = probs

    def fit(self, X: np.ndarray, y: np.ndarray) -> FixedOutput:
        self.classes_ = np.array([0, 1, 2])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.probs[np.asarray(X).ravel()]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(1)


def posteriors(labels: np.ndarray, seed: int) -> np.ndarray:
    """Informative but imperfect posteriors: the true class's logit raised, plus noise."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.0, (len(labels), 3)) + 1.3 * np.eye(3)[labels]
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def sample_labels(prevalence: tuple[float, float, float], n: int, seed: int) -> np.ndarray:
    counts = np.round(np.asarray(prevalence) * n).astype(int)
    return np.random.default_rng(seed).permutation(np.repeat([0, 1, 2], counts))


@pytest.fixture(scope="module")
def world() -> dict:
    """A calibration set (the statistics' source) and test samples at priors far from its own."""
    cal_y = sample_labels((0.2, 0.35, 0.45), 1500, seed=1)
    tests = {
        "interior": sample_labels((0.6, 0.25, 0.15), 800, seed=2),
        "no negatives": sample_labels((0.0, 0.3, 0.7), 800, seed=3),  # ACC's raw vector leaves the simplex
    }
    labels = np.concatenate([cal_y, *tests.values()])
    probs = posteriors(labels, seed=4)
    clf = FixedOutput(probs).fit(None, None)
    offsets = np.cumsum([0, len(cal_y), *[len(t) for t in tests.values()]])
    index = {"cal": np.arange(offsets[0], offsets[1])}
    for k, name in enumerate(tests):
        index[name] = np.arange(offsets[k + 1], offsets[k + 2])
    return {"probs": probs, "labels": labels, "clf": clf, "index": index}


def ours(world: dict, name: str) -> dict[str, np.ndarray]:
    probs, labels, cal = world["probs"], world["labels"], world["index"]["cal"]
    preds = probs.argmax(1)
    stats = fit_correction(probs[cal], preds[cal], labels[cal])
    test = world["index"][name]
    scored = Scored(probs[test], preds[test], labels[test])
    return Estimators(scored, Correction.from_stats(stats)).shares(np.arange(len(test)))


def reference(world: dict, name: str) -> dict[str, np.ndarray]:
    clf, cal, test = world["clf"], world["index"]["cal"], world["index"][name]
    fixed = {"classifier": clf, "fit_classifier": False, "val_split": None}
    exact = {"solver": "exact-raise", "method": "inversion", "norm": "clip"}
    methods = {
        "cc": qp.method.aggregative.CC(clf, fit_classifier=False),
        "pcc": qp.method.aggregative.PCC(**fixed),
        "acc": qp.method.aggregative.ACC(**fixed, **exact),
        "pacc": qp.method.aggregative.PACC(**fixed, **exact),
        "emq": qp.method.aggregative.EMQ(**fixed, exact_train_prev=True),
    }
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method, quantifier in methods.items():
            quantifier.fit(cal[:, None], world["labels"][cal])
            predictions = quantifier.classify(test[:, None])
            if method == "emq":
                out[method] = quantifier.aggregate(predictions, epsilon=1e-10)
            else:
                out[method] = quantifier.aggregate(predictions)
    return out


@pytest.mark.parametrize("name", ["interior", "no negatives"])
def test_every_estimator_matches_quapy(world: dict, name: str) -> None:
    mine, theirs = ours(world, name), reference(world, name)
    for method in ("cc", "pcc", "acc", "pacc"):
        np.testing.assert_allclose(mine[method], theirs[method], atol=1e-5, err_msg=method)
    np.testing.assert_allclose(mine["emq"], theirs["emq"], atol=1e-4, err_msg="emq")


def test_the_far_prior_is_recovered_and_the_clipped_case_is_really_clipped(world: dict) -> None:
    """The cases above are the ones meant: ACC/PACC undo most of the shift, and the second case's raw
    correction does leave the simplex (so the clipping rule is what is compared there)."""
    interior = ours(world, "interior")
    assert abs(interior["acc"][0] - 0.6) < 0.06 and abs(interior["pacc"][0] - 0.6) < 0.06
    assert abs(interior["cc"][0] - 0.6) > 0.05  # plain counting keeps the calibration mix's bias
    probs, labels, cal = world["probs"], world["labels"], world["index"]["cal"]
    stats = fit_correction(probs[cal], probs[cal].argmax(1), labels[cal])
    q = np.bincount(probs[world["index"]["no negatives"]].argmax(1), minlength=3) / 800
    raw = np.asarray(stats["acc"]["inverse"]) @ q
    assert raw.min() < 0 and ours(world, "no negatives")["acc"][0] == 0.0
