"""What a person must state in an ISO 14064-1:2018 GHG report, read from a small YAML file.

Clause 9.3.1 asks for items no calculation can supply: who is responsible, the significance
criteria of indirect emissions, why a gas or category is excluded, the base year and its
recalculation policy, changes in methods, the statement of conformity, verification and level of
assurance, the report's date and version. They live in a statement file beside the inventory
(``carbonlink report inventory FILE --statement STATEMENT``); every item left out is shown in
the report as "not provided", never filled in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from carbonlink.errors import InputError

NOT_PROVIDED = "not provided"
"""The marker a report prints where the statement file says nothing."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Responsible(_Part):
    """The person (or entity) responsible for the report (9.3.1 b)."""

    name: str
    role: str = ""
    contact: str = ""


class ReportInfo(_Part):
    """Date, version and intended users of the report."""

    date: dt.date | None = None
    version: str = ""
    intended_users: str = ""


class CategoryStatement(_Part):
    """Whether an indirect category (ISO 14064-1:2018 categories 2–6) is significant, and why."""

    category: Annotated[int, Field(ge=2, le=6)]
    significant: bool
    reason: str


class BaseYear(_Part):
    """The historical base year, why it was chosen, and when it is recalculated (clause 6.4)."""

    year: int | None = None
    reason: str = ""
    inventory: str | None = None
    """Inventory file of the base year, relative to the statement file (a base year before the
    reporting year needs one; when the base year is the reporting year this report is it)."""
    recalculation_policy: str = ""
    threshold_percent: Annotated[float, Field(gt=0, le=100)] | None = None


class Verification(_Part):
    """Whether the inventory was verified, to which standard and level of assurance (9.3.1 s)."""

    status: Literal["not verified", "verification planned", "verified"]
    body: str = ""
    standard: str = ""
    level_of_assurance: Literal["limited", "reasonable", "none"] | None = None
    statement: str = ""


class Statement(_Part):
    """The statement file: every field optional, each absent one printed as "not provided"."""

    organization_description: str = ""
    responsible: Responsible | None = None
    report: ReportInfo = ReportInfo()
    conformity: str = ""
    significance_criteria: str = ""
    significance_threshold_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    categories: tuple[CategoryStatement, ...] = ()
    excluded_gases: dict[str, str] = Field(default_factory=dict)
    """Gas (SF6, NF3, PFCs, HFCs) → why it is not reported."""
    biogenic_treatment: str = ""
    base_year: BaseYear = BaseYear()
    changes_in_methods: str = ""
    verification: Verification | None = None


def parse_statement(text: str, *, file: str) -> Statement:
    """A `Statement` from YAML text; errors name the file and the field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=file,
            hint="check indentation, colons and quotes",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            "the statement file must be a YAML mapping (responsible, report, base_year, …)",
            file=file,
            hint="see docs/reports.md, 'ISO 14064-1 statement file'",
        )
    try:
        return Statement.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        message = (
            f"unknown field {where!r} (a typo?)"
            if first["type"] == "extra_forbidden"
            else f"{where}: {first['msg']}"
        )
        raise InputError(message, file=file, hint="fix the field and run again") from exc


def base_year_inventory_path(statement: Statement, statement_file: Path) -> Path | None:
    """The base-year inventory named in the statement, relative to the statement file."""
    if statement.base_year.inventory is None:
        return None
    return statement_file.parent / statement.base_year.inventory
