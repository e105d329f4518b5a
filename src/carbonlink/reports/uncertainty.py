"""The uncertainty section of the inventory report: a 95 % interval by both IPCC approaches.

Uses `carbonlink.domain.uncertainty` on the engine's lines (Scope 1 and Scope 2 location-based):
Approach 1 (error propagation, IPCC 2006 Vol. 1 Ch. 3 Eq. 3.1 and 3.2) and Approach 2 (seeded
Monte Carlo). The relative uncertainties of activity data and factors come from a small YAML
file (``activity_u95`` and ``factor_u95`` maps, see docs/uncertainty.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from carbonlink.domain.engine import Computation
from carbonlink.domain.uncertainty import (
    InventoryUncertainty,
    inventory_sources,
    monte_carlo,
    propagate,
)
from carbonlink.errors import InputError

DRAWS = 10_000
SEED = 20061


def read_uncertainty_spec(path: Path) -> InventoryUncertainty:
    """``activity_u95`` / ``factor_u95`` maps from a UTF-8 YAML file."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the uncertainty file: {exc}", file=str(path)) from exc
    return parse_uncertainty_spec(text, file=str(path))


def parse_uncertainty_spec(text: str, *, file: str) -> InventoryUncertainty:
    """``activity_u95`` / ``factor_u95`` maps from YAML text; errors name the file and the key."""
    path = Path(file)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"cannot read the uncertainty file: {exc}", file=str(path)) from exc
    if not isinstance(document, dict) or not {"activity_u95", "factor_u95"} <= document.keys():
        raise InputError(
            "the uncertainty file needs the maps activity_u95 and factor_u95",
            file=str(path),
            hint="e.g. activity_u95: {'*': 0.02}  factor_u95: {'*': 0.05}",
        )
    maps: dict[str, dict[str, float]] = {}
    for name in ("activity_u95", "factor_u95"):
        values = document[name] or {}
        for key, value in values.items():
            if not isinstance(value, int | float) or not 0 <= value < 10:
                raise InputError(
                    f"{name}[{key!r}] = {value!r} is not a relative half-width",
                    file=str(path),
                    hint="write 0.05 for ±5 %",
                )
        maps[name] = {str(k): float(v) for k, v in values.items()}
    return InventoryUncertainty(maps["activity_u95"], maps["factor_u95"])


def uncertainty_section(
    result: Computation,
    spec: InventoryUncertainty,
    *,
    assumptions: str,
    draws: int = DRAWS,
    seed: int = SEED,
) -> dict[str, Any]:
    """The report's ``uncertainty`` entry: both approaches' 95 % intervals and the inputs."""
    sources = inventory_sources(result.lines(), spec)
    rows = []
    for outcome in (propagate(sources), monte_carlo(sources, draws=draws, seed=seed)):
        total = outcome.total
        rows.append(
            {
                "method": outcome.method,
                "central": total.central,
                "lower": total.lower,
                "upper": total.upper,
                "minus_pct": total.minus_pct,
                "plus_pct": total.plus_pct,
            }
        )
    return {
        "categories": _by_category(result.lines(), spec),
        "computed": True,
        "basis": f"Scope 1 + Scope 2 location-based, {len(sources)} lines; activity terms "
        "normal, factor terms lognormal and shared by every line using the same factor",
        "assumptions": assumptions,
        "draws": draws,
        "seed": seed,
        "results": rows,
    }


def _iso_category(line: dict[str, Any]) -> int | None:
    """ISO 14064-1:2018 category of an engine line (Scope 2 counted location-based)."""
    from carbonlink.reports.inventory import SCOPE3_TO_ISO

    scope = line["scope"]
    if scope in ("1", "2_location"):
        return 1 if scope == "1" else 2
    if scope == "3":
        text = line.get("category") or ""
        number = int(text.removeprefix("category ")) if text.startswith("category ") else 0
        return SCOPE3_TO_ISO.get(number, 6)
    return None


def _by_category(lines: list[dict[str, Any]], spec: InventoryUncertainty) -> list[dict[str, Any]]:
    """Approach 1 per ISO category: the 95 % half-width of each category's emissions."""
    from carbonlink.reports.inventory import ISO_CATEGORIES

    rows = []
    for number, label in ISO_CATEGORIES.items():
        own = [line for line in lines if _iso_category(line) == number]
        try:
            sources = inventory_sources(own, spec, scopes=("1", "2_location", "3"))
        except InputError as exc:
            rows.append(
                {"category": number, "label": label, "central": None, "u95_pct": None,
                 "status": f"not assessed: {exc.message}"}
            )  # fmt: skip
            continue
        if not sources:
            continue
        total = propagate(sources).total
        rows.append(
            {
                "category": number,
                "label": label,
                "central": total.central,
                "u95_pct": total.plus_pct,
                "status": f"{len(sources)} lines, Approach 1",
            }
        )
    return rows
