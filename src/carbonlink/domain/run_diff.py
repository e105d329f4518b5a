"""What changed between two runs of one period, line by line, and why.

Lines are matched on facility, source, scope, gas and sub-period. A matched line changed for one
or more reasons, read from the lineage of both lines: its **method** differs (a source accounted
another way), its **factor** differs (another factor id, version or value), or its **activity**
differs (new data: another quantity or unit). A line only in the newer run is ``added``, one only
in the older run ``removed``. The reasons are named, not guessed from the emission figure: a line
whose tCO2e moved with none of these differing has no reason and is reported as ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REASONS = ("added", "removed", "method", "factor", "activity", "other")


@dataclass(frozen=True, slots=True)
class LineChange:
    """One line of the newer run against its match in the older run."""

    facility: str
    source: str
    scope: str
    gas: str
    old_tco2e: float | None
    new_tco2e: float | None
    reasons: tuple[str, ...]

    @property
    def delta(self) -> float:
        return (self.new_tco2e or 0.0) - (self.old_tco2e or 0.0)


def _key(line: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    return (
        str(line.get("facility", "")),
        str(line.get("source", "")),
        str(line.get("scope", "")),
        str(line.get("gas") or ""),
        str(line.get("period") or ""),
    )


def _change(
    key: tuple[str, ...], old: float | None, new: float | None, reasons: tuple[str, ...]
) -> LineChange:
    return LineChange(key[0], key[1], key[2], key[3], old, new, reasons)


def _keyed(lines: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], Mapping[str, Any]]:
    out: dict[tuple[str, ...], Mapping[str, Any]] = {}
    for line in lines:
        key: tuple[str, ...] = _key(line)
        repeat = 1
        while key in out:
            repeat += 1
            key = (*_key(line), str(repeat))
        out[key] = line
    return out


def _part(line: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = line.get(name)
    return value if isinstance(value, Mapping) else {}


def _reasons(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    reasons = []
    if old.get("method") != new.get("method"):
        reasons.append("method")
    old_factor, new_factor = _part(old, "factor"), _part(new, "factor")
    if any(old_factor.get(k) != new_factor.get(k) for k in ("id", "version", "value")):
        reasons.append("factor")
    old_activity, new_activity = _part(old, "activity"), _part(new, "activity")
    if any(old_activity.get(k) != new_activity.get(k) for k in ("quantity", "unit")):
        reasons.append("activity")
    if not reasons and float(old.get("tco2e") or 0.0) != float(new.get("tco2e") or 0.0):
        reasons.append("other")
    return tuple(reasons)


def run_differences(
    older: Sequence[Mapping[str, Any]], newer: Sequence[Mapping[str, Any]]
) -> list[LineChange]:
    """Every line that differs between ``older`` and ``newer`` (unchanged lines left out)."""
    old_lines, new_lines = _keyed(older), _keyed(newer)
    changes = []
    for key, new in new_lines.items():
        old = old_lines.get(key)
        reasons = ("added",) if old is None else _reasons(old, new)
        if reasons:
            before = None if old is None else float(old.get("tco2e") or 0.0)
            changes.append(_change(key, before, float(new.get("tco2e") or 0.0), reasons))
    for key, old in old_lines.items():
        if key not in new_lines:
            changes.append(_change(key, float(old.get("tco2e") or 0.0), None, ("removed",)))
    return changes
