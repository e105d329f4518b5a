"""The importer's tables: revision 0022 matches them; imports are idempotent; nothing is lost."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from carbonlink.cbam_import.declaration import PriceEntry
from carbonlink.cbam_import.lines import COLUMNS, read_lines
from carbonlink.cbam_import.store import (
    cbam_import_metadata,
    communications,
    load_lines,
    prices,
    quarantined,
    save_communication,
    save_lines,
    save_price,
)
from schema_differences import schema_differences

ORG = "org-importer"


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    names = set(cbam_import_metadata.tables)
    concerning = schema_differences(engine, cbam_import_metadata)
    assert concerning == []
    assert names == {
        "cbam_import_lines",
        "cbam_import_quarantine",
        "cbam_import_communications",
        "cbam_import_prices",
    }


def _file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "customs-2026.csv"
    path.write_text("\n".join((",".join(COLUMNS), *rows)) + "\n", encoding="utf-8")
    return path


def test_reimport_is_idempotent_and_bad_rows_are_kept(engine: Engine, tmp_path: Path) -> None:
    first = _file(
        tmp_path,
        "D1,1,2026-01-10,72083900,100,IN,IN-MILL,Mill",
        "D1,2,2026-01-10,72083900,abc,IN,IN-MILL,Mill",
    )
    summary = save_lines(engine, ORG, read_lines(first))
    assert (summary.inserted, summary.unchanged, summary.quarantined) == (1, 0, 1)
    again = save_lines(engine, ORG, read_lines(first))
    assert (again.inserted, again.unchanged, again.changed, again.quarantined) == (0, 1, 0, 1)
    assert len(load_lines(engine, ORG)) == 1
    (bad,) = quarantined(engine, ORG)
    assert bad.key == "D1/2" and "not a number" in bad.reason and bad.raw["net_mass_t"] == "abc"
    # The corrected file: the row reads, leaves quarantine, the changed mass replaces the old.
    fixed = _file(
        tmp_path,
        "D1,1,2026-01-10,72083900,101,IN,IN-MILL,Mill",
        "D1,2,2026-01-10,72083900,5,IN,IN-MILL,Mill",
    )
    third = save_lines(engine, ORG, read_lines(fixed))
    assert (third.inserted, third.changed, third.quarantined) == (1, 1, 0)
    assert quarantined(engine, ORG) == []
    stored = {r.line.key: r.line.net_mass_t for r in load_lines(engine, ORG)}
    assert stored == {"D1/1": 101.0, "D1/2": 5.0}
    assert load_lines(engine, "someone-else") == []


def test_communications_and_prices_round_trip(engine: Engine) -> None:
    document = {
        "installation": {"name": "Tangshan works", "address": {"country": "CN"}},
        "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
        "goods": [{"cn_code": "72083900", "see_direct": 1.46, "see_indirect": 0.4}],
    }
    price_paid = [{"cn_code": "72083900", "amount_eur_per_t_co2e": 4.9, "evidence": "CEA"}]
    save_communication(engine, ORG, "CN-TANGSHAN", document, price_paid)
    save_communication(engine, ORG, "CN-TANGSHAN", document, price_paid)
    (good,) = communications(engine, ORG)["CN-TANGSHAN"].goods
    assert good.carbon_price_eur_per_t == 4.9 and good.carbon_price_evidence == "CEA"
    save_price(engine, ORG, PriceEntry(2026, 2, 70.0, date(2026, 7, 6), "entered"))
    save_price(engine, ORG, PriceEntry(2026, 2, 71.0, date(2026, 7, 6), "corrected"))
    assert [(p.quarter, p.price_eur) for p in prices(engine, ORG)] == [(2, 71.0)]
