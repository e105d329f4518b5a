"""Importing production records: every row becomes a batch or a named rejection, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from openpyxl import Workbook
from passport_fixture import COILS, GTIN, HEAT, PREFIX, production_csv
from supply_fixture import seed_supply_chain

from carbonlink.batches.records import import_production_records
from carbonlink.batches.schema import batch_metadata
from carbonlink.batches.store import BatchStore
from carbonlink.errors import IngestError

ORG = "org-demo-steel"
HEADER = (
    "batch,stage,product,produced_on,quantity,unit,facility,made_from,"
    "supplier_footprints,gtin,serial\n"
)


def _import(engine: sa.Engine, path: Path, text: str, **options: Any) -> Any:
    path.write_text(text, "utf-8")
    return import_production_records(engine, ORG, path, handle_prefix=PREFIX, **options)


def test_a_lineage_file_imports_in_any_row_order_and_again_changes_nothing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    chain = seed_supply_chain(engine, ORG)
    path = tmp_path / "production.csv"
    first = _import(engine, path, production_csv(chain))
    # Coils come first in the file; they are read after the slabs they were rolled from.
    assert (first.records, len(first.new), first.rejected) == (5, 5, [])
    batches = BatchStore(engine, ORG)
    coil = batches.batch(COILS[0])
    assert coil is not None
    assert (coil.stage, coil.quantity, coil.unit, coil.line) == ("coil", 22.5, "t", 2)
    assert coil.made_from == ("slab-2025-0417-1",)
    assert coil.handle == f"{PREFIX}/{COILS[0]}"
    assert coil.gs1 is not None and coil.gs1.path == f"/01/{GTIN}/10/{COILS[0]}/21/0001"
    heat = batches.batch(HEAT)
    assert heat is not None
    assert set(heat.supplier_footprints) == {chain.coke_pf_id, chain.ferrochrome_pf_id}
    assert [b.batch_id for b in batches.lineage(COILS[0])] == ["slab-2025-0417-1", HEAT]
    again = _import(engine, path, production_csv(chain))
    assert (again.new, len(again.unchanged), again.rejected) == ([], 5, [])
    assert len(batches.batches()) == 5


def test_bad_rows_are_named_kept_and_never_dropped(engine: sa.Engine, tmp_path: Path) -> None:
    chain = seed_supply_chain(engine, ORG)
    good = production_csv(chain)
    _import(engine, tmp_path / "march.csv", good)
    rows = [
        f"heat-2025-0500,heat,,2025-04-01,175,t,tangshan-works,,{chain.coke_pf_id},,",  # 2 ok
        "heat-2025-0501,melt,,2025-04-01,175,t,,,,,",  # 3
        "heat-2025-0502,heat,,1 April,175,t,,,,,",  # 4
        "heat-2025-0503,heat,,2025-04-01,-5,t,,,,,",  # 5
        "heat-2025-0504,heat,,2025-04-01,175,MWh,,,,,",  # 6
        "heat-2025-0505,heat,,2025-04-01,175,t,,,00000000-0000-4000-8000-000000000000,,",  # 7
        f"coil-2025-000200,coil,hrc,2025-04-03,20,t,,slab-2025-0999-1,,{GTIN},0200",  # 8
        f"coil-2025-000201,coil,hrc,2025-04-03,20,t,,heat-2025-0500,,{GTIN},0201",  # 9
        f"coil-2025-000202,coil,hrc,2025-04-03,20,t,,,,{GTIN[:-1]}1,0202",  # 10
        "coil with spaces,coil,hrc,2025-04-03,20,t,,,,,",  # 11
        "coil-2025-000203,coil,steel,2025-04-03,20,t,,,,,",  # 12
        f"{COILS[0]},coil,hrc,2025-03-04,23.5,t,tangshan-works,slab-2025-0417-1,,{GTIN},0001",
        "slab-2025-0501-1,slab,,2025-04-02,90,t,,heat-2025-0501,,,",  # 14
        "heat-2025-0500,heat,,2025-04-01,175,t,,,,,",  # 15
        ",heat,,2025-04-01,1,t,,,,,",  # 16
    ]
    report = _import(engine, tmp_path / "april.csv", HEADER + "\n".join(rows) + "\n")
    assert report.records == len(rows)
    assert report.new == ["heat-2025-0500"]
    reasons = {item.line: item.reason for item in report.rejected}
    assert len(report.new) + len(report.unchanged) + len(report.rejected) == report.records
    assert sorted(reasons) == list(range(3, 17))
    assert "stage 'melt' is not one of heat, slab, coil" in reasons[3]
    assert "'1 April' is not a date" in reasons[4]
    assert "must be a positive number" in reasons[5]
    assert "MWh" in reasons[6]
    assert "has not been received" in reasons[7]
    assert "neither stored nor in this file" in reasons[8]
    assert "a coil cannot be made from heat heat-2025-0500" in reasons[9]
    assert "check digit" in reasons[10]
    assert "not valid GS1 syntax" in reasons[11]
    assert "product 'steel' is not stored" in reasons[12]
    assert "stored already with other values" in reasons[13] and "line 2" in reasons[13]
    assert "whose record on line 3 was rejected" in reasons[14]
    assert "given twice in the file (also on line 2)" in reasons[15]
    assert "the batch column is empty" in reasons[16]
    # The rejected rows are kept with their text; importing the file again keeps them once.
    batches = BatchStore(engine, ORG)
    kept = batches.rejects()
    assert [r.line for r in kept] == list(range(3, 17))
    assert kept[0].raw == rows[1]
    _import(engine, tmp_path / "april.csv", HEADER + "\n".join(rows) + "\n")
    assert len(batches.rejects()) == len(kept)
    stored = batches.batch(COILS[0])
    assert stored is not None and stored.quantity == 22.5  # not overwritten


def test_a_workbook_imports_like_the_csv_and_a_missing_column_is_named(
    engine: sa.Engine, tmp_path: Path
) -> None:
    chain = seed_supply_chain(engine, ORG)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in production_csv(chain).splitlines():
        sheet.append([cell or None for cell in line.split(",")])
    sheet["D2"].value = __import__("datetime").datetime(2025, 3, 4)  # a date cell, as Excel has
    path = tmp_path / "production.xlsx"
    book.save(path)
    report = import_production_records(engine, ORG, path, handle_prefix=PREFIX)
    assert (len(report.new), report.rejected) == (5, [])
    coil = BatchStore(engine, ORG).batch(COILS[0])
    assert coil is not None and coil.produced_on == "2025-03-04" and coil.line == 2
    with pytest.raises(IngestError, match="no column quantity"):
        _import(
            engine, tmp_path / "short.csv", "batch,stage,produced_on,unit\nh,heat,2025-01-01,t\n"
        )


def test_the_migration_creates_the_declared_tables(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, batch_metadata)
    ours = set(batch_metadata.tables)

    def concerns_us(difference: Any) -> bool:
        item = difference[0] if isinstance(difference, list) else difference
        return any(
            getattr(part, "name", None) in ours
            or (getattr(part, "table", None) is not None and part.table.name in ours)
            for part in item[1:]
        )

    assert [d for d in differences if concerns_us(d)] == []
    assert ours == {"production_batches", "batch_inputs", "batch_rejects", "batch_passports"}


def test_an_identifier_held_by_another_organization_is_refused(
    engine: sa.Engine, tmp_path: Path
) -> None:
    chain = seed_supply_chain(engine, ORG)
    _import(engine, tmp_path / "ours.csv", production_csv(chain))
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(
        HEADER
        + "heat-2025-0417,heat,,2025-03-02,10,t,,,,,\n"
        + f"coil-9,coil,,2025-03-02,10,t,,,,{GTIN},\n"
        + "heat-9,heat,,2025-03-02,10,t,,,,,\n",
        "utf-8",
    )
    report = import_production_records(engine, "org-other", theirs, handle_prefix=PREFIX)
    assert report.new == ["heat-9", "coil-9"]
    reasons = {item.line: item.reason for item in report.rejected}
    assert f"{PREFIX}/heat-2025-0417 already names a batch of another organization" in reasons[2]
    assert sorted(reasons) == [2]  # a GTIN alone is no claim; the same GTIN and batch would be
