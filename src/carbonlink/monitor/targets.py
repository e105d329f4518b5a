"""Emission targets: a linear pathway from a base year, progress and a year-end projection.

A linear absolute-reduction target removes a fixed share of base-year emissions every year
(the Science Based Targets initiative's 1.5 °C cross-sector pathway uses 4.2 % a year):
``pathway(y) = base × (1 − rate × (y − base_year))``. An intensity target does the same with
t CO2e per unit of output. The year-end projection adds to the months measured so far a seasonal
forecast of the months still to come: last year's same months scaled by how this year compares
with last year over the months both have (seasonal naive with level adjustment); without last
year's data it repeats the mean of the measured months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from carbonlink.errors import InputError
from carbonlink.monitor.rules import AlertEvent

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Target:
    """An absolute (t CO2e) or intensity (t CO2e per unit of output) target."""

    id: str
    kind: Literal["absolute", "intensity"]
    base_year: int
    base_value: float
    target_year: int
    target_value: float
    shape: Literal["linear", "constant_rate"] = "linear"

    def __post_init__(self) -> None:
        if self.target_year <= self.base_year:
            raise InputError(
                f"target year {self.target_year} is not after base year {self.base_year}",
                record=self.id,
                hint="set a target year later than the base year",
            )
        if self.base_value <= 0:
            raise InputError("base-year value must be positive", record=self.id)
        if self.shape == "constant_rate" and not 0 < self.target_value < self.base_value:
            raise InputError(
                "a constant-rate pathway needs a target value above zero and below the base",
                record=self.id,
                hint="choose a cut below 100 %, or the linear pathway",
            )

    @classmethod
    def linear_reduction(
        cls,
        id: str,
        base_year: int,
        base_value: float,
        target_year: int,
        annual_rate: float,
        kind: Literal["absolute", "intensity"] = "absolute",
    ) -> Target:
        """A target that removes ``annual_rate`` of base-year emissions each year (e.g. 0.042)."""
        if not 0 < annual_rate * (target_year - base_year) <= 1:
            raise InputError(
                f"annual rate {annual_rate} over {target_year - base_year} years is impossible",
                record=id,
                hint="use a rate between 0 and 1 / (target year − base year)",
            )
        target_value = base_value * (1 - annual_rate * (target_year - base_year))
        return cls(id, kind, base_year, base_value, target_year, target_value)

    def pathway(self, year: int | npt.NDArray[np.int64]) -> FloatArray:
        """Allowed value in each year from base to target.

        Linear: ``base + s × (target − base)``, the same tonnes cut every year; constant rate:
        ``base × (target / base) ** s``, the same share cut every year; with
        ``s = (year − base_year) / (target_year − base_year)``.
        """
        years = np.asarray(year, dtype=np.float64)
        share = (years - self.base_year) / (self.target_year - self.base_year)
        if self.shape == "constant_rate":
            return np.asarray(self.base_value * (self.target_value / self.base_value) ** share)
        return np.asarray(self.base_value + share * (self.target_value - self.base_value))


def project_year(monthly: FloatArray, last_year: FloatArray | None = None) -> FloatArray:
    """Twelve monthly values: measured months kept, missing (NaN) months forecast."""
    monthly = np.asarray(monthly, dtype=np.float64)
    if monthly.shape != (12,):
        raise InputError("a year needs exactly 12 monthly values (NaN for months to come)")
    measured = ~np.isnan(monthly)
    if not measured.any():
        raise InputError("no month of this year has data yet", hint="import readings first")
    projected = monthly.copy()
    if last_year is not None and np.all(~np.isnan(last_year)) and last_year[measured].sum() > 0:
        level = monthly[measured].sum() / last_year[measured].sum()
        projected[~measured] = last_year[~measured] * level
    else:
        projected[~measured] = monthly[measured].mean()
    return projected


@dataclass(frozen=True)
class Progress:
    """Where a year stands against its target."""

    year: int
    allowed: float
    actual_to_date: float
    projected: float
    months_measured: int

    @property
    def gap(self) -> float:
        """Projected minus allowed: positive means the year is heading over its target."""
        return self.projected - self.allowed

    @property
    def on_track(self) -> bool:
        return self.gap <= 0


def progress(
    target: Target,
    year: int,
    emissions: FloatArray,
    last_year_emissions: FloatArray | None = None,
    output: FloatArray | None = None,
    last_year_output: FloatArray | None = None,
) -> Progress:
    """Progress of ``year`` against ``target`` from monthly emissions (and output for intensity)."""
    emissions = np.asarray(emissions, dtype=np.float64)
    projected_emissions = project_year(emissions, last_year_emissions)
    measured = int((~np.isnan(emissions)).sum())
    allowed = float(target.pathway(year))
    if target.kind == "absolute":
        return Progress(
            year, allowed, float(np.nansum(emissions)), float(projected_emissions.sum()), measured
        )
    if output is None:
        raise InputError(
            "an intensity target needs monthly output", record=target.id, hint="give production"
        )
    projected_output = project_year(np.asarray(output, dtype=np.float64), last_year_output)
    done = ~np.isnan(emissions)
    to_date = float(emissions[done].sum() / np.asarray(output)[done].sum())
    return Progress(
        year,
        allowed,
        to_date,
        float(projected_emissions.sum() / projected_output.sum()),
        measured,
    )


@dataclass
class TargetWatch:
    """Target-overshoot alerts: one open alert per target while its year heads over the line.

    Checked whenever a target's progress is recomputed (new readings, a new month); the alert
    opens when the projected year-end exceeds what the pathway allows and closes once the
    projection is back within it.
    """

    open_targets: set[str] = field(default_factory=set)

    def check(self, target: Target, result: Progress, ts: np.datetime64) -> list[AlertEvent]:
        """The alert this progress opens or closes (none when nothing changed)."""
        over = not result.on_track
        was_open = target.id in self.open_targets
        if over == was_open:
            return []
        rule_id = f"target:{target.id}"
        if over:
            self.open_targets.add(target.id)
            message = (
                f"{target.id}: {result.year} projected at {result.projected:,.1f}, over the "
                f"{result.allowed:,.1f} the pathway allows (+{result.gap:,.1f})"
            )
            return [
                AlertEvent(rule_id, target.id, "opened", ts, result.projected, "warning", message)
            ]
        self.open_targets.discard(target.id)
        message = f"{target.id}: back within the pathway for {result.year}"
        return [AlertEvent(rule_id, target.id, "closed", ts, result.projected, "info", message)]
