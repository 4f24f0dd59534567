"""The promotion gate: a new model goes live only when it is not worse beyond a tolerance on every set."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Comparison:
    """Old and new AvgRec on one evaluation set."""

    name: str
    n: int
    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    comparisons: list[Comparison] = field(default_factory=list)


def decide(comparisons: list[Comparison], tolerance: float) -> Decision:
    """Promote iff, on each non-empty set, new AvgRec ≥ old AvgRec − tolerance; the reason names the
    sets and figures either way, so the note in the registry explains itself."""
    judged = [c for c in comparisons if c.n > 0]
    if not judged:
        return Decision(
            False, "nothing to evaluate on: no validation set and no held-back labels", comparisons
        )
    worse = [c for c in judged if c.delta < -tolerance]
    figures = "; ".join(
        f"{c.name} (n={c.n}) AvgRec {c.old:.4f} → {c.new:.4f} ({c.delta:+.4f})" for c in judged
    )
    skipped = [c.name for c in comparisons if c.n == 0]
    extra = f"; not judged on {', '.join(skipped)} (empty)" if skipped else ""
    if worse:
        names = ", ".join(c.name for c in worse)
        return Decision(
            False,
            f"kept the old model: worse beyond the tolerance {tolerance:g} on {names}: {figures}{extra}",
            comparisons,
        )
    return Decision(
        True, f"promoted: not worse beyond the tolerance {tolerance:g}: {figures}{extra}", comparisons
    )
