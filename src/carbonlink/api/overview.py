"""The overview of an organization: emissions by scope, facility and month, intensity, completeness.

Built from the organization's monthly source totals and cached until its data changes, so the
dashboard's most visited page costs a dictionary lookup per request.

What the overview shows changes when this process stores data (the tenant data's version), when
any process saves an inventory run, a monitoring report or an alert (`stored_version`, one
indexed query), and, for readings another process stores, within `MAX_AGE_S` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, Field

from carbonlink.store.results import stored_version
from carbonlink.store.tenants import TenantData

T = TypeVar("T")

# Readings stored by another worker process or by `carbonlink ingest` carry no version this
# process sees; cached parts older than this are rebuilt so that such readings show up.
MAX_AGE_S = 60.0


class ScopeTotal(BaseModel):
    scope: int = Field(examples=[1])
    co2e_t: float = Field(examples=[1234.5])


class FacilityTotal(BaseModel):
    facility_id: str = Field(examples=["fac-3f2a9c01d4e5"])
    name: str = Field(examples=["Hot rolling mill"])
    co2e_t: float = Field(examples=[812.3])


class MonthRow(BaseModel):
    month: str = Field(
        examples=["2026-10"], description="Calendar month in the facility's time zone, YYYY-MM."
    )
    scope1_t: float = Field(examples=[640.2])
    scope2_t: float = Field(examples=[172.1])
    scope3_t: float = Field(examples=[0.0])
    production_t: float = Field(examples=[5200.0], description="Tonnes of product.")
    intensity_t_per_t: float | None = Field(
        examples=[0.156], description="t CO2e per tonne of product; empty without production."
    )
    completeness: float | None = Field(
        examples=[0.982], description="Readings received / readings expected, all meters."
    )


class Overview(BaseModel):
    """Emissions of the caller's organization over all months with data."""

    organization: str = Field(examples=["Demo Steel Co."])
    total_co2e_t: float = Field(examples=[2345.6])
    by_scope: list[ScopeTotal]
    by_facility: list[FacilityTotal]
    by_month: list[MonthRow]
    meters: int = Field(examples=[6])
    readings: int = Field(examples=[12960])


def build_overview(data: TenantData, organization_id: str) -> Overview:
    """Aggregate the monthly source totals of one organization."""
    org = data.organization(organization_id)
    names = {f.id: f.name for f in data.facilities(organization_id)}
    by_scope: dict[int, float] = defaultdict(float)
    by_facility: dict[str, float] = defaultdict(float)
    by_month: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in data.source_months(organization_id):
        by_scope[row.scope] += row.co2e_t
        by_facility[row.facility_id] += row.co2e_t
        by_month[row.month][row.scope] += row.co2e_t
    production: dict[str, float] = defaultdict(float)
    for (_facility, month), tonnes in data.production_months(organization_id).items():
        production[month] += tonnes
    received: dict[str, int] = defaultdict(int)
    expected: dict[str, int] = defaultdict(int)
    for mm in data.meter_months(organization_id):
        received[mm.month] += mm.received
        expected[mm.month] += mm.expected
    months = sorted(set(by_month) | set(production) | set(expected))
    rows = []
    for month in months:
        scopes = by_month.get(month, {})
        total = sum(scopes.values())
        tonnes = production.get(month, 0.0)
        rows.append(
            MonthRow(
                month=month,
                scope1_t=scopes.get(1, 0.0),
                scope2_t=scopes.get(2, 0.0),
                scope3_t=scopes.get(3, 0.0),
                production_t=tonnes,
                intensity_t_per_t=total / tonnes if tonnes > 0 else None,
                completeness=received[month] / expected[month] if expected.get(month) else None,
            )
        )
    return Overview(
        organization=org.name if org else organization_id,
        total_co2e_t=sum(by_scope.values()),
        by_scope=[ScopeTotal(scope=s, co2e_t=v) for s, v in sorted(by_scope.items())],
        by_facility=sorted(
            (
                FacilityTotal(facility_id=f, name=names.get(f, f), co2e_t=v)
                for f, v in by_facility.items()
            ),
            key=lambda t: -t.co2e_t,
        ),
        by_month=rows,
        meters=len(data.meters(organization_id)),
        readings=sum(received.values()),
    )


def render_content(templates: Jinja2Templates, name: str, values: dict[str, Any]) -> Markup:
    """The ``content`` block of template ``name`` rendered with ``values``.

    Cached per data version and language, it is placed in the page by ``content.html``, so a
    request renders only the frame with the caller's name and CSRF token.
    """
    template = templates.get_template(name)
    return Markup("".join(template.blocks["content"](template.new_context(values))))


@dataclass
class OverviewCache:
    """Overviews and the overview page's parts, rebuilt when their data version moves.

    A part older than ``max_age_s`` is rebuilt by one request while the others keep being
    served the previous value, so the rebuild (a year of readings) stalls nobody. When the
    version moves, concurrent requests wait for one rebuild instead of each doing their own.
    """

    max_age_s: float = MAX_AGE_S
    _entries: dict[Hashable, tuple[Hashable, float, Any]] = field(default_factory=dict)
    _building: dict[Hashable, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, key: Hashable, version: Hashable, build: Callable[[], T]) -> T:
        """The value stored under ``key`` for ``version``, built (once per version) if absent."""
        with self._lock:
            hit = self._entries.get(key)
            building = self._building.setdefault(key, threading.Lock())
        if hit is not None and hit[0] == version:
            if time.monotonic() - hit[1] < self.max_age_s or not building.acquire(blocking=False):
                return cast(T, hit[2])
            try:
                return self._store(key, version, build)
            finally:
                building.release()
        with building:
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                return cast(T, hit[2])
            return self._store(key, version, build)

    def _store(self, key: Hashable, version: Hashable, build: Callable[[], T]) -> T:
        built = time.monotonic()
        value = build()
        with self._lock:
            self._entries[key] = (version, built, value)
        return value

    def version(self, engine: sa.Engine, data: TenantData, organization_id: str) -> Hashable:
        """The organization's data version: this process's writes and the stored runs/alerts."""
        return (data.version(organization_id), stored_version(engine, organization_id))

    def get(self, data: TenantData, organization_id: str) -> Overview:
        """The overview of the organization's monthly source totals."""
        return self.cached(
            ("overview", organization_id),
            data.version(organization_id),
            lambda: build_overview(data, organization_id),
        )
