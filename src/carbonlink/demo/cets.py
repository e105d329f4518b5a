"""The demo's China ETS year for the Tangshan entity: control plan, twelve months, deposits.

Everything here is made up for the demo and says so: the monthly figures spread the enterprise
dataset's annual quantities over 2025 with a small seasonal swing; the laboratory reports are
pages (HTML, to keep the demo quick) marked 示例 / "demo, not a real laboratory report" with a
placeholder CMA number; the deposit packs carry their summary as HTML (the CLI and the web add
the PDF); the
allocation intensity is an illustrative figure, not the MEE allocation plan's (which carbonlink
could not confirm). One planted slip shows what a verifier's check catches: in August 2025 the
laboratory sheet gives the PCI coal's carbon on a dry basis (72.5 %) beside an as-received NCV,
so C/NCV = 0.725 / 25.0 × 1000 = 29.0 t C/TJ, above the bituminous-coal band's 27.2 (CETS-P1).
A row of the October ledger without a number is quarantined, named by its row.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from carbonlink.cets.records import ParameterRecord

if TYPE_CHECKING:
    from carbonlink.cets.control_plan import ControlPlan
    from carbonlink.demo.run import DemoRun

ENTITY = "tangshan"
YEAR = 2025
AS_OF = date(2026, 3, 1)
"""The day the demo's calendar is judged on: all 2025 deposits made, the annual report open."""
ETS_SETTINGS = "ets"
"""The demo's ETS settings (``data/demo/monitoring.yaml``): the allowance price the demo's user
sets (CNY per t CO2, a setting, not a market quote) and an illustrative carbon intensity per t of
crude steel, NOT the MEE allocation plan's value: no 2025 benchmark could be confirmed (see
``data/cets/steel_allocation.csv``). The China ETS position computed here replaces the demo's
illustrative ETS position of the same works in the monitoring report."""
LAB = "唐山示范检测中心（示例）"
CMA = "CMA 000000000000（示例）"
COALS = {
    # source: (NCV GJ/t as received, carbon % as received, H %, S %, moisture %)
    "bf-coke": (28.40, 83.0, 0.4, 0.7, 5.0),
    "bf-pci": (25.00, 64.5, 3.9, 0.5, 8.0),
    "sinter-fuel": (21.10, 56.5, 1.2, 0.4, 9.0),
}
SLIP = ("2025-08", "bf-pci", 72.5)
"""The planted slip: carbon on a dry basis where the as-received value belongs."""
ANNUAL = {
    # source or process: (parameter, annual quantity, unit)
    "bf-coke": ("consumption", 360_000.0, "t"),
    "bf-pci": ("consumption", 140_000.0, "t"),
    "sinter-fuel": ("consumption", 45_000.0, "t"),
    "rolling-mill-gas": ("consumption", 1_200.0, "10^4 Nm3"),
    "mobile-diesel": ("consumption", 1_800.0, "t"),
    "flux-limestone": ("consumption", 90_000.0, "t"),
    "flux-dolomite": ("consumption", 40_000.0, "t"),
    "grid-power": ("purchased_electricity", 620_000.0, "MWh"),
    "heat-export": ("exported_heat", 150_000.0, "GJ"),
    "sintering": ("output", 1_450_000.0, "t"),
    "ironmaking": ("output", 955_000.0, "t"),
    "steelmaking": ("output", 1_000_000.0, "t"),
    "rolling": ("output", 980_000.0, "t"),
    "captive_power": ("output", 165_000.0, "MWh"),
}


def _swing(month: int) -> float:
    """Share of the year in ``month``: 1/12 with a ±4 % seasonal swing (winter heavier)."""
    weights = [1.0 + 0.04 * math.cos(2 * math.pi * (m - 1) / 12) for m in range(1, 13)]
    return weights[month - 1] / sum(weights)


