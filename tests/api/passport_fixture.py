"""Test fixture of batch passports: the demo plant's heats, slabs and coils with passports.

On top of the supply chain of `supply_fixture` (coke and ferrochrome received, the hot-rolled
coil's footprint computed), a production file gives one heat made with both supplier
footprints, two slabs cast from it and two coils rolled from the slabs; both coils carry the
example GTIN 09520123456788 (GS1 prefix 952 is reserved for demonstrations) and a serial.
The coils' passports are issued with a ledger key of the test's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from supply_fixture import HRC, SeededChain, seed_supply_chain

from carbonlink.batches.passport import Producer, issue_passport, prepare_passport
from carbonlink.batches.records import BatchImport, import_production_records
from carbonlink.ledger.note import Signer, Verifier

GTIN = "09520123456788"
PREFIX = "88.123.4567"
RESOLVER = "http://testserver"
COILS = ("coil-2025-000123", "coil-2025-000124")
HEAT = "heat-2025-0417"
PRODUCER = Producer("Demo Steel Co., Ltd.", ("urn:pact:steel.example.cn:company-id:demo",))


def production_csv(chain: SeededChain) -> str:
    """The production records of one heat → two slabs → two coils (coils listed first)."""
    return (
        "batch,stage,product,produced_on,quantity,unit,facility,made_from,"
        "supplier_footprints,gtin,serial\n"
        f"{COILS[0]},coil,hrc,2025-03-04,22.5,t,tangshan-works,slab-2025-0417-1,,{GTIN},0001\n"
        f"{COILS[1]},coil,hrc,2025-03-04,21.8,t,tangshan-works,slab-2025-0417-2,,{GTIN},0002\n"
        f"{HEAT},heat,,2025-03-02,180,t,tangshan-works,,"
        f"{chain.coke_pf_id};{chain.ferrochrome_pf_id},,\n"
        f"slab-2025-0417-1,slab,,2025-03-02,90,t,tangshan-works,{HEAT},,,\n"
        f"slab-2025-0417-2,slab,,2025-03-02,89.5,t,tangshan-works,{HEAT},,,\n"
    )


@dataclass(frozen=True)
class SeededPassports:
    chain: SeededChain
    imported: BatchImport
    key: Verifier
    hrc_pcf: float = HRC


def seed_passports(
    engine: sa.Engine, organization_id: str, folder: Path, resolver: str = RESOLVER
) -> SeededPassports:
    """Store the chain, import the production file and issue the coils' passports."""
    chain = seed_supply_chain(engine, organization_id)
    return seed_coil_passports(engine, organization_id, chain, folder, resolver)


def seed_coil_passports(
    engine: sa.Engine,
    organization_id: str,
    chain: SeededChain,
    folder: Path,
    resolver: str = RESOLVER,
) -> SeededPassports:
    """Import the production file over a stored chain and issue the coils' passports."""
    path = folder / "production-2025-03.csv"
    path.write_text(production_csv(chain), "utf-8")
    imported = import_production_records(engine, organization_id, path, handle_prefix=PREFIX)
    signer = Signer.generate("carbonlink.test/passports")
    for coil in COILS:
        passport = prepare_passport(
            engine, organization_id, coil, producer=PRODUCER, resolver=resolver
        )
        issue_passport(engine, organization_id, passport, signer=signer)
    return SeededPassports(chain, imported, signer.verifier())


ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "frontend" / "node_modules"
CHECK = Path(__file__).with_name("node") / "digital_link_check.cjs"


def digital_link_js(payload: dict[str, Any]) -> dict[str, Any]:
    """Run digital-link.js on ``payload`` (see node/digital_link_check.cjs)."""
    node = shutil.which("node")
    assert node, "node is needed for the GS1 Digital Link check"
    assert (NODE_MODULES / "digital-link.js").is_dir(), "run `make` (npm ci in frontend/) first"
    done = subprocess.run(
        [node, str(CHECK)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result
