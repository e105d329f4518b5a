"""The demo's definitive-period CBAM step: the Tangshan works' verified communication.

The exporter pack adds a demo verifier (labelled as such everywhere) and the works' China ETS
position to the Tangshan CBAM input; the step writes the verified communication (JSON, XLSX and
the official template when given) and its Catena-X CBAM aspect into ``out/cbam``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.settings import Settings

DEMO_EXPORTER_PACK = "cbam-tangshan-exporter.yaml"
DEMO_COMMUNICATION_ID = "tangshan-2025"


def write_demo_cbam_exporter(
    out: Path, console: Console, settings: Settings, *, template: Path | None = None
) -> dict[str, Path]:
    """Write the Tangshan works' verified CBAM communication and its Catena-X JSON, and publish
    it for the demo organization's partners (PACT host, ``/pact/cbam/communications``)."""
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.exchange.cbam import publish
    from carbonlink.reports.cbam_exporter import (
        build_exporter_communication,
        load_exporter_pack,
        write_exporter_outputs,
    )

    pack = load_exporter_pack(demo_cbam_input(DEMO_EXPORTER_PACK))
    communication = build_exporter_communication(pack)
    written = write_exporter_outputs(
        pack, out / "cbam", "cbam-tangshan-verified", template=template, communication=communication
    )
    from carbonlink.store.workspace import open_store

    store = open_store(settings)
    try:
        publish(store.engine, DEMO_ORG_ID, DEMO_COMMUNICATION_ID, communication)
    finally:
        store.engine.dispose()
    price = communication["carbon_price_paid"]
    console.print(
        f"CBAM Tangshan (definitive period): {communication['status']} by a DEMO verifier; "
        f"carbon price paid {price['eur_per_t_co2e']:.4f} EUR/t CO2e "
        + ", ".join(f"{g['cn_code']} {g['eur_per_t_good']:.4f} EUR/t" for g in price["goods"]),
        highlight=False,
    )
    return {f"CBAM Tangshan verified {label}": path for label, path in written.items()}
