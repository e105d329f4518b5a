"""China ETS operations against the real store and ledger: control plan versions, ledger import
with quarantine, receipted deposit packs (a changed evidence file fails), the calendar of what
is done, deadline reminders through a webhook channel, and the allocation from the records."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cets_fixture import ENTITY, month, small_plan
from openpyxl import load_workbook
from sqlalchemy import Engine

from carbonlink.cets import operations
from carbonlink.cets.calendar import ObligationKind, ObligationState
from carbonlink.cets.ledger_import import write_ledger
from carbonlink.ledger import ReceiptError
from carbonlink.ledger.note import Signer
from carbonlink.store import cets as store
from carbonlink.store import operations as alert_store

ORG = "org-cets-test"
SERVICE_KEY = b"a service key of the tests, 32 bytes or more long"


def _ledger(records: list, extra_rows: list[list[object]] = ()) -> bytes:  # type: ignore[assignment, type-arg]
    import io

    book = load_workbook(io.BytesIO(write_ledger(records)))
    for row in extra_rows:
        book.worksheets[0].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_control_plan_versions_round_trip(engine: Engine) -> None:
    plan = small_plan()
    first = store.save_control_plan(engine, ORG, plan, "tester")
    again = store.save_control_plan(engine, ORG, plan.model_copy(update={"version": 5}), "x")
    assert (first.version, again.version) == (1, 1)
    changed = store.save_control_plan(engine, ORG, plan.next_version(boundary="厂区"), "tester")
    assert (changed.version, changed.replaces) == (2, plan.content_hash)
    versions = store.control_plan_versions(engine, ORG, ENTITY)
    assert [v.plan.version for v in versions] == [2, 1]
    assert versions[1].plan == first
    assert store.entities(engine, ORG) == [(ENTITY, "唐山示范钢铁有限公司")]
    assert store.entities(engine, "org-other") == []


def test_ledger_import_stores_or_quarantines_each_row(engine: Engine) -> None:
    store.save_control_plan(engine, ORG, small_plan(), "tester")
    lab = b"%PDF-1.4\n% made-up laboratory report for tests, not a real one\n"
    records = month("2025-01", evidence="LAB-2025-01.pdf")
    body = _ledger(
        records,
        [
            [ENTITY, "2025-01", "bf-pci", "低位发热量", "n/a", "GJ/t"],  # row 6
            [ENTITY, "2025-13", "bf-pci", "consumption", 1, "t"],  # row 7
            [ENTITY, "2025-01", "ghost-kiln", "consumption", 1, "t"],  # row 8
            [ENTITY, "2025-01", "bf-pci", "ash", 1, "%"],  # row 9
            [ENTITY, "2025-02", "bf-pci", "consumption", 1, "t", "", "", "", "", "", "", "x.pdf"],
        ],
    )
    summary = operations.import_ledger(
        engine, ORG, body, "ledger-2025-01.xlsx", {"LAB-2025-01.pdf": lab}, "tester"
    )
    assert summary.stored == 4
    assert [(n, e) for n, _, _, e in summary.quarantined] == [
        (6, "value 'n/a' is not a number"),
        (7, "month '2025-13' is not YYYY-MM"),
        (8, "source 'ghost-kiln' is not in tangshan's control plan v1"),
        (9, f"unknown parameter 'ash'; use one of {', '.join(store.PARAMETERS)}"),
        (10, "evidence file 'x.pdf' was not handed in with the ledger"),
    ]
    stored = store.parameters_of(engine, ORG, ENTITY)
    assert {(r.source, r.parameter, r.value) for r in stored} == {
        ("bf-pci", "consumption", 10_000.0),
        ("bf-pci", "ncv", 25.0),
        ("bf-pci", "carbon_content", 64.5),
        ("ironmaking", "output", 80_000.0),
    }
    ncv = next(r for r in stored if r.parameter == "ncv")
    assert ncv.report_id == "LAB-2025-01" and ncv.accreditation == "CMA 000000000000"
    import hashlib

    assert ncv.evidence_sha256 == hashlib.sha256(lab).hexdigest()
    # the same ledger again: the same rows, the quarantine not doubled
    operations.import_ledger(
        engine, ORG, body, "ledger-2025-01.xlsx", {"LAB-2025-01.pdf": lab}, "tester"
    )
    assert store.parameters_of(engine, ORG, ENTITY) == stored
    assert len(store.quarantined(engine, ORG, ENTITY)) == 5
    assert store.quarantined(engine, "org-other") == []


def _year_of_records(engine: Engine) -> None:
    store.save_control_plan(engine, ORG, small_plan(), "tester")
    lab = b"%PDF-1.4\n% made-up laboratory report, not a real one\n"
    for m in range(1, 13):
        label = f"2025-{m:02d}"
        name = f"LAB-{label}.pdf"
        records = month(label, carbon=72.5 if m == 8 else 64.5, evidence=name)
        operations.import_ledger(
            engine,
            ORG,
            _ledger(records),
            f"ledger-{label}.xlsx",
            {name: lab + label.encode()},
            "tester",
        )


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate("example.com/carbonlink-cets-ops-test")


def test_deposit_pack_from_the_store_and_a_changed_file_fails(
    engine: Engine, tmp_path: Path, signer: Signer
) -> None:
    _year_of_records(engine)
    deposit = operations.deposit_month(
        engine,
        tmp_path,
        signer,
        ORG,
        ENTITY,
        "2025-08",
        deposited_on=date(2025, 9, 20),
        summary_pdf=False,
    )
    assert deposit.findings == 1  # August's dry-basis carbon (CETS-P1)
    folder = tmp_path / deposit.folder
    assert folder.name == "cets-deposit-tangshan-2025-08"
    assert sorted(p.name for p in folder.iterdir()) == [
        "LAB-2025-08.pdf",
        "cets-deposit-tangshan-2025-08.tlog-proof",
        "checks.csv",
        "evidence.csv",
        "manifest.json",
        "parameters.csv",
        "summary.html",
    ]
    assert folder.with_suffix(".zip").is_file()
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["findings"] == 1 and manifest["records"] == 4
    assert "CETS-P1" in (folder / "checks.csv").read_text("utf-8-sig")
    assert "月度信息化存证汇总" in (folder / "summary.html").read_text("utf-8")
    [stored] = store.deposits_of(engine, ORG, ENTITY)
    assert stored == deposit
    operations.verify_deposit(tmp_path, stored, signer.verifier())
    lab = folder / "LAB-2025-08.pdf"
    lab.write_bytes(lab.read_bytes().replace(b"72.5", b"64.5") + b" ")
    with pytest.raises(ReceiptError, match=r"LAB-2025-08\.pdf"):
        operations.verify_deposit(tmp_path, stored, signer.verifier())
    # a correction is a new pack in a new folder; the first stays as receipted
    again = operations.deposit_month(
        engine,
        tmp_path,
        signer,
        ORG,
        ENTITY,
        "2025-08",
        deposited_on=date(2025, 9, 25),
        summary_pdf=False,
    )
    assert again.folder != deposit.folder and again.ledger_index > deposit.ledger_index
    operations.verify_deposit(tmp_path, again, signer.verifier())


def test_calendar_knows_what_is_deposited_and_reminds_through_a_webhook(
    engine: Engine, tmp_path: Path, signer: Signer
) -> None:
    _year_of_records(engine)
    for m, on in ((1, date(2025, 10, 20)), (7, date(2025, 9, 9)), (8, date(2025, 10, 11))):
        operations.deposit_month(
            engine,
            tmp_path,
            signer,
            ORG,
            ENTITY,
            f"2025-{m:02d}",
            deposited_on=on,
            summary_pdf=False,
        )
    statuses = {
        (s.obligation.kind, s.obligation.period): s
        for s in operations.calendar_status(engine, ORG, ENTITY, 2025, date(2025, 10, 15))
    }
    assert statuses[(ObligationKind.BACKFILL_DEPOSIT, "2025-01")].state is ObligationState.DONE
    # July is due 31 Jul + 40 days = 9 September: deposited that day, on time
    assert statuses[(ObligationKind.MONTHLY_DEPOSIT, "2025-07")].state is ObligationState.DONE
    # August is due 31 Aug + 40 days = 10 October: deposited on the 11th, late
    august = statuses[(ObligationKind.MONTHLY_DEPOSIT, "2025-08")]
    assert (august.obligation.due, august.state) == (date(2025, 10, 10), ObligationState.DONE_LATE)
    assert statuses[(ObligationKind.BACKFILL_DEPOSIT, "2025-02")].state is ObligationState.OPEN

    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        alert_store.save_alert_channel(
            engine,
            ORG,
            None,
            name="ETS desk",
            kind="webhook",
            config={"url": f"http://127.0.0.1:{server.server_port}/hook"},
            secret="s3cret-for-tests",
            min_severity="warning",
            enabled=True,
            who="tester",
            key=SERVICE_KEY,
        )
        # On 25 October 2025 the back-fill of February–June is due on 31 October (6 days):
        # five reminders within 7 days; September (due 9 November) is 15 days away.
        on = date(2025, 10, 25)
        statuses_now = operations.calendar_status(engine, ORG, ENTITY, 2025, on)
        events = operations.deadline_events(ENTITY, statuses_now, 7, on)
        sent = operations.notify_deadlines(engine, ORG, events, key=SERVICE_KEY)
    finally:
        server.shutdown()
        server.server_close()
    assert [e for _, e, err in sent if not err] == [
        f"cets-backfill_deposit-2025-{m:02d}" for m in range(2, 7)
    ]
    assert len(received) == 5
    assert "due 2025-10-31 (6 days left)" in json.dumps(received[0], ensure_ascii=False)


def test_allocation_position_from_the_recorded_output(engine: Engine) -> None:
    """Hand-worked: twelve months of 10 000 t PCI coal, August at 72.5 % carbon, the rest 64.5 %:
    E = 10 000 × 0.93 × 44/12 × (11 × 0.645 + 0.725) = 34 100 × 7.82 = 266 662 t CO2.
    Output 12 × 80 000 = 960 000 t hot metal; at an (illustrative) 0.25 t CO2/t the allocation
    is 240 000 t: a shortfall of 26 662 t, 1 866 340 CNY at 70 CNY/t."""
    _year_of_records(engine)
    year = operations.entity_year(
        engine,
        ORG,
        ENTITY,
        2025,
        price=70.0,
        intensity={"ironmaking": 0.25},
        intensity_source="test value",
    )
    emissions = sum(m.tco2 for m in year.emissions)
    assert emissions == pytest.approx(10_000 * 0.93 * 44 / 12 * (11 * 0.645 + 0.725))
    assert emissions == pytest.approx(266_662, abs=1)
    assert year.output_t == {"ironmaking": 960_000.0}
    p = year.position
    assert p is not None
    assert p.allocation_t == pytest.approx(240_000.0)
    assert p.shortfall_cost == pytest.approx((emissions - 240_000.0) * 70.0)
    assert p.shortfall_cost == pytest.approx(1_866_340, abs=100)
    without = operations.entity_year(engine, ORG, ENTITY, 2025, price=70.0)
    assert without.position is None and "carbon intensity" in without.position_error
    verified = operations.entity_year(engine, ORG, ENTITY, 2024, price=70.0)
    assert verified.position is not None and verified.position.surplus_t == 0.0


def test_purchased_electricity_derived_from_the_incomer_meter(engine: Engine) -> None:
    """Hand-worked: 1 000 kWh each hour of January 2025 in Shanghai, end-labelled: the readings
    stamped 01:00 on 1 January … 00:00 on 1 February local are January's, 31 × 24 = 744 of
    them, 744 000 kWh = 744 MWh. The reading stamped 00:00 on 1 January (December's last hour)
    and the one at 01:00 on 1 February are left out."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from cets_fixture import small_plan as base

    from carbonlink.cets.control_plan import SourceInfo, draft_plan
    from carbonlink.domain.metering import Meter
    from carbonlink.errors import InputError
    from carbonlink.ingest.base import Reading
    from carbonlink.store.repository import Store

    plan = base()
    with_power = draft_plan(
        plan.entity_id,
        plan.entity_name,
        list(plan.processes),
        [*plan.sources, SourceInfo(id="grid-power", method="electricity")],
    )
    store.save_control_plan(engine, ORG, with_power, "tester")
    repository = Store(engine)
    repository.save_meter(
        Meter(id="ts-incomer", kind="interval", unit="kWh", time_zone="Asia/Shanghai")
    )
    local = ZoneInfo("Asia/Shanghai")
    first = datetime(2025, 1, 1, 0, tzinfo=local)
    readings = [
        Reading("ts-incomer", first + timedelta(hours=h), 1_000.0, "kWh") for h in range(746)
    ]
    repository.add_readings(readings)
    record = operations.derive_from_meter(
        engine, ORG, ENTITY, "grid-power", "purchased_electricity", "ts-incomer", "2025-01", "t"
    )
    assert (record.value, record.unit, record.origin) == (744.0, "MWh", "meter")
    assert "744 readings" in record.standard
    [stored] = store.parameters_of(engine, ORG, ENTITY, ["2025-01"])
    assert stored == record
    with pytest.raises(InputError, match="no readings in 2025-03"):
        operations.derive_from_meter(
            engine, ORG, ENTITY, "grid-power", "purchased_electricity", "ts-incomer", "2025-03", "t"
        )
    with pytest.raises(InputError, match="not in tangshan's control plan"):
        operations.derive_from_meter(
            engine, ORG, ENTITY, "grid-power", "exported_heat", "ts-incomer", "2025-01", "t"
        )
