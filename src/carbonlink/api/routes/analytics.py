"""Energy analytics: meter series by range and step, comparison, intensity, load heat map, export.

The API (`/api/v1/series`, `/api/v1/meters/{id}/heatmap`) and the page (`/analytics`) read the
same summaries. Ranges are local dates of the first meter's facility, end inclusive; the server
picks a step that keeps a chart under `MAX_POINTS` points unless one is asked for, so any range
of a plant year is answered from one vectorised pass over the stored readings.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader, ServiceContext
from carbonlink.api.i18n import formatter
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.pages import _language, _page_caller, _render
from carbonlink.api.security import Principal
from carbonlink.domain.zones import zone_or_utc
from carbonlink.errors import InputError
from carbonlink.monitor.series import (
    MAX_POINTS,
    STEP_SECONDS,
    STEPS,
    Buckets,
    DayTotal,
    HeatMap,
    SeriesError,
    Step,
    bucket,
    default_stat,
    from_rollups,
    heat_map,
    per_output,
    pick_step,
    scaled,
)
from carbonlink.store import Store
from carbonlink.store.tenants import Meter

router = APIRouter()
MAX_METERS = 6
Stat = Literal["sum", "mean", "min", "max"]
StepChoice = Literal["auto", "15min", "hour", "day", "month"]
Format = Literal["json", "csv", "xlsx"]


# reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterData:
    meter: Meter
    ts_us: np.ndarray
    values: np.ndarray
    stored: np.ndarray | None = None
    """An interval meter's values as stored, before ``multiplier`` (None for a register)."""
    multiplier: float = 1.0


def _meter(ctx: ServiceContext, caller: Principal, meter_id: str) -> Meter:
    meter = ctx.data.meter(caller.organization_id, meter_id)
    if meter is None:
        raise NotFoundError("meter not found", record=meter_id)
    return meter


def _zone(ctx: ServiceContext, caller: Principal, meter: Meter) -> str:
    facility = ctx.data.facility(caller.organization_id, meter.facility_id)
    return zone_or_utc(facility.timezone if facility else "UTC").key


def consumption(
    ctx: ServiceContext, caller: Principal, meter: Meter, start: datetime, end: datetime
) -> MeterData:
    """The meter's quantities in ``[start, end)``: values of an interval meter (multiplier
    applied), or the consumption between reads of a register meter (at the later read)."""
    ts, values = ctx.data.series(caller.organization_id, meter.id, start, end)
    domain = Store(ctx.engine).meter(meter.id)
    if domain is None:
        return MeterData(meter, ts, values)
    if domain.kind == "interval":
        return MeterData(meter, ts, values * domain.multiplier, values, domain.multiplier)
    if len(ts) < 2:
        return MeterData(meter, ts[:0], values[:0])
    from carbonlink.ingest.vee import register_consumption

    delta, kept, _ = register_consumption(values, domain)
    later = ts[np.flatnonzero(kept)[1:]]
    finite = np.isfinite(delta)
    return MeterData(meter, later[finite], delta[finite])


def _range(
    ctx: ServiceContext,
    caller: Principal,
    meter_id: str,
    zone: str,
    start: date | None,
    end: date | None,
) -> tuple[date, date]:
    """The local dates asked for, or the last 30 days of the meter's data."""
    if start is not None and end is not None:
        if end < start:
            raise SeriesError(f"the range ends ({end}) before it starts ({start})")
        return start, end
    first, last = ctx.data.reading_extent(caller.organization_id, meter_id)
    tz = ZoneInfo(zone)
    if last is None or first is None:
        today = datetime.now(tz).date()
        return start or today - timedelta(days=29), end or today
    last_day = last.astimezone(tz).date()
    first_day = first.astimezone(tz).date()
    if end is None:
        end = last_day if start is None else min(last_day, start + timedelta(days=29))
    if start is None:
        start = max(first_day, end - timedelta(days=29))
    return start, max(start, end)