def month_records(month: int, ledger_name: str, lab_name: str) -> list[ParameterRecord]:
    """The demo's records of one month of 2025 (the planted slip included)."""
    label = f"{YEAR}-{month:02d}"
    sampled = date(YEAR, month, 20).isoformat()
    report = f"LAB-TS-{YEAR}{month:02d}"
    out = []
    for source, (parameter, annual, unit) in ANNUAL.items():
        out.append(
            ParameterRecord(
                ENTITY,
                label,
                source,
                parameter,
                round(annual * _swing(month), 3),
                unit,
                evidence_kind="ledger_scan",
                evidence_name=ledger_name,
                origin="ledger",
            )
        )
    for index, (source, (ncv, carbon, hydrogen, sulphur, moisture)) in enumerate(
        COALS.items(), start=1
    ):
        if (label, source) == SLIP[:2]:
            carbon = SLIP[2]
        for parameter, value, unit, standard in (
            ("ncv", ncv, "GJ/t", "GB/T 213"),
            ("carbon_content", carbon, "%", "GB/T 476"),
            ("hydrogen", hydrogen, "%", "GB/T 476"),
            ("sulphur", sulphur, "%", "GB/T 214"),
            ("moisture", moisture, "%", "GB/T 211"),
        ):
            out.append(
                ParameterRecord(
                    ENTITY,
                    label,
                    source,
                    parameter,
                    value,
                    unit,
                    report_id=report,
                    accreditation=CMA,
                    sample_id=f"S-{YEAR}{month:02d}-{index:02d}",
                    sample_date=sampled,
                    standard=standard,
                    sample_count=1,
                    evidence_kind="lab_report",
                    evidence_name=lab_name,
                    origin="ledger",
                )
            )
    return out


def _plan(run: DemoRun) -> ControlPlan:
    from carbonlink.cets.control_plan import ControlPlan, Instrument
    from carbonlink.cets.operations import plan_for_entity
    from carbonlink.demo.cbam import demo_cbam_input
    from carbonlink.demo.run import DEMO_ENTITIES, demo_inventory_text
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.cets_entities import load_entities

    entity = next(
        e for e in load_entities(demo_cbam_input(DEMO_ENTITIES)).entities if e.id == ENTITY
    )
    draft = plan_for_entity(entity, parse_inventory(demo_inventory_text()), laboratory=LAB)
    # The demo's instruments were calibrated in January 2025, each for a year.
    parameters = tuple(
        p.model_copy(
            update={
                "instrument": Instrument(
                    **(
                        p.instrument.model_dump()
                        | {
                            "calibrated_on": date(2025, 1, 10),
                            "calibration_due": date(2026, 1, 9),
                            "calibrated_by": "唐山市计量测试所（示例）",
                        }
                    )
                )
            }
        )
        if p.instrument is not None
        else p
        for p in draft.parameters
    )
    return ControlPlan.model_validate(draft.model_dump() | {"parameters": parameters})


def _lab_report(month: int, path: Path) -> None:
    from carbonlink.reports.cets_reports import lab_report_document
    from carbonlink.reports.render import write_report

    rows = []
    for index, (source, (ncv, carbon, hydrogen, sulphur, moisture)) in enumerate(
        COALS.items(), start=1
    ):
        if (f"{YEAR}-{month:02d}", source) == SLIP[:2]:
            carbon = SLIP[2]
        rows.append(
            {
                "sample": f"S-{YEAR}{month:02d}-{index:02d}",
                "source": source,
                "ncv": ncv,
                "carbon": carbon,
                "hydrogen": hydrogen,
                "sulphur": sulphur,
                "moisture": moisture,
                "standard": "GB/T 213；GB/T 476；GB/T 214；GB/T 211",
            }
        )
    document = lab_report_document(
        f"LAB-TS-{YEAR}{month:02d}",
        "唐山示范钢铁有限公司",
        LAB,
        CMA,
        date(YEAR, month, 20).isoformat(),
        rows,
    )
    write_report(document, path, "html")


