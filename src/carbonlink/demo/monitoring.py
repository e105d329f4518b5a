"""The demo's monitoring step: plan and completeness, target pathway, ETS position, anomalies."""

from __future__ import annotations

from dataclasses import asdict
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from carbonlink.domain.engine import Computation
from carbonlink.monitor.anomaly import SeasonalBaseline, episodes, trailing_flags
from carbonlink.monitor.ets import EtsPosition, benchmark_allocation
from carbonlink.monitor.plan import completeness, load_template, plan_from_template
from carbonlink.monitor.targets import Target, TargetWatch, progress
from carbonlink.store.repository import Store


def demo_settings() -> dict[str, Any]:
    """The shipped monitoring settings of the demo enterprise."""
    text = resources.files("carbonlink.data").joinpath("demo", "monitoring.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def monitoring_report(
    settings: dict[str, Any], inventory: Computation, metered: Computation, store: Store
) -> dict[str, Any]:
    """Everything the dashboard's monitoring pages show for the demo, as plain data."""
    plan_cfg = settings["plan"]
    template = load_template(plan_cfg["template"])
    source_map = {
        source: value if isinstance(value, str) else value["template_source"]
        for source, value in plan_cfg["sources"].items()
    }
    meters = {
        source: value.get("meters", [])
        for source, value in plan_cfg["sources"].items()
        if isinstance(value, dict)
    }
    # The plan records the method each source is actually accounted with.
    methods: dict[str, str | None] = {
        line["source"]: line["method"]
        for line in inventory.lines()
        if line["facility"] == plan_cfg["facility"] and line["source"] in source_map
    }
    plan = plan_from_template(plan_cfg["facility"], template, source_map, meters, methods)
    with_readings = [meter for meter in store.meters() if store.reading_count(meter)]
    findings = completeness(plan, template, meters_with_data=with_readings)

    totals = inventory.totals()
    target_cfg = settings["target"]
    target = Target.linear_reduction(
        target_cfg["id"],
        target_cfg["base_year"],
        target_cfg["base_value_tco2e"],
        target_cfg["target_year"],
        target_cfg["annual_reduction"],
    )
    year = int(inventory.to_dict()["period"]["end"][:4])
    actual = totals["scope1"] + totals["scope2_location"]
    yearly = np.full(12, actual / 12)  # an annual inventory: one figure spread over the months
    enterprise = progress(target, year, yearly)

    ets_cfg = settings["ets"]
    direct_co2 = sum(
        line["tco2e"]
        for line in inventory.lines()
        if line["facility"] == ets_cfg["facility"] and line["scope"] == "1" and line["gas"] == "CO2"
    )
    position = EtsPosition(
        ets_cfg["scheme"],
        ets_cfg["year"],
        benchmark_allocation(
            ets_cfg["output_t"], ets_cfg["benchmark_tco2_per_t"], ets_cfg["adjustment"]
        ),
        direct_co2,
        "verified" if ets_cfg["year"] < year else "projected",
        ets_cfg["price_per_t"],
        ets_cfg["currency"],
    )

    metered_cfg = settings["metered"]
    series = store.series(metered_cfg["meter"])
    meter = store.meter(metered_cfg["meter"])
    zone = meter.time_zone if meter is not None else "UTC"
    ts = series.ts_us.astype("datetime64[us]").astype("datetime64[ns]")
    flags, _, _ = trailing_flags(ts, series.value, zone, k=6.0)
    baseline = SeasonalBaseline.fit(ts, series.value, zone)
    found = sorted(
        (e for e in episodes(ts, series.value, flags, baseline) if e.readings >= 8),
        key=lambda e: -e.readings,
    )
    local = pd.DatetimeIndex(ts, tz="UTC").tz_convert(zone)
    kwh_by_month = np.bincount(local.month - 1, weights=series.value, minlength=12)
    line = next(ln for ln in metered.lines() if ln["scope"] == "2_location")
    t_per_kwh = line["factor"]["value"] / 1000.0 if line["factor"]["unit"] == "kg/kWh" else None
    monthly_t = kwh_by_month * (t_per_kwh or line["tco2e"] / max(kwh_by_month.sum(), 1e-12))
    as_of = metered_cfg["as_of_month"]
    so_far = np.where(np.arange(12) < as_of, monthly_t, np.nan)
    budget_cfg = metered_cfg["budget"]
    budget = Target.linear_reduction(
        budget_cfg["id"],
        budget_cfg["base_year"],
        budget_cfg["base_value_tco2e"],
        budget_cfg["target_year"],
        budget_cfg["annual_reduction"],
    )
    metered_year = int(local[0].year) if len(local) else year
    works = progress(budget, metered_year, so_far)

    watch = TargetWatch()
    target_alerts = [
        asdict(event) | {"ts": str(event.ts)}
        for goal, result, as_at in (
            (target, enterprise, np.datetime64(f"{year}-12-31", "ns")),
            (budget, works, np.datetime64(f"{metered_year}-{as_of + 1:02d}-01", "ns")),
        )
        for event in watch.check(goal, result, as_at)
    ]

    def _episode(e: Any) -> dict[str, Any]:
        return {
            "start_local": str(pd.Timestamp(e.start).tz_localize("UTC").tz_convert(zone)),
            "end_local": str(pd.Timestamp(e.end).tz_localize("UTC").tz_convert(zone)),
            "readings": e.readings,
            "peak_kwh": e.peak_value,
            "usual_kwh": e.expected,
        }

    return {
        "note": "targets, allocation benchmark and price are illustrative settings of the demo",
        "plan": plan.model_dump(mode="json") | {"content_hash": plan.content_hash},
        "completeness": [asdict(f) for f in findings],
        "target": {
            "definition": asdict(target),
            "pathway": {
                str(y): float(target.pathway(y))
                for y in range(target.base_year, target.target_year + 1)
            },
            "progress": asdict(enterprise)
            | {"gap": enterprise.gap, "on_track": enterprise.on_track},
        },
        "target_alerts": target_alerts,
        "ets": asdict(position) | {"balance_t": position.balance_t, "cost": position.cost},
        "metered_works": {
            "meter": metered_cfg["meter"],
            "monthly_tco2": [round(float(v), 6) for v in monthly_t],
            "budget": asdict(budget),
            "progress_as_of_month": as_of,
            "progress": asdict(works) | {"gap": works.gap, "on_track": works.on_track},
            "anomalies": {
                "readings_flagged": int(flags.sum()),
                "readings": len(series),
                "episodes": [_episode(e) for e in found[:20]],
            },
        },
    }
