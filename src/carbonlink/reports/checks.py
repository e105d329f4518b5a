"""Checks a report makes of its input before it is handed over: empty inventories, stale factors.

Each finding is either refused (`EmptyInventoryError`, `StaleVintageError`) or carried in the
document itself as a warning, so that a reader of the page sees what the console said.

Factor vintages. The library holds some factor series year by year (China's grid factors: one
row per data year) and others as one edition (IPCC 2006 defaults, the 2013 guideline). For a
yearly series the rule "latest vintage not after the period" silently keeps using the newest
row however far the period runs ahead: a 2031 inventory gets 2023 grid factors. Official yearly
factors appear about two years after their data year (MEE/NBS published 2021 data in April 2024
and 2022 data in December 2024), so a gap of up to `PUBLICATION_LAG_YEARS` is what a current
library shows; beyond it the period lies past the factor vintages and the report says so. A
series of one edition has no later vintage to miss: its vintage is listed, not judged. An
explicitly pinned factor or vintage is the inventory's own choice and is listed as pinned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.factors import Factor, FactorLibrary, Tier
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import InputError, NoFactorVintageError
from carbonlink.reports.document import Column, table

__all__ = [
    "PUBLICATION_LAG_YEARS",
    "EmptyInventoryError",
    "FactorVintage",
    "StaleVintageError",
    "attach_checks",
    "check_not_empty",
    "check_not_zero",
    "factor_vintages",
    "vintage_warnings",
]

PUBLICATION_LAG_YEARS = 2
"""Years between a yearly factor's data year and the reporting year that a current library shows."""

STALE = "beyond the published vintages"


class EmptyInventoryError(InputError):
    """The inventory has nothing to report: no facility, no source, or every emission is zero."""


class StaleVintageError(NoFactorVintageError):
    """The period lies beyond a yearly factor series' vintages and stale vintages are refused."""


@dataclass(frozen=True, slots=True)
class FactorVintage:
    """Which vintage of a factor a source used for the period, and whether it is flagged."""

    facility: str
    source: str
    factor: Factor
    period: str
    period_year: int
    newest: int
    yearly: bool
    pinned: bool

    @property
    def years_behind(self) -> int:
        """Reporting year minus the factor's vintage (negative for a later, pinned vintage)."""
        return self.period_year - self.factor.year

    @property
    def stale(self) -> bool:
        """A yearly series used further behind the period than the publication lag explains."""
        return self.yearly and not self.pinned and self.years_behind > PUBLICATION_LAG_YEARS

    @property
    def status(self) -> str:
        if self.pinned:
            return "pinned"
        if not self.yearly:
            return "single edition"
        return STALE if self.stale else "current"

    def row(self) -> dict[str, Any]:
        return {
            "facility": self.facility,
            "source": self.source,
            "factor": f"{self.factor.id}@{self.factor.version}",
            "vintage": self.factor.year,
            "period": self.period,
            "newest": self.newest,
            "behind": self.years_behind,
            "status": self.status,
        }


def _series(factor: Factor) -> tuple[str, ...]:
    return (
        factor.subject,
        factor.parameter,
        factor.gas,
        factor.jurisdiction,
        factor.region,
        factor.basis,
        factor.tier.label,
    )


def factor_vintages(
    inventory: Inventory, result: Computation, library: FactorLibrary
) -> list[FactorVintage]:
    """Every library factor the result used (line factors and parameters), once per source."""
    years: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for factor in library:
        years[_series(factor)].add(factor.year)
    plan = result.plan
    seen: set[tuple[str, str, str, str]] = set()
    out: list[FactorVintage] = []
    for line in plan.lines:
        channel = plan.channels[line.channel]
        used: list[tuple[Factor, str]] = [(line.plan.factor, line.plan.reason)]
        used += [(use.factor, use.reason) for use in line.plan.parameters]
        for factor, reason in used:
            key = (channel.facility, channel.source, factor.id, factor.version)
            # measured and supplier values are the source's own, of the period itself
            if key in seen or factor.tier >= Tier.SUPPLIER_SPECIFIC:
                continue
            seen.add(key)
            series = years.get(_series(factor), {factor.year})
            out.append(
                FactorVintage(
                    facility=channel.facility,
                    source=channel.source,
                    factor=factor,
                    period=plan.period.label,
                    period_year=inventory.period.year,
                    newest=max(series),
                    yearly=len(series) > 1,
                    pinned="pinned" in reason,
                )
            )
    return out


def vintage_warnings(vintages: Iterable[FactorVintage], *, chinese: bool = False) -> list[str]:
    """One sentence per stale factor: which vintage served which period, and what to do.

    ``chinese`` puts a Chinese sentence before the English one (for the China report).
    """
    out = []
    for v in vintages:
        if not v.stale:
            continue
        english = (
            f"facility {v.facility}, source {v.source}: factor {v.factor.id}@{v.factor.version} "
            f"(vintage {v.factor.year}, the newest in the factor library) was used for the "
            f"period {v.period}, {v.years_behind} years later; the period lies {STALE} of this "
            "factor — add the factor of the period to the workspace's factor table, or pin a "
            "vintage deliberately"
        )
        if chinese:
            english = (
                f"设施 {v.facility}、排放源 {v.source}：报告期 {v.period} 使用了排放因子 "
                f"{v.factor.id}@{v.factor.version}（{v.factor.year} 年值，因子库中最新），"
                f"比报告期早 {v.years_behind} 年，已超出该因子已发布的年份；请在工作区因子表中"
                f"补充报告期的因子，或明确指定因子年份。{english}"
            )
        out.append(english)
    return out


