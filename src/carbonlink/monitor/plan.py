"""Identify: industry templates, monitoring plans per facility, and the completeness check.

A template lists every emission source and source stream an industry's rulebooks expect
(China's GB/T 32151 parts and industry guidelines, the EU monitoring regulation 2018/2066). A
facility's monitoring plan is generated from a template and then edited: for each source the
method, tier, meters, factor choice, sampling frequency and the procedure for data gaps. Plans
are versioned by content hash; an edit makes a new version that points at the one it replaces.
The completeness check compares what the template expects with what the facility has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from carbonlink.errors import InputError, UnknownFactorError

Category = Literal[
    "combustion", "process", "mass_balance", "electricity", "heat", "fugitive", "fixed_carbon"
]


class Label(BaseModel):
    model_config = ConfigDict(frozen=True)
    en: str
    zh: str


class TemplateSource(BaseModel):
    """A source or source stream an industry template expects."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: Label
    category: Category
    gases: tuple[str, ...]
    parameters: tuple[str, ...]
    required: bool


class IndustryTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: Label
    sources_of_template: tuple[str, ...] = Field(description="documents the template follows")
    sources: tuple[TemplateSource, ...]

    def source(self, source_id: str) -> TemplateSource:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise UnknownFactorError(
            f"template {self.id!r} has no source {source_id!r}",
            hint=f"choose one of: {', '.join(s.id for s in self.sources)}",
        )


TEMPLATE_IDS = ("iron_steel", "cement", "aluminium", "chemicals", "generic_manufacturing")


@cache
def load_template(template_id: str) -> IndustryTemplate:
    """An industry template shipped in ``carbonlink/data/templates``."""
    if template_id not in TEMPLATE_IDS:
        raise UnknownFactorError(
            f"no industry template {template_id!r}",
            hint=f"choose one of: {', '.join(TEMPLATE_IDS)}",
        )
    text = (
        resources.files("carbonlink.data").joinpath("templates", f"{template_id}.yaml").read_text()
    )
    return IndustryTemplate.model_validate(yaml.safe_load(text))


# What a plan starts from for each kind of source, before the plant edits it. Tiers and gap
# procedures follow EU MRR 2018/2066 (Art. 26 tiers, Art. 65–66 data gaps) in spirit.
_DEFAULTS: dict[str, tuple[str, str, str, str]] = {
    # category: (method, tier, sampling, data-gap procedure)
    "combustion": (
        "combustion",
        "2",
        "continuous metering; NCV and carbon content per delivery batch",
        "conservative substitute: highest monthly consumption of the last 3 years (MRR Art. 66)",
    ),
    "process": (
        "carbonate",
        "2",
        "weighed per delivery",
        "conservative substitute: stock balance with the highest purity (MRR Art. 66)",
    ),
    "mass_balance": (
        "mass_balance",
        "3",
        "carbon content analysed monthly",
        "conservative substitute: lowest carbon content in outputs, highest in inputs",
    ),
    "electricity": (
        "electricity",
        "n/a",
        "15-minute interval meters, monthly utility invoice",
        "prorate between register reads; invoice quantity where no meter data",
    ),
    "heat": (
        "heat",
        "n/a",
        "heat meter, monthly",
        "supplier invoice; otherwise default factor with 90 % boiler efficiency",
    ),
    "fugitive": (
        "fugitive",
        "1",
        "refill log per service",
        "full charge of the equipment counted as lost",
    ),
    "fixed_carbon": (
        "mass_balance",
        "2",
        "product output per month",
        "lowest output of the last 3 years (no credit for unmeasured output)",
    ),
}


PLAN_TIERS: tuple[str, ...] = ("1", "2", "2a", "2b", "3", "4", "n/a")
"""Tiers a plan entry may state: those of EU MRR 2018/2066 Annex II (activity data tiers 1–4,
calculation-factor tiers 1, 2a, 2b, 3) and ``n/a`` for sources without tiers (electricity)."""

FACTOR_CHOICES: tuple[str, ...] = ("measured", "supplier", "national_default", "ipcc_default")


def plan_methods() -> tuple[str, ...]:
    """Calculation methods a plan entry may name: those the accounting engine implements."""
    from carbonlink.domain.methods import method_registry

    return tuple(method_registry())


class PlanChoiceError(InputError):
    """A plan entry names a method, tier or meter carbonlink does not know."""

    def __init__(self, source_id: str, field: str, values: tuple[str, ...], hint: str) -> None:
        self.source_id = source_id
        self.field = field
        self.values = values
        shown = ", ".join(repr(v) for v in values)
        what = {"meters": "no meter"}.get(field, f"unknown {field}")
        where = " in the organization" if field == "meters" else ""
        super().__init__(f"{source_id}: {what} {shown}{where}", record=source_id, hint=hint)


