"""Two runs of a period compared line by line: each change named by what differs."""

from __future__ import annotations

from typing import Any

from carbonlink.domain.run_diff import run_differences


def _line(source: str, quantity: float, factor: str = "ng-2014", version: str = "1",
          method: str = "combustion", tco2e: float = 21.62) -> dict[str, Any]:  # fmt: skip
    return {
        "facility": "plant-1",
        "source": source,
        "scope": "1",
        "gas": "CO2",
        "method": method,
        "tco2e": tco2e,
        "activity": {"quantity": quantity, "unit": "Nm3"},
        "factor": {"id": factor, "version": version, "value": 2.162},
    }


def test_each_change_has_the_reason_read_from_its_lineage() -> None:
    older = [_line("gas", 10000), _line("coke", 5), _line("oil", 7), _line("gone", 1)]
    newer = [
        _line("gas", 12000, tco2e=25.94),  # new data
        _line("coke", 5, version="2", tco2e=30.0),  # changed factor
        _line("oil", 7, method="mass_balance", tco2e=8.0),  # changed method
        _line("new", 3, tco2e=1.0),
    ]
    changes = {c.source: c for c in run_differences(older, newer)}
    assert changes["gas"].reasons == ("activity",)
    assert (changes["gas"].old_tco2e, changes["gas"].new_tco2e) == (21.62, 25.94)
    assert changes["coke"].reasons == ("factor",)
    assert changes["oil"].reasons == ("method",)
    assert changes["new"].reasons == ("added",) and changes["new"].old_tco2e is None
    assert changes["gone"].reasons == ("removed",) and changes["gone"].new_tco2e is None
    assert changes["gone"].delta == -21.62


def test_identical_runs_have_no_change() -> None:
    lines = [_line("gas", 10000), _line("coke", 5)]
    assert run_differences(lines, [dict(line) for line in lines]) == []
