"""Per-batch figures from the workers' /metrics pages: batch size and where each batch's time went."""

from __future__ import annotations

from collections.abc import Iterable

STAGES = ("classify", "db", "live", "produce")
HISTOGRAMS = ("sentimon_batch_size", "sentimon_batch_seconds", *(f"sentimon_{s}_seconds" for s in STAGES))


def sums_and_counts(pages: Iterable[str]) -> dict[str, float]:
    """`<histogram>_sum` and `<histogram>_count` added over all pages (one page per worker)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    for page in pages:
        for family in text_string_to_metric_families(page):
            if family.name not in HISTOGRAMS:
                continue
            for sample in family.samples:
                if sample.name.endswith(("_sum", "_count")):
                    out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def batch_profile(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Mean batch size and mean seconds per batch (whole, and per stage) over the measured stretch."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    batches = delta("sentimon_batch_size_count")
    if batches <= 0:
        return {"batches": 0}
    return {
        "batches": int(batches),
        "mean_batch": round(delta("sentimon_batch_size_sum") / batches, 1),
        "batch_s": round(delta("sentimon_batch_seconds_sum") / batches, 4),
        **{f"{s}_s": round(delta(f"sentimon_{s}_seconds_sum") / batches, 4) for s in STAGES},
    }