def refuse_stale(vintages: Iterable[FactorVintage], *, file: str) -> None:
    """Raise `StaleVintageError` for the first stale factor (``--strict-vintage``)."""
    stale = [v for v in vintages if v.stale]
    if stale:
        first = stale[0]
        raise StaleVintageError(
            f"the period {first.period} lies {STALE} of factor {first.factor.id} (newest "
            f"vintage {first.newest}, {first.years_behind} years earlier)"
            + (f", and {len(stale) - 1} more factor(s)" if len(stale) > 1 else ""),
            file=file,
            record=f"facility {first.facility}, source {first.source}",
            hint="add the factors of the period to the workspace's factor table, pin a vintage "
            "in the inventory, or run without --strict-vintage to report with a warning",
        )


def check_not_empty(inventory: Inventory, *, file: str) -> list[str]:
    """Refuse an inventory without facilities or sources; warn of a facility without sources."""
    if not inventory.facilities:
        raise EmptyInventoryError(
            "the inventory has no facilities: there is nothing to report",
            file=file,
            hint="list the organization's facilities and their emission sources",
        )
    if not any(facility.sources for facility in inventory.facilities):
        raise EmptyInventoryError(
            "no facility of the inventory has an emission source: there is nothing to report",
            file=file,
            hint="list each facility's sources (fuels, processes, purchased electricity …)",
        )
    return [
        f"facility {facility.id} lists no emission source: it is reported with no emissions"
        for facility in inventory.facilities
        if not facility.sources
    ]


def check_not_zero(result: Computation, *, file: str, allow_zero: bool) -> list[str]:
    """Refuse a result whose every line is zero unless ``allow_zero``; then warn."""
    if bool(result.co2e.size) and bool((result.co2e != 0).any()):
        return []
    activity = float(result.activity.sum())
    what = f"every emission of the inventory is zero (total activity {activity:g})"
    if not allow_zero:
        raise EmptyInventoryError(
            what,
            file=file,
            hint="check the activity quantities and the meters' readings of the period; if the "
            "organization really emitted nothing (a site idle all period), pass --allow-zero",
        )
    return [f"{what}: reported as zero on purpose (--allow-zero)"]


_VINTAGE_COLUMNS = (
    ("facility", "Facility", "设施"),
    ("source", "Source", "排放源"),
    ("factor", "Factor", "排放因子"),
    ("vintage", "Vintage", "因子年份"),
    ("period", "Period", "报告期"),
    ("newest", "Newest vintage in library", "因子库最新年份"),
    ("behind", "Years behind the period", "早于报告期年数"),
    ("status", "Status", "状态"),
)


STATUS_ZH = {
    "pinned": "指定年份",
    "single edition": "单一版本",
    "current": "现行",
    STALE: "超出已发布年份",
}
"""The statuses of the factor vintages table in a report that is in Chinese only."""


def attach_checks(
    document: dict[str, Any], warnings: list[str], vintages: list[FactorVintage]
) -> dict[str, Any]:
    """The document with its warnings and the factor vintages table (see docs/reports.md).

    ``warnings`` are the findings other than stale vintages, which come from ``vintages``.
    The China report gets Chinese headings and vintage warnings beside the English ones.
    """
    chinese = str(document.get("report", "")).startswith("china")
    # The 2025 ETS report is a filing in Chinese: its headings carry no English.
    only_chinese = document.get("report") == "china_steel_2025"
    columns = [
        Column(key, zh if only_chinese else f"{zh} {en}" if chinese else en)
        for key, en, zh in _VINTAGE_COLUMNS
    ]
    flagged = sum(v.stale for v in vintages)
    note = (
        f"Yearly factor series are flagged when the reporting year is more than "
        f"{PUBLICATION_LAG_YEARS} years after the vintage used (the publication lag of official "
        "yearly factors); single editions (IPCC 2006, the 2013 guidelines) are listed, not "
        f"judged. Flagged: {flagged}."
    )
    title = "Factor vintages used for the period"
    if chinese:
        note = (
            f"逐年发布的因子系列，报告年份比所用因子年份晚 {PUBLICATION_LAG_YEARS} 年以上时标记"
            f"（官方逐年因子的发布滞后）；单一版本的缺省值（IPCC 2006、2013 年指南）只列出、"
            f"不判断。标记 {flagged} 项。{note}"
        )
        title = "报告期所用排放因子年份" if only_chinese else f"报告期所用排放因子年份 {title}"
        if only_chinese:
            note = note.split("Yearly factor series")[0]
    document["warnings"] = [
        *document.get("warnings", []),
        *warnings,
        *vintage_warnings(vintages, chinese=chinese),
    ]
    rows = [v.row() for v in vintages]
    if only_chinese:
        rows = [row | {"status": STATUS_ZH.get(row["status"], row["status"])} for row in rows]
    document.setdefault("tables", {})["factor_vintages"] = table(title, columns, rows, note=note)
    return document
