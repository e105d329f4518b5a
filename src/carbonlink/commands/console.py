"""The command line's two consoles: results on stdout, messages and errors on stderr.

Every command prints through these, so that output read by a script, a log or a test is laid
out the same whatever terminal ran it: a message (text) is never wrapped inside a phrase (soft
wrap: the line is as long as the message), while a table wraps long cells inside their column
rather than cutting them; when the stream is not a terminal, tables get a fixed width wide
enough for their columns instead of Rich's 80-column default.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

TABLE_WIDTH = 150
"""Width of tables written to a file or a pipe (``make demo``, CI logs)."""


def _width(stream: object) -> int | None:
    isatty = getattr(stream, "isatty", None)
    return None if callable(isatty) and isatty() else TABLE_WIDTH


class MessageConsole(Console):
    """A console that soft-wraps text and lays tables out at its width."""

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None:
            soft_wrap = all(isinstance(item, str) for item in objects)
        super().print(*objects, soft_wrap=soft_wrap, **options)


console = MessageConsole(width=_width(sys.stdout))
"""Results: tables, counts, what was written where."""

err_console = MessageConsole(stderr=True, width=_width(sys.stderr))
"""Progress notes, warnings and errors."""
