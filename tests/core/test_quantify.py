"""Per-topic share estimators against hand-computed cases, and the interval's coverage."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from model.quantstats import fit_correction
from sentimon.quantify import IDENTITY, QUANT_SUMS, Correction, emq, estimate, simplex
from sentimon.schema import Post, ScoredPost, WindowAggregate, total
from sentimon.sentiment import LABELS
from stream_processor.windows import WindowState

T0 = datetime(2026, 12, 1, tzinfo=UTC)
# A classifier that calls 70% of negatives negative, 20% neutral, 10% positive (columns: true class).
M = [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7]]


def _stats(matrix: list[list[float]], per_class: int = 1000) -> dict:
    """Correction statistics whose confusion matrix is exactly `matrix` (one-hot probabilities)."""
    probs, preds, labels = [], [], []
    for true in range(3):
        for pred in range(3):
            k = round(matrix[pred][true] * per_class)
            probs += [np.eye(3)[pred]] * k
            preds += [pred] * k
            labels += [true] * k
    return fit_correction(np.array(probs), preds, labels)


def _window(correction: Correction, posts: list[tuple[int, tuple[float, float, float]]]) -> WindowState:
    w = WindowState(1, T0)
    for i, (label, probs) in enumerate(posts):
        post = Post(source="t", id=str(i), text="x", created_at=T0)
        w.add_post(ScoredPost(post, LABELS[label], probs, "v", [1], correction.contribution(label, probs)))
    return w


def test_acc_inverts_the_confusion_matrix_far_from_the_training_prior() -> None:
    # True mix 80% negative: the classifier's labels are 0.8*col0 + 0.1*col1 + 0.1*col2 of M.
    correction = Correction.from_stats(_stats(M))
    q = [0.8 * M[i][0] + 0.1 * M[i][1] + 0.1 * M[i][2] for i in range(3)]  # (0.59, 0.28, 0.17)
    counts = [round(x * 100) for x in q]
    posts = [(c, tuple(np.eye(3)[c])) for c in range(3) for _ in range(counts[c])]
    w = _window(correction, posts)
    cc = w.estimate("cc")
    acc = w.estimate("acc")
    assert cc.negative == pytest.approx(0.59)
    assert acc.shares == pytest.approx((0.8, 0.1, 0.1), abs=1e-6)
    assert acc.negative_low < 0.8 < acc.negative_high


def test_pacc_inverts_mean_posteriors() -> None:
    # Mean posteriors per true class (columns); a sample that is all negative has mean p = column 0.
    probs = [(0.6, 0.3, 0.1)] * 50 + [(0.2, 0.5, 0.3)] * 50 + [(0.1, 0.3, 0.6)] * 50
    stats = fit_correction(np.array(probs), [0] * 50 + [1] * 50 + [2] * 50, [0] * 50 + [1] * 50 + [2] * 50)
    correction = Correction.from_stats(stats)
    w = _window(correction, [(0, (0.6, 0.3, 0.1))] * 40)
    assert w.estimate("pcc").negative == pytest.approx(0.6)
    assert w.estimate("pacc").shares == pytest.approx((1.0, 0.0, 0.0), abs=1e-6)


def test_near_singular_confusion_falls_back_to_counting() -> None:
    # Neutral and positive are indistinguishable: M has two equal columns, no inverse to trust.
    singular = [[0.8, 0.1, 0.1], [0.1, 0.45, 0.45], [0.1, 0.45, 0.45]]
    stats = _stats(singular)
    assert not stats["acc"]["usable"]
    correction = Correction.from_stats(stats)
    assert correction.acc_inv == IDENTITY.acc_inv
    w = _window(correction, [(0, (1.0, 0.0, 0.0))] * 3 + [(1, (0.0, 1.0, 0.0))] * 7)
    est = w.estimate("acc")
    assert est.shares == pytest.approx((0.3, 0.7, 0.0))
    assert all(0.0 <= x <= 1.0 for x in (*est.shares, est.negative_low, est.negative_high))


def test_corrected_vectors_are_clipped_to_the_simplex() -> None:
    assert simplex((1.2, -0.1, -0.1)) == pytest.approx((1.0, 0.0, 0.0))
    assert simplex((0.5, 0.7, -0.2)) == pytest.approx((0.5 / 1.2, 0.7 / 1.2, 0.0))
    assert simplex((-1.0, -1.0, -1.0)) == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_spans_and_model_versions_add_up_post_by_post() -> None:
    # Two model versions in one window (a hot swap): each post corrected by its own statistics.
    old, new = Correction.from_stats(_stats(M)), IDENTITY
    a = _window(old, [(0, (1.0, 0.0, 0.0))] * 6 + [(2, (0.0, 0.0, 1.0))] * 4)
    b = _window(new, [(0, (1.0, 0.0, 0.0))] * 5 + [(1, (0.0, 1.0, 0.0))] * 5)
    both = total([a, b])
    assert both.n == 20 and b.acc_neg == 5  # identity: the new model's labels count as they are
    raw = ((a.acc_neg + 5) / 20, (a.acc_neu + 5) / 20, a.acc_pos / 20)
    assert both.estimate("acc").shares == pytest.approx(simplex(raw))


def test_emq_recovers_a_shifted_prior_from_calibrated_posteriors() -> None:
    rng = random.Random(1)
    prior = (0.2, 0.4, 0.4)
    # Posteriors calibrated to `prior`: Bayes with class likelihoods, for a sample that is 70% negative.
    lik = [(0.7, 0.2, 0.1), (0.2, 0.6, 0.2), (0.1, 0.2, 0.7)]  # P(feature | class) of 3 features
    rows = []
    for _ in range(3000):
        true = 0 if rng.random() < 0.7 else rng.choice((1, 2))
        f = rng.choices(range(3), weights=lik[true])[0]
        joint = [prior[c] * lik[c][f] for c in range(3)]
        rows.append(tuple(j / sum(joint) for j in joint))
    neg = emq(rows, prior)[0]
    pcc = sum(r[0] for r in rows) / len(rows)
    assert abs(neg - 0.7) < 0.05 and abs(pcc - 0.7) > 0.2


@pytest.mark.parametrize("method", ["acc", "pacc"])
def test_the_90_percent_interval_covers_the_truth_at_about_its_rate(method: str) -> None:
    """Simulated samples from a known classifier: a fresh calibration set (so the correction's own
    error is part of the picture) and a topic sample of 200 posts, 400 times."""
    rng = np.random.default_rng(3)
    lik = np.array([[0.65, 0.25, 0.10], [0.20, 0.55, 0.25], [0.10, 0.25, 0.65]])  # rows: true class

    def draw(counts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels = np.repeat([0, 1, 2], counts)
        feats = (rng.random(len(labels))[:, None] > lik[labels].cumsum(1)).sum(1)
        probs = lik[:, feats].T * 0.9 + 0.1 / 3  # soft, imperfect posteriors
        probs /= probs.sum(1, keepdims=True)
        return probs, probs.argmax(1), labels

    covered, trials = 0, 400
    for _ in range(trials):
        correction = Correction.from_stats(fit_correction(*draw([300, 300, 300])))
        truth = rng.uniform(0.1, 0.8)
        counts = rng.multinomial(200, [truth, (1 - truth) / 2, (1 - truth) / 2])
        probs, preds, _labels = draw(list(counts))
        w = WindowAggregate(1, T0)
        for p, c in zip(probs, preds, strict=True):
            sums = correction.contribution(int(c), tuple(p))
            w.add(_as_window(sums, int(c), p))
        est = estimate(w, method)
        covered += est.negative_low <= counts[0] / 200 <= est.negative_high
    assert 0.84 <= covered / trials <= 0.97


def _as_window(sums: tuple[float, ...], label: int, probs: np.ndarray) -> WindowAggregate:
    w = WindowAggregate(1, T0, n=1, sum_neg=float(probs[0]), sum_neu=float(probs[1]), sum_pos=float(probs[2]))
    setattr(w, ("n_neg", "n_neu", "n_pos")[label], 1)
    for name, value in zip(QUANT_SUMS, sums, strict=True):
        setattr(w, name, value)
    return w


def test_too_few_posts_to_tell() -> None:
    w = _window(IDENTITY, [(0, (1.0, 0.0, 0.0))] * 3)
    assert w.estimate().too_few
    assert (
        not _window(IDENTITY, [(0, (0.9, 0.05, 0.05))] * 30 + [(1, (0.1, 0.8, 0.1))] * 30).estimate().too_few
    )


def test_statistics_from_several_collections_widen_the_interval_by_their_spread() -> None:
    """Each labelled collection has its own confusion matrix (a year, a sampling), and a topic's
    stream is one more. Fitted on four collections, the 90% interval of a large sample from a fifth
    covers its truth about as often as it says only when the spread between collections is counted."""
    rng = np.random.default_rng(7)
    base = np.array([[0.70, 0.25, 0.10], [0.20, 0.55, 0.25], [0.10, 0.20, 0.65]])  # columns: true class

    def collection() -> np.ndarray:
        m = np.clip(base + rng.normal(0, 0.06, (3, 3)), 0.02, None)
        return m / m.sum(0)

    def draw(matrix: np.ndarray, counts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels = np.repeat([0, 1, 2], counts)
        preds = np.array([rng.choice(3, p=matrix[:, y]) for y in labels])
        return np.eye(3)[preds], preds, labels

    covered = {"pooled": 0, "grouped": 0}
    trials = 60
    for _ in range(trials):
        parts = [draw(collection(), [400, 400, 400]) for _ in range(4)]
        probs, preds, labels = (np.concatenate([p[i] for p in parts]) for i in range(3))
        groups = np.repeat(["a", "b", "c", "d"], 1200)
        truth = rng.uniform(0.1, 0.7)
        counts = list(rng.multinomial(2000, [truth, (1 - truth) / 2, (1 - truth) / 2]))
        _, stream, _ = draw(collection(), counts)
        share = counts[0] / 2000
        for name, stats in (("pooled", fit_correction(probs, preds, labels)),
                            ("grouped", fit_correction(probs, preds, labels, groups=groups))):  # fmt: skip
            correction = Correction.from_stats(stats)
            w = WindowAggregate(1, T0)
            for c in stream:
                w.add(_as_window(correction.contribution(int(c), tuple(np.eye(3)[c])), int(c), np.eye(3)[c]))
            est = estimate(w, "acc")
            covered[name] += est.negative_low <= share <= est.negative_high
    assert covered["pooled"] / trials < 0.7 <= 0.8 <= covered["grouped"] / trials, covered
    stats = fit_correction(probs, preds, labels, groups=groups)
    assert stats["collections"] == {"a": 1200, "b": 1200, "c": 1200, "d": 1200}


def test_each_true_class_adds_its_own_correction_term_to_the_interval() -> None:
    """The error of M's true-neutral column widens a window only as far as the window is neutral;
    statistics stored before the terms were kept per class bound every class by the widest."""
    from sentimon.quantify import Z90

    def half(correction: Correction, posts: list[tuple[int, tuple[float, float, float]]]) -> float:
        e = _window(correction, posts).estimate("acc")
        return (e.negative_high - e.negative_low) / 2

    neutral_only = Correction(acc_inv=IDENTITY.acc_inv, pacc_inv=IDENTITY.pacc_inv, acc_cv=(0.0, 0.04, 0.0))
    no_neutral = [(0, (0.8, 0.1, 0.1))] * 50 + [(2, (0.1, 0.1, 0.8))] * 50
    half_neutral = [(0, (0.8, 0.1, 0.1))] * 50 + [(1, (0.1, 0.8, 0.1))] * 50
    assert half(neutral_only, no_neutral) == pytest.approx(half(IDENTITY, no_neutral))
    sampling = (half(IDENTITY, half_neutral) / Z90) ** 2
    assert half(neutral_only, half_neutral) == pytest.approx(Z90 * (sampling + 0.5**2 * 0.04) ** 0.5)
    usable = {"usable": True, "inverse": IDENTITY.acc_inv}
    old = {"acc": {**usable, "var_bound": [0.04, 0, 0]}, "pacc": {**usable, "var_bound": [0.0, 0, 0]},
           "prior": [0.2, 0.4, 0.4]}  # fmt: skip
    assert Correction.from_stats(old).acc_cv == (0.04, 0.04, 0.04)
    assert half(Correction.from_stats(old), no_neutral) > half(neutral_only, no_neutral)


def test_a_wide_correction_term_is_not_called_too_few_posts() -> None:
    """Many posts with a wide interval from the correction statistics get their number and interval;
    "too few posts to tell" is for windows whose own sampling error is what makes them wide."""
    wide = Correction(acc_inv=IDENTITY.acc_inv, pacc_inv=IDENTITY.pacc_inv, acc_cv=(0.2, 0.2, 0.2))
    many = _window(wide, [(0, (0.8, 0.1, 0.1))] * 300 + [(1, (0.1, 0.8, 0.1))] * 300).estimate("acc")
    assert many.negative_high - many.negative_low > 0.5 and not many.too_few
    few = _window(IDENTITY, [(0, (0.8, 0.1, 0.1))] * 5 + [(1, (0.1, 0.8, 0.1))] * 5).estimate("acc")
    assert few.too_few
