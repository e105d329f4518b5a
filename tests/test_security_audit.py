"""The security audits of `make test`: pip-audit over the pins, bandit over ``src/``.

Accepted findings are listed, each with its reason, in ``security-audit.md`` (this test reads its
table); anything else fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROW = re.compile(r"^\| (?P<tool>pip-audit|bandit) \| (?P<id>[\w-]+) \| (?P<where>[^|]+?) \| .+ \|$")


def accepted(tool: str) -> dict[tuple[str, str], int | None]:
    """(id, where) → how many findings security-audit.md accepts there (None: any number)."""
    table: dict[tuple[str, str], int | None] = {}
    for line in (ROOT / "security-audit.md").read_text("utf-8").splitlines():
        match = ROW.match(line)
        if match and match["tool"] == tool:
            where, _, count = match["where"].partition(" ×")
            table[(match["id"], where)] = int(count) if count else None
    return table


@pytest.mark.slow
def test_pinned_dependencies_have_no_known_vulnerabilities(tmp_path: Path) -> None:
    report = tmp_path / "pip-audit.json"
    done = subprocess.run(
        [
            str(BIN / "pip-audit"),
            "--disable-pip",
            "--no-deps",
            "--requirement",
            str(ROOT / "constraints.txt"),
            "--vulnerability-service",
            "pypi",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not report.is_file():
        pytest.skip(f"NOT AUDITED: pip-audit could not run: {done.stderr.strip()[-300:]}")
    dependencies = json.loads(report.read_text("utf-8"))["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if skipped:
        # pip-audit itself reports "No known vulnerabilities found" here and exits 0.
        pytest.skip(
            f"NOT AUDITED: PyPI gave no advisory data for {len(skipped)} of "
            f"{len(dependencies)} pins (first: {skipped[0]['skip_reason']})"
        )
    ignored = {vuln_id for vuln_id, _ in accepted("pip-audit")}
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions']) or '-'})"
        for d in dependencies
        for v in d.get("vulns", [])
        if v["id"] not in ignored and not ignored.intersection(v.get("aliases", []))
    ]
    assert not found, "known vulnerabilities in pinned dependencies:\n" + "\n".join(found)


@pytest.mark.slow
def test_bandit_finds_nothing_that_is_not_justified() -> None:
    done = subprocess.run(
        [str(BIN / "bandit"), "--recursive", "src", "--format", "json", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads(done.stdout)
    assert not results["errors"], results["errors"]
    counts = Counter((r["test_id"], Path(r["filename"]).as_posix()) for r in results["results"])
    table = accepted("bandit")
    unjustified = []
    for (test_id, where), n in sorted(counts.items()):
        if (test_id, "*") in table:
            continue
        limit = table.get((test_id, where), 0)
        if limit is not None and n > limit:
            unjustified.append(f"{where}: {n} × {test_id} (security-audit.md accepts {limit})")
    assert not unjustified, "bandit findings not justified in security-audit.md:\n" + "\n".join(
        unjustified
    )
