"""The demo's EU importer: customs lines of 2025 Q4, 2026 and 2027, its declarations and reports.

A German steel trader (an organization of its own, ``org-demo-importer``) buys hot-rolled coil
from the demo's Tangshan works — matched to the CBAM communication the demo just wrote, with an
illustrative carbon price paid in China — and coil and slabs from an Indian mill that sends no
communication, so the Indian default values with the year's mark-up apply. One 2027 row has a
typing error and stays in quarantine. The step writes into ``out/cbam-importer``: the annual
declarations of 2026 and 2027 (JSON, XLSX) and the 2025 Q4 transitional report (XML).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from carbonlink.demo.run import DemoRun

IMPORTER_ORG_ID = "org-demo-importer"
IMPORTER_NAME = "Rhein Steel Trading GmbH (demo)"
IMPORTER_EORI = "DE000000000000001"
IMPORTER_USERS = (("importer@demo.carbonlink.example", "admin", "Anna Importer"),)
TANGSHAN_ID = "CN-TANGSHAN"
CUSTOMS_FILES = ("customs-2025Q4.csv", "customs-2026.csv", "customs-2027.csv")
DECLARED_YEARS = (2026, 2027)
PROJECTED_PRICE_EUR = 80.0
"""An illustrative price to project the cost under (not a forecast)."""


def importer_file(name: str) -> Path:
    """A shipped file of the demo importer."""
    return Path(str(resources.files("carbonlink.data").joinpath("demo", "cbam_importer", name)))


def step_cbam_importer(run: DemoRun) -> None:
    """Load the importer's lines and communications, declare 2026 and 2027, write the files."""
    import yaml

    from carbonlink.cbam_import.declaration import declare, prices_with_shipped
    from carbonlink.cbam_import.lines import read_lines
    from carbonlink.cbam_import.outputs import write_declaration_json, write_declaration_xlsx
    from carbonlink.cbam_import.qreport import Declarant, write_quarterly_reports
    from carbonlink.cbam_import.store import (
        communications,
        load_lines,
        prices,
        save_communication,
        save_lines,
    )
    from carbonlink.demo.run import _demo_store
    from carbonlink.domain.metering import Organization

    folder = run.out / "cbam-importer"
    folder.mkdir(parents=True, exist_ok=True)
    communication_file = run.out / "cbam" / "cbam-tangshan.json"
    document = json.loads(communication_file.read_text("utf-8"))
    paid = yaml.safe_load(importer_file("carbon-price-paid-tangshan.yaml").read_text("utf-8"))
    with _demo_store(run) as store:
        store.save_organization(Organization(IMPORTER_ORG_ID, IMPORTER_NAME))
        engine = store.engine
        save_communication(
            engine,
            IMPORTER_ORG_ID,
            TANGSHAN_ID,
            document,
            None if "carbon_price_paid" in document else paid["carbon_price_paid"],
        )
        for name in CUSTOMS_FILES:
            summary = save_lines(engine, IMPORTER_ORG_ID, read_lines(importer_file(name)))
            run.console.print(
                f"importer {name}: {summary.inserted} new, {summary.unchanged} unchanged, "
                f"{summary.quarantined} quarantined",
                highlight=False,
            )
        lines = [r.line for r in load_lines(engine, IMPORTER_ORG_ID)]
        found = communications(engine, IMPORTER_ORG_ID)
        entered = prices_with_shipped(prices(engine, IMPORTER_ORG_ID))
    for year in DECLARED_YEARS:
        result = declare(year, lines, found, entered, projected_price_eur=PROJECTED_PRICE_EUR)
        run.outputs[f"CBAM importer declaration {year} (JSON)"] = write_declaration_json(
            result, folder / f"cbam-declaration-{year}.json"
        )
        run.outputs[f"CBAM importer declaration {year} (XLSX)"] = write_declaration_xlsx(
            result, folder / f"cbam-declaration-{year}.xlsx"
        )
        cost = (
            f"{result.cost_published_eur:,.0f} EUR at entered prices"
            + ("" if result.cost_complete else " (quarters without a price left out)")
            if result.cost_published_eur is not None
            else "no price entered"
        )
        run.console.print(
            f"importer {year}: embedded {result.embedded_t:,.1f} t CO2e "
            f"({result.actual_share:.0%} actual), free allocation adjustment "
            f"{result.free_allocation_t:,.1f} t, deduction {result.deduction_certificates:,.1f}; "
            f"{result.certificates} certificates due {result.due_date}; {cost}; "
            f"{result.projected_cost_eur:,.0f} EUR at {PROJECTED_PRICE_EUR:.0f} EUR",
            highlight=False,
        )
    reports = write_quarterly_reports(
        lines,
        found,
        Declarant(IMPORTER_EORI, IMPORTER_NAME, "DE", "Duisburg", "Hafenstrasse 1", "47119"),
        folder,
    )
    for path in reports:
        run.outputs[f"CBAM transitional report {path.stem[-6:]} (XML)"] = path
    run.console.print(
        f"importer pages: log in as {IMPORTER_USERS[0][0]} and open /cbam/importer",
        highlight=False,
    )


def set_importer_users(app: FastAPI, password: str) -> list[tuple[str, str]]:
    """(Re)create the demo importer's users with the demo password; return (email, role)."""
    accounts = app.state.ctx.accounts
    for email, role, display in IMPORTER_USERS:
        user_id = accounts.user_id_of(IMPORTER_ORG_ID, email)
        if user_id is not None:
            accounts.delete_user(user_id)
        accounts.create_user(
            IMPORTER_ORG_ID, email, password, role, display, "en", check_policy=False
        )
    return [(email, role) for email, role, _n in IMPORTER_USERS]
