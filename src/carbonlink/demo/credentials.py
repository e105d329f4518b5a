"""The demo's verifiable credentials: a KPI pack for Demo Green Bank and the HRC footprint.

After the ledger step: the KPI pack of a sustainability-linked loan, computed from the 2025
inventory and resting on the ledger receipt of ``inventory.json``, is issued by the demo
enterprise under its did:web and shared with the demo lender's account; the hot-rolled coil's
PACT footprint is issued as a PCF credential. Both are written to ``credentials/`` with the
DID document and the status list, so that they can be checked offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carbonlink.demo.run import DemoRun

DEMO_LENDER = "lender@demo-bank.carbonlink.example"
DEMO_LOAN = "SLL-2026-001"

SPEC = """\
# A sustainability-linked loan of the demo enterprise with Demo Green Bank (illustrative terms).
loan: {loan}
lender: Demo Green Bank ({lender})
product: hot-rolled-coil
inventory: ../steel-enterprise.yaml
report: ../inventory.json
receipt: ../inventory.tlog-proof
ledger_key: ../workspace/keys/ledger.vkey
targets:
  - {{kpi: ghgIntensity, at_most: 1.9}}
  - {{kpi: renewableElectricityShare, at_least: 10}}
"""


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def step_credentials(run: DemoRun) -> None:
    """Issue the demo KPI pack (shared with the demo lender) and the HRC PCF credential."""
    from carbonlink.credentials.documents import pcf_subject
    from carbonlink.credentials.kpi_spec import kpi_pack_from_spec
    from carbonlink.credentials.registry import CredentialRegistry
    from carbonlink.demo.run import _demo_store, demo_settings
    from carbonlink.demo.service import DEMO_ORG_ID

    settings = demo_settings(run)
    folder = run.out / "credentials"
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "kpi-pack.yaml"
    spec.write_text(SPEC.format(loan=DEMO_LOAN, lender=DEMO_LENDER), "utf-8")
    with _demo_store(run) as store:
        registry = CredentialRegistry(store.engine, settings.workspace, settings.service_url)
        subject, title = kpi_pack_from_spec(spec, borrower=registry.did(DEMO_ORG_ID))
        pack = registry.issue(
            DEMO_ORG_ID, "kpi", subject, title=title, issued_by="demo", holder=DEMO_LENDER
        )
        run.outputs["KPI pack (credential)"] = _write(folder / "kpi-pack.json", pack)
        footprint = run.out / "pact" / "pcf-hrc.json"
        if footprint.is_file():
            document = json.loads(footprint.read_text("utf-8"))
            pcf = registry.issue(
                DEMO_ORG_ID,
                "pcf",
                pcf_subject(document),
                title=str(document.get("productNameCompany", "HRC")),
                issued_by="demo",
            )
            run.outputs["HRC footprint (credential)"] = _write(folder / "pcf-hrc.json", pcf)
        _write(folder / "did.json", registry.did_document(DEMO_ORG_ID))
        _write(folder / "status.json", registry.status_list(DEMO_ORG_ID))
    for kpi in subject["kpi"]:
        target = kpi.get("target")
        met = (
            ""
            if not target
            else f" (target {target['bound']} {target['value']}: "
            + ("met)" if target["met"] else "not met)")
        )
        run.console.print(f"KPI {kpi['name']} = {kpi['value']} {kpi['unit']}{met}", highlight=False)
    run.console.print(
        f"KPI pack for {DEMO_LENDER} → {folder / 'kpi-pack.json'}; check it offline with\n"
        f"  carbonlink vc verify {folder / 'kpi-pack.json'} --did {folder / 'did.json'} "
        f"--status {folder / 'status.json'}",
        highlight=False,
        soft_wrap=True,
    )