def check_plan_entry(entry: PlanEntry, meter_ids: Iterable[str]) -> None:
    """Refuse an entry whose method, tier or meters are not ones carbonlink knows.

    ``meter_ids`` are the meters that exist for the plan's organization; an entry may only
    name those (a plan that monitors a meter nobody installed is a plan nobody can follow).
    """
    methods = plan_methods()
    if entry.method is not None and entry.method not in methods:
        raise PlanChoiceError(
            entry.source_id, "method", (entry.method,), "choose one of " + ", ".join(methods)
        )
    if entry.tier not in PLAN_TIERS:
        raise PlanChoiceError(
            entry.source_id,
            "tier",
            (entry.tier,),
            "choose one of " + ", ".join(PLAN_TIERS) + " (EU MRR 2018/2066 Annex II)",
        )
    known = set(meter_ids)
    missing = tuple(meter for meter in entry.meters if meter not in known)
    if missing:
        raise PlanChoiceError(
            entry.source_id,
            "meters",
            missing,
            "add the meter on the setup page first, or name an existing meter",
        )


class PlanEntry(BaseModel):
    """How one source of a facility is monitored."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source_id: str
    template_source: str
    method: str | None
    tier: str
    meters: tuple[str, ...] = ()
    factor_choice: Literal["measured", "supplier", "national_default", "ipcc_default"] = (
        "national_default"
    )
    sampling: str
    data_gap_procedure: str


class MonitoringPlan(BaseModel):
    """A versioned monitoring plan of one facility."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    facility_id: str
    template_id: str
    version: int = 1
    replaces: str | None = Field(default=None, description="content hash of the previous version")
    entries: tuple[PlanEntry, ...]

    @property
    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON: what a ledger entry or an auditor refers to."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    def revise(self, entries: Iterable[PlanEntry]) -> MonitoringPlan:
        """A new version with edited entries, pointing at this one."""
        return MonitoringPlan(
            facility_id=self.facility_id,
            template_id=self.template_id,
            version=self.version + 1,
            replaces=self.content_hash,
            entries=tuple(entries),
        )


def plan_from_template(
    facility_id: str,
    template: IndustryTemplate,
    source_map: Mapping[str, str],
    meters: Mapping[str, Iterable[str]] | None = None,
    methods: Mapping[str, str | None] | None = None,
) -> MonitoringPlan:
    """A first plan: each facility source (``source_map``: facility source → template source)."""
    entries = []
    for source_id, template_source_id in source_map.items():
        template_source = template.source(template_source_id)
        default_method, tier, sampling, gap = _DEFAULTS[template_source.category]
        method: str | None = default_method
        if methods is not None and source_id in methods:
            method = methods[source_id]
        entries.append(
            PlanEntry(
                source_id=source_id,
                template_source=template_source_id,
                method=method,
                tier=tier,
                meters=tuple((meters or {}).get(source_id, ())),
                sampling=sampling,
                data_gap_procedure=gap,
            )
        )
    return MonitoringPlan(facility_id=facility_id, template_id=template.id, entries=tuple(entries))


@dataclass(frozen=True)
class Finding:
    """One gap the completeness check found."""

    kind: Literal["missing_source", "meter_without_data", "source_without_method"]
    subject: str
    message_en: str
    message_zh: str


def completeness(
    plan: MonitoringPlan,
    template: IndustryTemplate,
    meters_with_data: Iterable[str],
) -> list[Finding]:
    """Sources the template requires but the plan lacks, silent meters, sources without method."""
    if plan.template_id != template.id:
        raise InputError(
            f"plan follows template {plan.template_id!r}, not {template.id!r}",
            record=plan.facility_id,
        )
    covered = {entry.template_source for entry in plan.entries}
    live = set(meters_with_data)
    findings = [
        Finding(
            "missing_source",
            source.id,
            f"{source.name.en}: required by the {template.name.en} template but not in the plan",
            f"{source.name.zh}：{template.name.zh}模板要求的排放源，监测计划中缺失",
        )
        for source in template.sources
        if source.required and source.id not in covered
    ]
    for entry in plan.entries:
        if not entry.method:
            findings.append(
                Finding(
                    "source_without_method",
                    entry.source_id,
                    f"{entry.source_id}: no calculation method chosen",
                    f"{entry.source_id}：未选择核算方法",
                )
            )
        for meter in entry.meters:
            if meter not in live:
                findings.append(
                    Finding(
                        "meter_without_data",
                        meter,
                        f"meter {meter} of {entry.source_id} has no readings in the period",
                        f"{entry.source_id} 的计量表 {meter} 在本期没有读数",
                    )
                )
    return findings