def step_cets(run: DemoRun) -> None:
    """Control plan, twelve months of parameters with evidence, checks, twelve receipted deposit
    packs, the 2025 calendar and the allocation position of the Tangshan entity."""
    from carbonlink.cets.ledger_import import write_ledger
    from carbonlink.cets.operations import (
        calendar_status,
        deposit_month,
        entity_year,
        findings_of,
        import_ledger,
        verify_deposit,
    )
    from carbonlink.demo.monitoring import demo_settings as monitoring_settings
    from carbonlink.demo.run import _demo_store, demo_settings
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.errors import CarbonlinkError
    from carbonlink.ledger import load_ledger_signer, load_ledger_verifier
    from carbonlink.reports.cets_reports import control_plan_document
    from carbonlink.reports.render import write_report
    from carbonlink.store import cets as cets_store

    ets = monitoring_settings()[ETS_SETTINGS]
    price = float(ets["price_per_t"])
    intensity = {"steelmaking": float(ets["benchmark_tco2_per_t"])}
    folder = run.out / "cets"
    ledgers, labs = folder / "ledgers", folder / "lab-reports"
    ledgers.mkdir(parents=True, exist_ok=True)
    labs.mkdir(parents=True, exist_ok=True)
    workspace = demo_settings(run).workspace
    signer = load_ledger_signer(workspace)
    console = run.console
    with _demo_store(run) as store:
        engine = store.engine
        plan = cets_store.save_control_plan(engine, DEMO_ORG_ID, _plan(run), "demo")
        document = control_plan_document(plan, valid_from=date(YEAR, 1, 1))
        for suffix in ("pdf", "xlsx"):
            path = write_report(document, folder / f"control-plan-{ENTITY}.{suffix}", suffix)
            run.outputs[f"China ETS control plan ({suffix.upper()})"] = path
        console.print(
            f"control plan {ENTITY} v{plan.version}: {len(plan.parameters)} parameters "
            f"({sum(p.determination == 'measured' for p in plan.parameters)} measured)",
            highlight=False,
        )
        quarantined = 0
        for month in range(1, 13):
            ledger_name = f"ledger-{ENTITY}-{YEAR}-{month:02d}.xlsx"
            lab_name = f"LAB-TS-{YEAR}{month:02d}.html"
            _lab_report(month, labs / lab_name)
            records = month_records(month, ledger_name, lab_name)
            body = write_ledger(records)
            if month == 10:
                body = _with_bad_row(body)
            (ledgers / ledger_name).write_bytes(body)
            summary = import_ledger(
                engine,
                DEMO_ORG_ID,
                body,
                ledger_name,
                {ledger_name: body, lab_name: (labs / lab_name).read_bytes()},
                "demo",
            )
            quarantined += len(summary.quarantined)
            for number, _, _, error in summary.quarantined:
                console.print(f"  {ledger_name} row {number} quarantined: {error}", highlight=False)
        found = findings_of(engine, DEMO_ORG_ID, ENTITY, YEAR)
        for f in found:
            console.print(f"  finding {f.month} {f.rule} {f.source}: {f.detail}", highlight=False)
        console.print(
            "  → the August laboratory sheet gives the PCI coal's carbon on a dry basis (72.5 %) "
            "beside an as-received NCV; the as-received carbon is about 64.5 %",
            highlight=False,
        )
        deposits = []
        for month in range(1, 13):
            on = (
                date(2025, 10, 20)
                if month <= 6
                else date(YEAR + month // 12, month % 12 + 1, 1) + timedelta(days=29)
            )
            deposits.append(
                deposit_month(
                    engine,
                    workspace,
                    signer,
                    DEMO_ORG_ID,
                    ENTITY,
                    f"{YEAR}-{month:02d}",
                    deposited_on=on,
                    summary_pdf=False,
                )
            )
        packs = folder / "deposits"
        packs.mkdir(exist_ok=True)
        for d in deposits:
            source = workspace / d.folder
            shutil.copytree(source, packs / source.name, dirs_exist_ok=True)
            shutil.copyfile(source.with_suffix(".zip"), packs / f"{source.name}.zip")
        key = load_ledger_verifier(workspace)
        verify_deposit(workspace, deposits[7], key)
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / Path(deposits[7].folder).name
            shutil.copytree(workspace / deposits[7].folder, copy)
            lab = copy / f"LAB-TS-{YEAR}08.html"
            lab.write_bytes(lab.read_bytes().replace(b"72.50", b"64.50"))
            from carbonlink.cets.deposit import verify_deposit_pack

            try:
                verify_deposit_pack(copy, key)
                tampered = "not detected (unexpected)"
            except CarbonlinkError as exc:
                tampered = f"detected: {exc}"
        console.print(
            f"12 deposit packs receipted (ledger entries {deposits[0].ledger_index}–"
            f"{deposits[-1].ledger_index}) in {packs}; a copy of August with its laboratory "
            f"report changed after the deposit: {tampered}",
            highlight=False,
        )
        statuses = calendar_status(engine, DEMO_ORG_ID, ENTITY, YEAR, AS_OF)
        year = entity_year(
            engine,
            DEMO_ORG_ID,
            ENTITY,
            YEAR,
            price=price,
            intensity=intensity,
            intensity_source="demo value, illustrative, not the MEE allocation plan's",
        )
    calendar_doc = {
        "entity": ENTITY,
        "year": YEAR,
        "as_of": AS_OF.isoformat(),
        "obligations": [
            {
                "kind": s.obligation.kind.value,
                "period": s.obligation.period,
                "opens": s.obligation.opens.isoformat(),
                "due": s.obligation.due.isoformat(),
                "state": s.state.value,
                "done_on": s.done_on.isoformat() if s.done_on else None,
                "rule": s.obligation.rule,
                "source": s.obligation.source,
            }
            for s in statuses
        ],
    }
    (folder / f"calendar-{ENTITY}-{YEAR}.json").write_text(
        json.dumps(calendar_doc, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    position = year.position
    assert position is not None, year.position_error
    allocation_doc = {
        "entity": ENTITY,
        "year": YEAR,
        "note": "price set by the demo's user; intensity illustrative, not the allocation plan's",
        "settings": "data/demo/monitoring.yaml (ets)",
        "direct_co2_t": sum(m.tco2 for m in year.emissions),
        "output_t": year.output_t,
        "intensity": intensity,
        "allocation_t": position.allocation_t,
        "surplus_t": position.surplus_t,
        "price_cny_per_t": position.price,
        "shortfall_cost_cny": position.shortfall_cost,
        "surplus_value_cny": position.surplus_value,
        "basis": position.basis,
        "monthly_co2_t": {m.month: m.tco2 for m in year.emissions},
    }
    (folder / f"allocation-{ENTITY}-{YEAR}.json").write_text(
        json.dumps(allocation_doc, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    run.outputs["China ETS calendar"] = folder / f"calendar-{ENTITY}-{YEAR}.json"
    run.outputs["China ETS allocation"] = folder / f"allocation-{ENTITY}-{YEAR}.json"
    run.results["cets"] = {"findings": len(found), "quarantined": quarantined}
    missing = [s for s in statuses if s.missing]
    console.print(
        f"calendar {YEAR} on {AS_OF}: {len(statuses) - len(missing)} done, next "
        + ", ".join(f"{s.obligation.kind.value} due {s.obligation.due}" for s in missing[:2])
        + f"; direct CO2 {allocation_doc['direct_co2_t']:,.0f} t, allocation "
        f"{position.allocation_t:,.0f} t ({intensity['steelmaking']} t/t crude steel, "
        f"illustrative): {'surplus' if position.surplus_t >= 0 else 'shortfall'} "
        f"{abs(position.surplus_t):,.0f} t = "
        f"{max(position.shortfall_cost, position.surplus_value):,.0f} CNY at {price:g} CNY/t "
        f"(page /cets?entity={ENTITY}); it replaces the monitoring report's ETS position",
        highlight=False,
    )
    _replace_monitoring_position(run, ets, allocation_doc)


def _replace_monitoring_position(
    run: DemoRun, ets: dict[str, object], allocation: dict[str, object]
) -> None:
    """The monitoring report's ETS position of the Chinese works, from the recorded year."""
    report = run.results.get("monitoring")
    if not report or report.get("ets", {}).get("scheme") != "CN-ETS":
        return
    allocated = float(str(allocation["allocation_t"]))
    emitted = float(str(allocation["direct_co2_t"]))
    price = float(str(allocation["price_cny_per_t"]))
    balance = allocated - emitted
    report["ets"] = {
        "scheme": "CN-ETS",
        "year": YEAR,
        "allocation_t": allocated,
        "emissions_t": emitted,
        "emissions_basis": "recorded",
        "price_per_t": price,
        "currency": str(ets.get("currency", "CNY")),
        "holdings_t": 0.0,
        "balance_t": balance,
        "cost": max(0.0, -balance) * price,
        "source": f"China ETS operations of {ENTITY}: direct CO2 from the recorded monthly "
        "parameters, allocation from the recorded output (intensity illustrative)",
    }
    target = run.outputs.get("monitoring")
    if target is not None:
        target.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _with_bad_row(body: bytes) -> bytes:
    """The ledger with one more row whose value is a dash (a number the clerk did not have)."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    sheet.append([ENTITY, f"{YEAR}-10", "mobile-diesel", "低位发热量", "—", "GJ/t"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
