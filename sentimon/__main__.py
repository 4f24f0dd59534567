"""Allow `python -m sentimon …` as an alias of the `sentimon` command."""

from sentimon.cli import app

app()
