"""A China ETS entity with a control plan and three months of 2025 for the page tests."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook
from plant_fixture import DEMO_ORG_ID

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cets"))
from cets_fixture import ENTITY, month, small_plan

from carbonlink.cets import operations
from carbonlink.cets.ledger_import import write_ledger
from carbonlink.store import cets as store

LAB = b"%PDF-1.4\n% made-up laboratory report for tests, not a real one\n"


def ledger(records: list, extra: list[list[object]] = ()) -> bytes:  # type: ignore[assignment, type-arg]
    book = load_workbook(io.BytesIO(write_ledger(records)))
    for row in extra:
        book.worksheets[0].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def seed_cets(engine: sa.Engine) -> str:
    """Tangshan with July, August (dry-basis carbon: CETS-P1) and September 2025; one
    quarantined row. Returns the entity id."""
    store.save_control_plan(engine, DEMO_ORG_ID, small_plan(), "seed")
    for m in (7, 8, 9):
        label = f"2025-{m:02d}"
        name = f"LAB-{label}.pdf"
        records = month(label, carbon=72.5 if m == 8 else 64.5, evidence=name)
        extra = [[ENTITY, label, "bf-pci", "ncv", "—", "GJ/t"]] if m == 9 else []
        operations.import_ledger(
            engine,
            DEMO_ORG_ID,
            ledger(records, extra),
            f"ledger-{label}.xlsx",
            {name: LAB + label.encode()},
            "seed",
        )
    return ENTITY


__all__ = ["ENTITY", "LAB", "ledger", "month", "seed_cets"]