def _utc(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


# models -----------------------------------------------------------------------------------


class SeriesOut(BaseModel):
    meter_id: str = Field(examples=["mtr-0a1b2c3d4e5f"])
    name: str = Field(examples=["Grid import, main substation"])
    unit: str = Field(examples=["kWh"])
    purpose: str = Field(examples=["activity"], description="activity or production")
    values: list[float | None] = Field(
        description="The chosen statistic per bucket (null where the meter has no reading)."
    )
    count: list[int] = Field(description="Readings in each bucket.")


class SeriesSetOut(BaseModel):
    zone: str = Field(examples=["Asia/Shanghai"], description="Zone of the bucket times.")
    start: date = Field(examples=["2018-01-01"])
    end: date = Field(examples=["2018-01-31"], description="Last local date, inclusive.")
    step: Step = Field(examples=["hour"])
    stat: Stat = Field(examples=["sum"])
    buckets: list[str] = Field(
        examples=[["2018-01-01T00:00:00", "2018-01-01T01:00:00"]],
        description="Local wall-clock start of each bucket.",
    )
    series: list[SeriesOut]
    intensity: list[float | None] | None = Field(
        default=None,
        description="First meter's sum per unit of the output meter's sum, per bucket.",
    )
    intensity_unit: str | None = Field(default=None, examples=["kWh/t"])
    thresholds: list[float] = Field(
        default_factory=list,
        description="Limits (above and below) of the threshold rules on the first meter.",
    )


class HeatMapOut(BaseModel):
    meter_id: str = Field(examples=["mtr-0a1b2c3d4e5f"])
    unit: str = Field(examples=["kWh"])
    zone: str = Field(examples=["Asia/Shanghai"])
    stat: Stat = Field(examples=["sum"])
    days: list[str] = Field(examples=[["2018-01-01", "2018-01-02"]])
    cells: list[tuple[int, int, float]] = Field(
        description="[hour 0–23, day index, value] for each hour that has readings.",
        examples=[[[0, 0, 912.5], [1, 0, 904.1]]],
    )


# building ---------------------------------------------------------------------------------


def _clean(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), 6) for v in values]


def _align(buckets: Buckets, labels: list[str], stat: str) -> tuple[list[float | None], list[int]]:
    where = {s: i for i, s in enumerate(buckets.start)}
    chosen = buckets.values(stat)
    values: list[float | None] = []
    counts: list[int] = []
    for label in labels:
        i = where.get(label)
        if i is None:
            values.append(None)
            counts.append(0)
        else:
            v = float(chosen[i])
            values.append(round(v, 6) if math.isfinite(v) else None)
            counts.append(int(buckets.count[i]))
    return values, counts


