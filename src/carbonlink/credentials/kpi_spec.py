"""A KPI pack from files: the loan's terms (YAML), the inventory, the ledgered report and its
receipt. Every figure is checked back to the signed log before the pack is issued.

The spec (paths relative to it)::

    loan: SLL-2026-001
    lender: Demo Green Bank           # who the pack is for
    product: hot-rolled-coil          # production line of the inventory: the intensity's t
    inventory: steel-enterprise.yaml  # production and purchased electricity
    report: inventory.json            # accounted totals (scope1, scope2_market) …
    receipt: inventory.tlog-proof     # … and the ledger receipt that names the report's SHA-256
    ledger_key: workspace/keys/ledger.vkey
    targets:
      - {kpi: ghgIntensity, at_most: 2.0}
      - {kpi: renewableElectricityShare, at_least: 8}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from carbonlink.credentials.errors import CredentialError
from carbonlink.credentials.kpi import Evidence, Target, inputs_from_inventory, kpi_pack_subject


def _path(base: Path, spec: dict[str, Any], name: str) -> Path:
    value = spec.get(name)
    if not isinstance(value, str) or not value:
        raise CredentialError(f"the KPI pack spec needs '{name}'", record=name)
    path = (base / value).resolve()
    if not path.is_file():
        raise CredentialError(f"{name} file not found", file=str(path), record=name)
    return path


def _targets(raw: Any) -> list[Target]:
    targets = []
    for item in raw or []:
        if not isinstance(item, dict) or "kpi" not in item:
            raise CredentialError(f"a target needs 'kpi' and a bound: {item!r}", record="targets")
        bounds = [b for b in ("at_most", "at_least") if b in item]
        if len(bounds) != 1:
            raise CredentialError(
                f"target {item['kpi']} needs exactly one of at_most, at_least", record="targets"
            )
        try:
            value = float(item[bounds[0]])
        except (TypeError, ValueError) as exc:
            raise CredentialError(
                f"target {item['kpi']}: {item[bounds[0]]!r} is not a number", record="targets"
            ) from exc
        targets.append(Target(str(item["kpi"]), bounds[0], value))  # type: ignore[arg-type]
    return targets


def kpi_pack_from_spec(spec_file: Path, *, borrower: str) -> tuple[dict[str, Any], str]:
    """The KPI pack subject built from a spec file, and a title for it.

    Refuses a report whose SHA-256 the receipt does not vouch for, or a receipt that is not in
    the log signed by the ledger key.
    """
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.ledger.keys import read_vkey
    from carbonlink.ledger.receipt import Receipt, verify_receipt

    try:
        spec = yaml.safe_load(spec_file.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CredentialError(f"cannot read the KPI pack spec: {exc}", file=str(spec_file)) from exc
    if not isinstance(spec, dict):
        raise CredentialError("the KPI pack spec is not a mapping", file=str(spec_file))
    base = spec_file.resolve().parent
    inventory_path = _path(base, spec, "inventory")
    report = _path(base, spec, "report")
    receipt_path = _path(base, spec, "receipt")
    key = read_vkey(str(_path(base, spec, "ledger_key")))
    receipt_bytes = receipt_path.read_bytes()
    verified = verify_receipt(Receipt.parse(receipt_bytes), key, files=[report])
    totals = json.loads(report.read_text("utf-8")).get("totals")
    if not isinstance(totals, dict) or not {"scope1", "scope2_market"} <= set(totals):
        raise CredentialError(
            "the report has no scope1 / scope2_market totals", file=str(report), record="report"
        )
    inventory = parse_inventory(inventory_path.read_text("utf-8"), file=str(inventory_path))
    inputs = inputs_from_inventory(inventory, totals, str(spec.get("product", "")))
    subject = kpi_pack_subject(
        inputs,
        _targets(spec.get("targets")),
        [Evidence(report.name, verified.index, receipt_bytes.decode("utf-8"))],
        borrower=borrower,
        lender=str(spec.get("lender", "")),
        loan=str(spec.get("loan", "")),
    )
    title = f"{spec.get('loan', 'KPI pack')} · {inputs.period_start} – {inputs.period_end}"
    return subject, title
