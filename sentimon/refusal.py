"""Commands stop on refused settings with one line per problem instead of a traceback."""

from __future__ import annotations

import sys
from typing import Any

import typer

from sentimon.settings import SettingsRefused

EXIT_REFUSED = 78  # EX_CONFIG


class RefusingTyper(typer.Typer):
    """A Typer app that prints a SettingsRefused as `sentimon: refused: <line>` lines and exits 78."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except SettingsRefused as exc:
            for line in str(exc).splitlines():
                print(f"sentimon: refused: {line}", file=sys.stderr)
            raise SystemExit(EXIT_REFUSED) from None
