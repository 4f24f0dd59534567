"""`python -m ingest`: the same commands as `sentimon ingest`."""

from .cli import app

app(prog_name="sentimon ingest")
