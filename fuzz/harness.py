"""Shared set-up of the coverage-guided fuzz targets (atheris, libFuzzer).

Each target hands `run` a function of the input bytes and the seeds to start from. An input
may be refused with a `CarbonlinkError`; any other exception is a crash that libFuzzer
reports with the input that caused it (written as ``crash-…`` in the working folder).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.errors import CarbonlinkError


def run(target: Callable[[bytes], object], seeds: Iterable[bytes]) -> None:
    """Fuzz ``target``, starting from ``seeds``; libFuzzer's flags come from the command line."""

    def one_input(data: bytes) -> None:
        with contextlib.suppress(CarbonlinkError):
            target(data)

    corpus = Path(tempfile.mkdtemp(prefix="carbonlink-fuzz-"))
    for n, seed in enumerate(seeds):
        (corpus / f"seed-{n}").write_bytes(seed)
    atheris.Setup([*sys.argv, str(corpus)], one_input)
    atheris.Fuzz()
