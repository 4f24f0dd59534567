"""The three sentiment classes, in the order every probability vector, count and table uses.

One home for the whole product (the model, the processor, storage, the dashboard, ingest); it
imports nothing, so the model package can use it without loading the core's dependencies."""

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