def series_with_data(
    ctx: ServiceContext,
    caller: Principal,
    meter_ids: list[str],
    start: date | None,
    end: date | None,
    step: StepChoice,
    stat: Stat | None,
    per: str | None,
) -> tuple[SeriesSetOut, MeterData | None]:
    """The meters' buckets over the range, and the first meter's quantities they came from."""
    if not meter_ids:
        raise SeriesError("name at least one meter (meter=ID)")
    if len(meter_ids) > MAX_METERS:
        raise SeriesError(f"compare at most {MAX_METERS} meters at once")
    meters = [_meter(ctx, caller, m) for m in dict.fromkeys(meter_ids)]
    output = _meter(ctx, caller, per) if per else None
    if output is not None and output.purpose != "production":
        raise SeriesError(
            f"meter {output.id} counts {output.purpose}, not production",
            hint="choose a production meter for intensity",
        )
    zone = _zone(ctx, caller, meters[0])
    first, last = _range(ctx, caller, meters[0].id, zone, start, end)
    lo, hi = _utc(first, zone), _utc(last + timedelta(days=1), zone)
    chosen: Step = (
        pick_step((hi - lo).total_seconds(), meters[0].interval_s) if step == "auto" else step
    )
    if (hi - lo).total_seconds() / STEP_SECONDS[chosen] > 50 * MAX_POINTS:
        raise SeriesError(
            f"{chosen} steps over {first} – {last} would be too many points",
            hint="choose a coarser step or a shorter range",
        )
    statistic: Stat = stat or default_stat(meters[0].unit)
    grouped = []
    first_data: MeterData | None = None
    for k, m in enumerate(meters):
        rolled = rollup_buckets(ctx, m, zone, first, last, chosen)
        if rolled is not None:
            grouped.append(rolled)
            continue
        data = consumption(ctx, caller, m, lo, hi)
        if k == 0:
            first_data = data
        grouped.append(buckets_of(data, zone, chosen))
    labels = sorted(set().union(*(g.start for g in grouped)))
    series = []
    for m, g in zip(meters, grouped, strict=True):
        values, counts = _align(g, labels, statistic)
        series.append(
            SeriesOut(
                meter_id=m.id,
                name=m.name,
                unit=m.unit,
                purpose=m.purpose,
                values=values,
                count=counts,
            )
        )
    intensity = intensity_unit = None
    if output is not None:
        produced = rollup_buckets(ctx, output, zone, first, last, chosen) or buckets_of(
            consumption(ctx, caller, output, lo, hi), zone, chosen
        )
        ratio = per_output(grouped[0], produced)
        by_label = dict(zip(grouped[0].start, _clean(ratio), strict=True))
        intensity = [by_label.get(label) for label in labels]
        intensity_unit = f"{meters[0].unit}/{output.unit}"
    out = SeriesSetOut(
        zone=zone,
        start=first,
        end=last,
        step=chosen,
        stat=statistic,
        buckets=labels,
        series=series,
        intensity=intensity,
        intensity_unit=intensity_unit,
        thresholds=_thresholds(ctx, caller, meters[0].id),
    )
    return out, first_data


def buckets_of(data: MeterData, zone: str, step: Step) -> Buckets:
    """Buckets of a meter's quantities read from raw readings (an interval meter's multiplier
    applied to the bucket statistics, as `rollup_buckets` does)."""
    if data.stored is not None:
        return scaled(bucket(data.ts_us, data.stored, zone, step), data.multiplier)
    return bucket(data.ts_us, data.values, zone, step)


def rollup_buckets(
    ctx: ServiceContext, meter: Meter, zone: str, first: date, last: date, step: Step
) -> Buckets | None:
    """Day or month buckets of an interval meter from its stored day rollups, or None when they
    cannot answer (a finer step, a register meter, rollups kept in another zone)."""
    from carbonlink.store import rollups

    if step not in ("day", "month") or not rollups.covers(first, last):
        return None
    domain = Store(ctx.engine).meter(meter.id)
    if domain is None or domain.kind != "interval":
        return None
    rollups.bring_up_to_date(ctx.engine, [meter.id])
    days = rollups.days_of(ctx.engine, meter.id, first, last)
    if any(d.zone != zone for d in days):
        return None
    totals = [
        DayTotal(d.start.isoformat(), d.count, str(d.total_exact), d.low, d.high) for d in days
    ]
    return scaled(from_rollups(totals, zone, step), domain.multiplier)


def _thresholds(ctx: ServiceContext, caller: Principal, meter_id: str) -> list[float]:
    from carbonlink.store.results import alert_rules_of

    return sorted(
        {
            float(limit)
            for rule in alert_rules_of(ctx.engine, caller.organization_id)
            if rule.kind == "threshold" and rule.meter_id in (meter_id, "*")
            for limit in (rule.above, rule.below)
            if limit is not None
        }
    )


def build_heat_map(
    ctx: ServiceContext,
    caller: Principal,
    meter_id: str,
    start: date | None,
    end: date | None,
    stat: Stat | None,
    data: MeterData | None = None,
) -> HeatMapOut:
    """The load profile of a meter; ``data`` the meter's quantities over the range when the
    caller has read them already (the page reads them once for the series and the map)."""
    meter = _meter(ctx, caller, meter_id)
    zone = _zone(ctx, caller, meter)
    first, last = _range(ctx, caller, meter_id, zone, start, end)
    if data is None:
        lo, hi = _utc(first, zone), _utc(last + timedelta(days=1), zone)
        data = consumption(ctx, caller, meter, lo, hi)
    statistic: Stat = stat or default_stat(meter.unit)
    how: Stat = "sum" if statistic == "sum" else "mean"
    hm: HeatMap = heat_map(data.ts_us, data.values, zone, how)
    return HeatMapOut(
        meter_id=meter.id,
        unit=meter.unit,
        zone=zone,
        stat=how,
        days=hm.days,
        cells=[(int(h), int(d), float(v)) for h, d, v in hm.triples()],
    )


