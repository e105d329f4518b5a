"""The demo's batches: heats, slabs and hot-rolled coils with identifiers and passports.

The Tangshan works' production records of two heats, three slabs and three coils are written
as a CSV file and imported like any production file; the heats are made with the coke and the
ferrochrome whose PACT footprints the supply-chain step received. Each coil gets a GS1 Digital
Link URI (GTIN 09520123456788: GS1 prefix 952 is reserved for demonstrations) and a Handle
under an example prefix, and a passport with the hot-rolled coil's footprint and the works'
CBAM SEE for hot-rolled coil, recorded in the ledger with its receipt. The passport files and
receipts are written to ``out/passports``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carbonlink.demo.run import DemoRun

DEMO_GTIN = "09520123456788"
DEMO_HANDLE_PREFIX = "88.123.4567"
"""An example prefix: a real one is assigned by the identifier node the enterprise joins."""
DEMO_RESOLVER = "https://127.0.0.1:8000"
"""Where ``carbonlink serve --demo --dev-tls`` answers, unless a public URL is configured."""
HEATS = {"heat-2025-0417": 180.0, "heat-2025-0418": 178.5}
SLABS = {
    "slab-2025-0417-1": ("heat-2025-0417", 90.0),
    "slab-2025-0417-2": ("heat-2025-0417", 89.5),
    "slab-2025-0418-1": ("heat-2025-0418", 88.0),
}
COILS = {
    "coil-2025-000123": ("slab-2025-0417-1", 22.5, "0001"),
    "coil-2025-000124": ("slab-2025-0417-2", 21.8, "0002"),
    "coil-2025-000125": ("slab-2025-0418-1", 23.1, "0003"),
}
HEADER = (
    "batch,stage,product,produced_on,quantity,unit,facility,made_from,"
    "supplier_footprints,gtin,serial"
)


def production_records(supplier_footprints: list[str]) -> str:
    """The CSV of the demo's heats, slabs and coils."""
    inputs = ";".join(supplier_footprints)
    lines = [HEADER]
    for heat, tonnes in HEATS.items():
        lines.append(f"{heat},heat,,2025-03-02,{tonnes},t,tangshan-works,,{inputs},,")
    for slab, (heat, tonnes) in SLABS.items():
        lines.append(f"{slab},slab,,2025-03-02,{tonnes},t,tangshan-works,{heat},,,")
    for coil, (slab, tonnes, serial) in COILS.items():
        lines.append(
            f"{coil},coil,hrc,2025-03-04,{tonnes},t,tangshan-works,{slab},,{DEMO_GTIN},{serial}"
        )
    return "\n".join(lines) + "\n"


def step_passports(run: DemoRun) -> None:
    """Import the production records; issue, write and check the coils' passports."""
    from carbonlink.batches.identifiers import parse_gs1_path
    from carbonlink.batches.passport import (
        PUBLIC_SUFFIX,
        RESTRICTED_SUFFIX,
        Producer,
        issue_passport,
        passport_document,
        prepare_passport,
        verify_passport,
    )
    from carbonlink.batches.records import import_production_records
    from carbonlink.batches.store import find_by_gs1, find_by_handle
    from carbonlink.demo.cbam import demo_cbam_input
    from carbonlink.demo.run import _demo_store, demo_settings
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.domain.cbam import compute_see
    from carbonlink.footprints.store import ProductStore
    from carbonlink.ledger import load_ledger_signer
    from carbonlink.ledger.keys import PUBLIC_KEY_FILE, key_folder
    from carbonlink.reports.cbam_input import load_cbam_input

    settings = demo_settings(run)
    resolver = (settings.public_url or DEMO_RESOLVER).rstrip("/")
    folder = run.out / "passports"
    folder.mkdir(parents=True, exist_ok=True)
    tangshan = load_cbam_input(demo_cbam_input("cbam-tangshan.yaml"))
    cbam = [(tangshan, compute_see(tangshan))]
    signer = load_ledger_signer(settings.workspace)
    with _demo_store(run) as store:
        engine = store.engine
        bought = [
            line.supplier_pf_id
            for line in ProductStore(engine, DEMO_ORG_ID).bom("hrc")
            if line.kind == "purchased" and line.supplier_pf_id
        ]
        records = folder / "production-2025-03.csv"
        records.write_text(production_records(bought), "utf-8")
        imported = import_production_records(
            engine, DEMO_ORG_ID, records, handle_prefix=DEMO_HANDLE_PREFIX
        )
        run.console.print(
            f"production records {records.name}: {imported.records} rows, "
            f"{len(imported.new)} new batches, {len(imported.unchanged)} unchanged, "
            f"{len(imported.rejected)} rejected",
            highlight=False,
        )
        producer = Producer(
            "Demo Steel Co., Ltd.", ("urn:pact:steel.example.cn:company-id:demo-steel",)
        )
        for coil in COILS:
            passport = prepare_passport(
                engine, DEMO_ORG_ID, coil, producer=producer, resolver=resolver, cbam=cbam
            )
            stored = issue_passport(engine, DEMO_ORG_ID, passport, signer=signer)
            document = passport_document(stored, restricted=True)
            verify_passport(document, signer.verifier())
            identifiers = document["identifiers"]
            # The identifiers resolve to this batch (the service's resolvers read the same).
            gs1 = parse_gs1_path(identifiers["gs1DigitalLink"].removeprefix(resolver))
            found = find_by_gs1(engine, gs1), find_by_handle(engine, identifiers["handle"])
            if not all(item is not None and item.batch_id == coil for item in found):
                raise LookupError(f"the identifiers of {coil} do not resolve to it")
            (folder / f"{coil}{PUBLIC_SUFFIX}").write_text(stored.public, "utf-8")
            (folder / f"{coil}{RESTRICTED_SUFFIX}").write_text(stored.restricted, "utf-8")
            receipt = folder / f"{coil}.tlog-proof"
            receipt.write_bytes(stored.receipt)
            (folder / f"{coil}.json").write_text(
                json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8"
            )
            footprint = document["footprint"]
            cbam_see = document["cbam"]
            run.console.print(
                f"{coil}: {identifiers['gs1DigitalLink']} · handle {identifiers['handle']} · "
                f"PCF {footprint['pcfExcludingBiogenicUptake']:.4f} kg CO2e/kg · CBAM SEE "
                f"{cbam_see['seeTotal']:.3f} t CO2e/t · ledger entry {stored.ledger_index}",
                highlight=False,
                soft_wrap=True,
            )
            run.outputs[f"passport receipt {coil}"] = receipt
    run.outputs["production records"] = records
    vkey = key_folder(settings.workspace) / PUBLIC_KEY_FILE
    run.console.print(
        f"check a passport offline: carbonlink verify {folder / next(iter(COILS))}.tlog-proof "
        f"--key {vkey}; served at {resolver}/passports/{DEMO_HANDLE_PREFIX}/<coil> and "
        f"{resolver}/api/handles/{DEMO_HANDLE_PREFIX}/<coil>",
        highlight=False,
        soft_wrap=True,
    )
