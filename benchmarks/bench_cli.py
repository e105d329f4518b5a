"""Start time of the command line: `carbonlink --help`, a group's help and `carbonlink verify`.

Each command runs as a fresh process, as a user types it, alternately with two floors measured
in the same run: the interpreter alone (``python -c pass``) and the interpreter importing Typer,
the framework every command starts with. Figures are the median and best wall time of
``REPEATS`` runs and the median CPU time (user + system) of the child process, which a shared,
loaded machine inflates far less than the wall time.
What remains above the Typer floor: Click building the command tree (≈ 0.03 s CPU), Rich's
console, and for a group's help Typer's own coercion of parameter values, which loads pydantic
(≈ 0.08 s CPU) since Typer 0.29. ``verify`` builds a root holding that command alone (no tree),
converts its path and key without pydantic (``carbonlink/commands/plain_values.py``) and loads
the ledger's signature check (cryptography).
Run: ``.venv/bin/python benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 15
TARGET_S = 0.3
CARBONLINK = [sys.executable, "-c", "from carbonlink.cli import main; main()"]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _receipt(folder: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """A report file recorded in a fresh workspace's ledger, with its receipt and the key."""
    report = folder / "q1.pdf"
    report.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n")
    for args in (
        ["ledger", "keygen", "--origin", "example.com/bench"],
        ["ledger", "append-report", "q1", str(report)],
    ):
        subprocess.run([*CARBONLINK, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return folder / "q1.tlog-proof", folder / "ws" / "keys" / "ledger.vkey"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "CARBONLINK_WORKSPACE": str(folder / "ws"),
            "CARBONLINK_DATABASE_URL": "",
        }
        receipt, vkey = _receipt(folder, env)
        cases = {
            "floor: python -c pass": [sys.executable, "-c", "pass"],
            "floor: python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "carbonlink --help": [*CARBONLINK, "--help"],
            "carbonlink ingest csv --help": [*CARBONLINK, "ingest", "csv", "--help"],
            "carbonlink verify RECEIPT --key": [
                *CARBONLINK,
                *("verify", str(receipt), "--key", str(vkey)),
            ],
        }
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(REPEATS):
            for name, argv in cases.items():
                wall, cpu = _timed(argv, env)
                walls[name].append(wall)
                cpus[name].append(cpu)

    print(f"{REPEATS} runs of each, alternating; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':34} {'wall median':>12} {'wall best':>10} {'CPU median':>11}")
    for name in cases:
        print(
            f"{name:34} {statistics.median(walls[name]):11.3f}s {min(walls[name]):9.3f}s "
            f"{statistics.median(cpus[name]):10.3f}s"
        )
    floor = statistics.median(cpus["floor: python -c pass"])
    for name in list(cases)[2:]:
        cpu = statistics.median(cpus[name])
        verdict = "within" if min(walls[name]) < TARGET_S else "over"
        print(
            f"{name}: {cpu - floor:.3f}s CPU above the bare interpreter; best wall "
            f"{min(walls[name]):.3f}s, {verdict} the {TARGET_S}s target"
        )


if __name__ == "__main__":
    main()
