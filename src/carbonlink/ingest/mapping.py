"""How the columns of a CSV or XLSX export map onto meters: a YAML file, checked by pydantic.

A plant engineer writes one mapping per export layout. Two layouts are understood:

* wide: one timestamp column and one column per meter (``values:``);
* long: a timestamp column, a meter column and a value column (``long:``), optionally a unit column.

Example (the shipped ``steel_industry.yaml``)::

    timestamp:
      column: date
      format: "%d/%m/%Y %H:%M"
      time_zone: Asia/Seoul
      labelling: end
      midnight_is_end_of_day: true
    values:
      - column: Usage_kWh
        meter: daewoo-gwangyang-electricity
        unit: kWh
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carbonlink.domain.metering import Meter
from carbonlink.domain.units import check_plain_unit
from carbonlink.domain.zones import known_zone
from carbonlink.errors import ConfigError, UnitError


def plain_unit(value: str) -> str:
    """``value`` when it is a plain unit (`carbonlink.domain.units.check_plain_unit`)."""
    try:
        check_plain_unit(value)
    except UnitError as exc:
        raise ValueError(exc.message) from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimestampColumn(_Strict):
    """Where the time of each row is and how to read it."""

    column: str = Field(description="Header of the column holding the date and time.")
    format: str | None = Field(
        default=None,
        description=(
            "strftime pattern such as '%d/%m/%Y %H:%M'. Empty: guess, reading dates as "
            "day-first when day_first is true. Timestamps with an offset (+08:00, Z) keep it."
        ),
    )
    day_first: bool = Field(
        default=False, description="Read 01/02/2018 as 1 February (only used without format)."
    )
    time_zone: str = Field(
        default="UTC",
        description="IANA time zone of local timestamps, e.g. Asia/Shanghai, Europe/Berlin.",
    )
    labelling: Literal["start", "end"] = Field(
        default="end",
        description="Whether each row is stamped with the start or the end of its interval.",
    )
    midnight_is_end_of_day: bool = Field(
        default=False,
        description=(
            "Some loggers write the last interval of a day as 00:00 with that same day's date; "
            "true moves such 00:00 stamps to the next day."
        ),
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("format")
    @classmethod
    def _readable_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            time.strptime("", value)
        except ValueError as exc:
            if "does not match format" not in str(exc):
                raise ValueError(
                    f"{value!r} is not a strftime pattern ({exc}); "
                    "write it with %Y %m %d %H %M %S, e.g. '%d/%m/%Y %H:%M'"
                ) from exc
        return value


class ValueColumn(_Strict):
    """One column of numbers read by one meter (wide layout)."""

    column: str = Field(description="Header of the column.")
    meter: str = Field(description="Id of the meter whose readings the column holds.")
    unit: str = Field(description="Unit of the numbers in the column, e.g. kWh, MWh, Nm3, t.")
    decimal_comma: bool = Field(default=False, description="Numbers are written 1.234,5.")

    @field_validator("unit")
    @classmethod
    def _plain_unit(cls, value: str) -> str:
        return plain_unit(value)


class LongLayout(_Strict):
    """A column naming the meter and a column with its value (long layout)."""

    meter_column: str
    value_column: str
    unit_column: str | None = None
    unit: str | None = Field(default=None, description="Unit when there is no unit column.")
    decimal_comma: bool = False

    @field_validator("unit")
    @classmethod
    def _plain_unit(cls, value: str | None) -> str | None:
        return None if value is None else plain_unit(value)

    @model_validator(mode="after")
    def _some_unit(self) -> LongLayout:
        if self.unit_column is None and self.unit is None:
            raise ValueError("give unit_column or unit")
        return self


class MeterSpec(_Strict):
    """A meter the mapping registers before importing (optional; meters may already exist)."""

    id: str
    kind: Literal["register", "interval"]
    unit: str
    multiplier: float = 1.0
    rollover_max: float | None = None
    time_zone: str | None = Field(default=None, description="Default: the timestamps' zone.")
    labelling: Literal["start", "end"] | None = Field(
        default=None, description="Default: the timestamps' labelling."
    )
    valid_from: datetime | None = Field(
        default=None,
        description="Earliest plausible time of a reading (default 1990-01-01 UTC).",
    )
    max_future_skew_s: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Seconds a reading may lie ahead of the present (default one day).",
    )
    interval_s: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_interval_quantity: float | None = None
    facility_id: str | None = None
    source_id: str | None = None
    name: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)

    @field_validator("unit")
    @classmethod
    def _plain_unit(cls, value: str) -> str:
        return plain_unit(value)

    @field_validator("valid_from")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give valid_from with its UTC offset, e.g. 2015-01-01T00:00:00Z")
        return value

    def to_meter(self, timestamp: TimestampColumn) -> Meter:
        """The plain meter object; zone and labelling default to those of the timestamps."""
        fields = self.model_dump(exclude={"valid_from", "max_future_skew_s"})
        fields["time_zone"] = self.time_zone or timestamp.time_zone
        fields["labelling"] = self.labelling or timestamp.labelling
        return Meter(**fields)


class FileMapping(_Strict):
    """How to read one layout of CSV or XLSX export into meter readings."""

    encoding: str = Field(
        default="auto",
        description=(
            "Text encoding of CSV files: auto (byte-order mark, else UTF-8, else GB18030), "
            "utf-8, utf-8-sig, gbk, gb18030, cp1252 …"
        ),
    )
    delimiter: str = Field(default=",", description="Field separator of CSV files.")
    sheet: str | None = Field(default=None, description="XLSX sheet name (default: the first).")
    header_row: Annotated[int, Field(ge=1)] = Field(
        default=1, description="Line (CSV) or row (XLSX) holding the column headers."
    )
    timestamp: TimestampColumn
    values: list[ValueColumn] = Field(default_factory=list)
    long: LongLayout | None = None
    meters: list[MeterSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_layout(self) -> FileMapping:
        if bool(self.values) == (self.long is not None):
            raise ValueError("give either values (one column per meter) or long, not both")
        return self

    def meter_objects(self) -> list[Meter]:
        """The meters the mapping registers, as plain objects."""
        return [spec.to_meter(self.timestamp) for spec in self.meters]

    def digest(self) -> str:
        """SHA-256 of the mapping's canonical JSON, recorded with each import batch."""
        # fields added later count only when set, so existing mappings keep their digest
        unset = {
            i: {name for name in ("valid_from", "max_future_skew_s") if getattr(m, name) is None}
            for i, m in enumerate(self.meters)
        }
        text = self.model_dump_json(exclude={"meters": unset} if unset else None)
        return hashlib.sha256(text.encode()).hexdigest()


def load_mapping(path: Path) -> FileMapping:
    """Read and check a mapping file; errors name the file and the offending field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read mapping: {exc.strerror}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"mapping is not valid YAML: {exc}", file=str(path)) from exc
    try:
        return FileMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(
            f"mapping is invalid: {problems}",
            file=str(path),
            hint="see `carbonlink ingest csv --help` for the mapping format",
        ) from exc


def shipped_mapping(name: str) -> Path:
    """Path of a mapping shipped with carbonlink (in ``carbonlink/data/mappings``)."""
    path = Path(__file__).resolve().parents[1] / "data" / "mappings" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"no shipped mapping named {name!r}", file=str(path))
    return path