# export -----------------------------------------------------------------------------------


def _rows(out: SeriesSetOut) -> tuple[list[str], list[list[object]]]:
    header = [f"start ({out.zone})"] + [f"{s.name} [{s.unit}] ({out.stat})" for s in out.series]
    if out.intensity is not None:
        header.append(f"intensity [{out.intensity_unit}]")
    rows: list[list[object]] = []
    for i, label in enumerate(out.buckets):
        row: list[object] = [label] + [s.values[i] for s in out.series]
        if out.intensity is not None:
            row.append(out.intensity[i])
        rows.append(row)
    return header, rows


def export(out: SeriesSetOut, fmt: Format) -> Response:
    header, rows = _rows(out)
    name = f"series-{out.series[0].meter_id}-{out.start}-{out.end}-{out.step}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return Response(
            buffer.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("series")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer_b = io.BytesIO()
    book.save(buffer_b)
    return Response(
        buffer_b.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


# routes -----------------------------------------------------------------------------------

MeterIds = Annotated[
    list[str],
    Query(
        alias="meter",
        description="Meter ids (repeat to compare, at most 6).",
        examples=[["mtr-0a1b2c3d4e5f"]],
    ),
]
Start = Annotated[
    date | None,
    Query(
        description="First local date (default: 30 days before the last reading).",
        examples=["2018-01-01"],
    ),
]
End = Annotated[
    date | None,
    Query(
        description="Last local date, inclusive (default: the last reading's).",
        examples=["2018-01-31"],
    ),
]


@router.get(
    "/api/v1/series",
    response_model=SeriesSetOut,
    responses={
        **problem_responses(401, 403, 404, 422),
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        },
    },
    tags=["readings"],
)
def series_api(
    caller: Reader,
    ctx: Context,
    meter_ids: MeterIds,
    start: Start = None,
    end: End = None,
    step: Annotated[
        StepChoice, Query(description="Bucket length; auto keeps the series under 2 000 points.")
    ] = "auto",
    stat: Annotated[
        Stat | None,
        Query(description="Statistic per bucket (default: sum for amounts, mean for rates)."),
    ] = None,
    per: Annotated[
        str | None, Query(description="A production meter: the first meter's sum per its output.")
    ] = None,
    format: Annotated[Format, Query(description="json, or a csv / xlsx download.")] = "json",
) -> SeriesSetOut | Response:
    """Meters' readings by local time bucket over a range, with intensity and alert thresholds."""
    out, _ = series_with_data(ctx, caller, meter_ids, start, end, step, stat, per)
    return out if format == "json" else export(out, format)


@router.get(
    "/api/v1/meters/{meter_id}/heatmap",
    response_model=HeatMapOut,
    responses={**problem_responses(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
    tags=["readings"],
)
def heat_map_api(
    meter_id: str,
    caller: Reader,
    ctx: Context,
    start: Start = None,
    end: End = None,
    stat: Annotated[Stat | None, Query(description="sum (default for amounts) or mean.")] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json, or a csv download (a row per date).")
    ] = "json",
) -> HeatMapOut | Response:
    """The meter's load profile: hour of day × local date."""
    heat = build_heat_map(ctx, caller, meter_id, start, end, stat)
    if format == "json":
        return heat
    grid: dict[int, dict[int, float]] = {}
    for hour, day, value in heat.cells:
        grid.setdefault(day, {})[hour] = value
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f"date ({heat.zone})"] + [f"{h:02d}:00 [{heat.unit}]" for h in range(24)])
    for i, day_text in enumerate(heat.days):
        row = grid.get(i, {})
        writer.writerow([day_text] + [row.get(h, "") for h in range(24)])
    name = f"heatmap-{heat.meter_id}-{heat.days[0] if heat.days else 'empty'}.csv"
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _dates(request: Request, name: str) -> date | None:
    text = request.query_params.get(name) or ""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}={text!r} is not a date", hint="use YYYY-MM-DD") from None


