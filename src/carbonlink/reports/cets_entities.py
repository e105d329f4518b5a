"""Legal entities (重点排放单位) of China's national ETS and how their sources map to processes.

The enterprise dataset (an inventory file) holds facilities, sources and their activity; what the
2025 steel guideline asks for beyond it lives in an entities file (``--entities``):

- each legal entity's basic information: name, unified social credit code (checked as
  GB 32100-2015 prescribes, see `carbonlink.domain.uscc`), legal representative, registered
  address, industry, contact;
- which inventory facilities belong to it, and which of their sources feed which production
  process (烧结, 球团, 焦化, 炼铁, 炼钢, 轧钢, 自备电厂, …);
- the products and output of each process;
- carbon flows between processes (hot metal, blast-furnace gas), which cancel at enterprise level;
- carbon-bearing inputs and outputs the dataset does not hold (``supplements``), each with where
  its figure comes from;
- the captive power plant's generation.

The layout is documented in docs/reports.md (China national ETS, 2025 steel guideline).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carbonlink.domain.uscc import uscc_problem
from carbonlink.errors import InputError

__all__ = ["PROCESS_NAMES", "Entities", "Entity", "load_entities", "parse_entities"]

PROCESS_NAMES = {
    "sintering": "烧结",
    "pelletizing": "球团",
    "coking": "焦化",
    "lime": "石灰",
    "ironmaking": "炼铁",
    "steelmaking": "炼钢",
    "rolling": "轧钢",
    "captive_power": "自备电厂",
    "auxiliary": "辅助生产及其他",
}
"""Process codes of the entities file and the Chinese names the report prints (in this order)."""

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(_Spec):
    """A product of a process and its output in the period."""

    name: str
    quantity: Positive | None = None
    unit: str = "t"
    source: str | None = None
    """An inventory source whose activity is this output (e.g. the crude-steel carbon_fixed one)."""
    production: str | None = None
    """A product of the facility's ``production`` list in the inventory, whose quantity this is;
    ``quantity`` is then only the fallback for an inventory that lists no production."""
    data_source: str = "生产统计台账"


class Process(_Spec):
    """One production process (生产工序) of a legal entity."""

    code: Literal[
        "sintering",
        "pelletizing",
        "coking",
        "lime",
        "ironmaking",
        "steelmaking",
        "rolling",
        "captive_power",
        "auxiliary",
    ]
    name: str | None = None
    """The name printed, when it is more specific than the code's (热轧, 冷轧)."""
    units: str = ""
    """The production units (生产单元) of the process: furnaces, mills, boilers."""
    sources: tuple[str, ...] = ()
    """Inventory sources of the process: ``source-id``, or ``facility-id/source-id``."""
    products: tuple[Product, ...] = ()

    @property
    def label(self) -> str:
        return self.name or PROCESS_NAMES[self.code]


class Flow(_Spec):
    """A carbon-bearing input or output that crosses the entity's boundary at one process."""

    id: str
    process: str
    direction: Literal["input", "output"]
    material: str
    quantity: Positive
    """The fallback quantity, used while the inventory holds neither ``dataset_source`` nor
    the ``production`` entry named."""
    unit: Literal["t"] = "t"
    carbon_content: Annotated[float, Field(ge=0, le=1)] | None = None
    """Measured t C/t; the guideline's default applies when absent."""
    data_source: str
    dataset_source: str | None = None
    """The inventory source that holds this flow once the dataset has it: then the source is
    accounted (in this flow's process) and the supplement is not."""
    production: str | None = None
    """For an output: a product of the inventory's ``production`` list whose ``sold`` quantity
    is this flow."""


class Transfer(_Spec):
    """Carbon carried from one process to another inside the entity (cancels at entity level)."""

    material: str
    from_process: str = Field(alias="from")
    to_process: str = Field(alias="to")
    quantity: Positive
    """The fallback quantity, used while the inventory lists no ``production`` entry named."""
    unit: Literal["t", "10^4 Nm3"]
    data_source: str = "能源平衡表"
    production: str | None = None
    """A product of the inventory's ``production`` list: what was made and not sold passes on."""


class CaptivePower(_Spec):
    """Generation of the captive power plant, for its emission intensity."""

    generation_mwh: Positive
    supplied_mwh: Positive | None = None
    data_source: str = "电厂生产日报"


class Contact(_Spec):
    name: str
    phone: str = ""
    email: str = ""


class Entity(_Spec):
    """One legal entity (重点排放单位)."""

    id: str
    name: str
    uscc: str
    legal_representative: str
    registered_address: str
    production_address: str = ""
    industry: str
    contact: Contact
    facilities: tuple[str, ...] = Field(min_length=1)
    facility_names: dict[str, str] = Field(default_factory=dict)
    """Chinese names of the facilities, where the inventory names them otherwise."""
    processes: tuple[Process, ...] = Field(min_length=1)
    transfers: tuple[Transfer, ...] = ()
    supplements: tuple[Flow, ...] = ()
    captive_power: CaptivePower | None = None
    report_date: dt.date | None = None

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str) -> str:
        problem = uscc_problem(value)
        if problem:
            raise ValueError(f"the unified social credit code {value!r} is not valid: {problem}")
        return value

    def process(self, code: str) -> Process:
        for process in self.processes:
            if process.code == code:
                return process
        raise KeyError(code)


class Entities(_Spec):
    """The legal entities of one enterprise group."""

    entities: tuple[Entity, ...] = Field(min_length=1)


def _check_references(entities: Entities, file: str) -> None:
    for entity in entities.entities:
        codes = [p.code for p in entity.processes]
        if len(set(codes)) != len(codes):
            raise InputError(
                "a process is listed twice",
                file=file,
                record=f"entity {entity.id}",
                hint="list each process once, with all its sources",
            )
        for what, code in [
            *((f"transfer of {t.material}", t.from_process) for t in entity.transfers),
            *((f"transfer of {t.material}", t.to_process) for t in entity.transfers),
            *((f"supplement {s.id}", s.process) for s in entity.supplements),
        ]:
            if code not in codes:
                raise InputError(
                    f"the {what} names the process {code!r}, which the entity does not list",
                    file=file,
                    record=f"entity {entity.id}",
                    hint=f"use one of {', '.join(codes)}",
                )
        if entity.captive_power and "captive_power" not in codes:
            raise InputError(
                "captive_power generation is given but no captive_power process is listed",
                file=file,
                record=f"entity {entity.id}",
                hint="add a process with code captive_power",
            )


def parse_entities(text: str, *, file: str = "<entities>") -> Entities:
    """Read an entities file; a clear error names the entity and field that are wrong."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file) from exc
    try:
        entities = Entities.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        record = where
        if isinstance(data, dict) and first["loc"][:1] == ("entities",) and len(first["loc"]) > 1:
            index = first["loc"][1]
            rows = data.get("entities") or []
            if isinstance(index, int) and index < len(rows) and isinstance(rows[index], dict):
                record = f"entity {rows[index].get('id', index)}: {where}"
        raise InputError(
            first["msg"].removeprefix("Value error, "),
            file=file,
            record=record,
            hint="see docs/reports.md (China national ETS) for the entities file",
        ) from exc
    _check_references(entities, file)
    return entities


def load_entities(path: Path, *, text: str | None = None) -> Entities:
    """Read the entities file at ``path`` (``text`` when already decoded)."""
    if text is None:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot read the entities file: {exc.strerror}", file=str(path)
            ) from exc
    return parse_entities(text, file=str(path))
