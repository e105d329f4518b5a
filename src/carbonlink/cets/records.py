"""A monthly parameter record of China ETS operations: one value with its evidence."""

from __future__ import annotations

from dataclasses import dataclass

PARAMETERS = (
    "consumption",
    "ncv",
    "carbon_content",
    "carbon_per_heat",
    "oxidation",
    "purchased_electricity",
    "exported_electricity",
    "purchased_heat",
    "exported_heat",
    "output",
    "hydrogen",
    "sulphur",
    "moisture",
)
"""Parameters a monthly record may carry (names as in ``data/cets/terms_zh.csv``)."""


@dataclass(frozen=True)
class ParameterRecord:
    """One month's value of one parameter of one source stream, with its evidence."""

    entity_id: str
    month: str
    source: str
    parameter: str
    value: float
    unit: str = ""
    report_id: str = ""
    accreditation: str = ""
    sample_id: str = ""
    sample_date: str = ""
    standard: str = ""
    sample_count: int = 0
    evidence_kind: str = ""
    evidence_name: str = ""
    evidence_sha256: str = ""
    origin: str = "ledger"

    def as_table_row(self) -> dict[str, object]:
        """The record as `carbonlink.cets.plausibility.MonthTable.from_records` reads it."""
        return {
            "entity": self.entity_id,
            "month": self.month,
            "source": self.source,
            "parameter": self.parameter,
            "value": self.value,
            "report_id": self.report_id,
            "sample_date": self.sample_date,
        }