HEAT_TABLE_DAYS = 31
TABLE_ROWS = MAX_POINTS


def _heat_rows(heat: HeatMapOut | None, weekdays: list[str]) -> list[dict[str, object]]:
    """The table behind the heat map: a row per date with its 24 hourly values for up to a
    month; for longer ranges the mean of each hour over the dates of each day of the week
    (the full grid is in the CSV export)."""
    if heat is None:
        return []
    grid = np.full((len(heat.days), 24), np.nan)
    for hour, day, value in heat.cells:
        grid[day, hour] = value
    if len(heat.days) <= HEAT_TABLE_DAYS:
        labels, rows = heat.days, grid
    else:
        dow = np.array([date.fromisoformat(d).weekday() for d in heat.days])
        labels = weekdays
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a weekday without any reading
            rows = np.vstack([np.nanmean(grid[dow == k], axis=0) for k in range(7)])
    return [
        {"day": label, "cells": [None if math.isnan(v) else float(v) for v in row]}
        for label, row in zip(labels, rows, strict=True)
    ]


@router.get("/analytics", include_in_schema=False)
def analytics_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    meters = ctx.data.meters(org)
    params = request.query_params
    chosen = [m for m in params.getlist("meter") if m] or ([meters[0].id] if meters else [])
    step_text = params.get("step") or "auto"
    if step_text not in ("auto", *STEPS):
        raise InputError(
            f"step={step_text!r} is unknown", hint="use auto, 15min, hour, day or month"
        )
    stat_text = params.get("stat") or None
    if stat_text not in (None, "sum", "mean", "min", "max"):
        raise InputError(f"stat={stat_text!r} is unknown", hint="use sum, mean, min or max")
    per = params.get("per") or None
    out = heat = None
    if chosen:
        out, first = series_with_data(
            ctx,
            caller,
            chosen,
            _dates(request, "start"),
            _dates(request, "end"),
            step_text,  # type: ignore[arg-type]
            stat_text,  # type: ignore[arg-type]
            per,
        )
        if (out.end - out.start).days < 400:
            heat = build_heat_map(ctx, caller, chosen[0], out.start, out.end, out.stat, first)
    query = [("meter", m) for m in chosen] + [
        (k, v)
        for k, v in (
            ("start", out.start.isoformat() if out else ""),
            ("end", out.end.isoformat() if out else ""),
            ("step", out.step if out else ""),
            ("stat", out.stat if out else ""),
            ("per", per or ""),
        )
        if v
    ]
    return _render(
        request,
        ctx,
        "analytics.html",
        caller,
        nav="analytics",
        meters=meters,
        facilities=[
            f for f in ctx.data.facilities(org) if any(m.facility_id == f.id for m in meters)
        ],
        facility_names={f.id: f.name for f in ctx.data.facilities(org)},
        heat_meter=next((m.name for m in meters if chosen and m.id == chosen[0]), ""),
        chosen=chosen,
        per=per,
        out=out,
        heat=heat,
        steps=("auto", *STEPS),
        step_choice=step_text,
        heat_rows=_heat_rows(
            heat, formatter(ctx.catalogues, _language(request, caller)).weekdays()
        ),
        heat_by_weekday=heat is not None and len(heat.days) > HEAT_TABLE_DAYS,
        table_rows=TABLE_ROWS,
        export_query=urlencode(query),
        analytics_json=json.dumps(
            {
                "series": out.model_dump(mode="json") if out else None,
                "heat": heat.model_dump(mode="json") if heat else None,
            }
        ),
    )
