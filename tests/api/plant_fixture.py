"""Test fixture of the service: a steel maker with two facilities and months of hourly meters.

Readings are synthetic but deterministic (fixed random seed) with the shape of a real plant:
a daily load curve, lower output on Sundays, a few gaps and estimated values, so that every
dashboard page has something to show in the tests. It is not the demo: `make demo` saves the
demo enterprise's real inventories into its workspace (`carbonlink.demo.service`).
The factors are the accounting engine's (cited).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import numpy as np

from carbonlink.domain.engine import account
from carbonlink.domain.inventory import Inventory
from carbonlink.ingest.base import Reading
from carbonlink.store.tenant_data import StoreTenantData
from carbonlink.store.tenants import EmissionFactorRef, Facility, MemoryTenantData, Meter, Source

DEMO_ORG_ID = "org-demo-steel"
DEMO_ORG_NAME = "华东示范钢铁有限公司"
PLANTS = (
    ("fac-steelmaking", "炼钢厂 Steelmaking", "江苏省南京市 1 号", 9000.0, 38.0, 260.0),
    ("fac-hot-rolling", "热轧厂 Hot rolling", "江苏省南京市 2 号", 15000.0, 21.0, 240.0),
)
"""Facility id, name, address and hourly means of gas (Nm3), power (MWh) and output (t)."""


def demo_factors(year: int = 2024) -> dict[str, EmissionFactorRef]:
    """t CO2e per unit of the demo's natural gas and electricity (see ``_demo_factors``)."""
    return dict(_demo_factors(year))


@functools.cache
def _demo_factors(year: int) -> dict[str, EmissionFactorRef]:
    """t CO2e per unit of the demo's natural gas and electricity, from the accounting engine.

    A probe inventory (10 000 Nm3 of natural gas, 1 000 MWh from the East China grid) is
    accounted with the shipped factor library; each source's t CO2e per unit and the factors'
    citations become the demo sources' factors, so the demo uses no coefficient of its own.
    """
    probe = Inventory.model_validate(
        {
            "organization": DEMO_ORG_NAME,
            "period": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
            "jurisdiction": "CN",
            "facilities": [
                {
                    "id": "probe",
                    "name": "probe",
                    "grid": "CN-East",
                    "timezone": "Asia/Shanghai",
                    "sources": [
                        {
                            "id": "natural_gas",
                            "method": "combustion",
                            "fuel": "natural_gas",
                            "activity": {"quantity": 10000, "unit": "Nm3"},
                        },
                        {
                            "id": "grid_electricity",
                            "method": "electricity",
                            "activity": {"quantity": 1000, "unit": "MWh"},
                        },
                    ],
                }
            ],
        }
    )
    out = {}
    for key, unit, name in (
        ("natural_gas", "Nm3", "Natural gas combustion (CO2, CH4, N2O)"),
        ("grid_electricity", "MWh", "East China grid average (location-based)"),
    ):
        lines = [
            line
            for line in account(probe).lines()
            if line["source"] == key and line["scope"] in ("1", "2_location")
        ]
        co2e = sum(line["tco2e"] for line in lines)
        quantity = lines[0]["activity"]["quantity"]
        cited = sorted({line["factor"]["source"] for line in lines})
        out[key] = EmissionFactorRef(co2e / quantity, unit, "; ".join(cited), name)
    return out


def _series(
    rng: np.random.Generator, start: datetime, hours: int, mean: float, spread: float
) -> np.ndarray:
    hour = (np.arange(hours) + start.hour) % 24
    day = ((np.arange(hours) + start.hour) // 24 + start.weekday()) % 7
    load = 1.0 + 0.18 * np.sin((hour - 8) / 24 * 2 * np.pi) - 0.25 * (day == 6)
    return np.maximum(mean * load * (1 + spread * rng.standard_normal(hours)), 0.0)


@functools.cache
def _readings(first: datetime, hours: int) -> tuple[tuple[Reading, ...], ...]:
    """The hourly readings of each meter, in the order ``seed_demo_plant`` adds the meters.

    Drawn from one seeded generator, so the same for the same hours; made once per test run,
    since every test's service seeds the same months (readings are frozen).
    """
    rng = np.random.default_rng(20261129)
    out = []
    for fid, _name, _address, gas_nm3_h, power_mwh_h, product_t_h in PLANTS:
        for suffix, unit, mean in (
            ("gas", "Nm3", gas_nm3_h),
            ("power", "MWh", power_mwh_h),
            ("output", "t", product_t_h),
        ):
            values = _series(rng, first, hours, mean, 0.06)
            gaps = rng.random(hours) < 0.012
            estimated = rng.random(hours) < 0.01
            out.append(
                tuple(
                    Reading(
                        f"{fid}-m-{suffix}",
                        first + timedelta(hours=int(i)),
                        round(float(values[i]), 3),
                        unit,
                        "estimated" if estimated[i] else "good",
                        "demo-seed",
                    )
                    for i in np.flatnonzero(~gaps)
                )
            )
    return tuple(out)


def seed_demo_plant(
    data: MemoryTenantData | StoreTenantData, *, end: datetime | None = None, months: int = 3
) -> str:
    """Add the demo organization, its catalogue and hourly readings; return the org id."""
    factors = demo_factors()
    data.add_organization(DEMO_ORG_NAME, DEMO_ORG_ID)
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    first = end.replace(day=1, hour=0)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    hours = int((end - first).total_seconds() // 3600)
    readings = iter(_readings(first, hours))
    for fid, name, address, *_means in PLANTS:
        data.add_facility(Facility(fid, DEMO_ORG_ID, name, "Asia/Shanghai", "East China", address))
        gas = data.add_source(
            Source(
                f"{fid}-gas", DEMO_ORG_ID, fid, "天然气燃烧 Natural gas", 1, factors["natural_gas"]
            )
        )
        power = data.add_source(
            Source(
                f"{fid}-power",
                DEMO_ORG_ID,
                fid,
                "外购电力 Purchased electricity",
                2,
                factors["grid_electricity"],
            )
        )
        for meter in (
            Meter(f"{fid}-m-gas", DEMO_ORG_ID, fid, "天然气总表 Gas main", "Nm3", gas.id),
            Meter(f"{fid}-m-power", DEMO_ORG_ID, fid, "10 kV 进线 Incomer", "MWh", power.id),
            Meter(f"{fid}-m-output", DEMO_ORG_ID, fid, "产量 Output", "t", None, "production"),
        ):
            data.add_meter(meter)
            data.add_readings(next(readings))
    return DEMO_ORG_ID
