"""Monthly deposit pack: built, receipted in the real ledger, and any later change detected."""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from carbonlink.cets.deposit import (
    DepositPack,
    DepositPackError,
    EvidenceFile,
    build_deposit_pack,
    record_deposit_pack,
    verify_deposit_pack,
    zip_deposit_pack,
)
from carbonlink.cets.plausibility import MonthTable, check_carbon_ncv, check_sample_in_month
from carbonlink.ledger import Ledger, ReceiptError
from carbonlink.ledger.note import Signer

ROWS: list[dict[str, object]] = [
    {
        "entity": "tangshan",
        "month": "2025-08",
        "source": "boiler_coal",
        "parameter": "consumption",
        "value": 9_000.0,
    },
    {
        "entity": "tangshan",
        "month": "2025-08",
        "source": "boiler_coal",
        "parameter": "ncv",
        "value": 20.0,
        "report_id": "LAB-2025-0815",
        "sample_date": "2025-09-02",
    },
    {
        "entity": "tangshan",
        "month": "2025-08",
        "source": "boiler_coal",
        "parameter": "carbon_content",
        "value": 60.0,
        "report_id": "LAB-2025-0815",
        "sample_date": "2025-09-02",
    },
]


def _pack(tmp_path: Path) -> DepositPack:
    evidence_dir = tmp_path / "in"
    evidence_dir.mkdir()
    report = evidence_dir / "LAB-2025-0815.pdf"
    report.write_bytes(b"%PDF-1.4\n% made-up laboratory report for tests, not a real one\n")
    scan = evidence_dir / "ledger-2025-08-coal.png"
    scan.write_bytes(b"\x89PNG made-up ledger scan")
    table = MonthTable.from_records(ROWS)
    findings = check_carbon_ncv(
        table.entity[1:2],
        table.month[1:2],
        table.source[1:2],
        np.array(["bituminous_coal"]),
        np.array([60.0]),
        np.array([20.0]),
    ) + check_sample_in_month(table)
    evidence = [
        EvidenceFile(
            report,
            "boiler_coal",
            "ncv",
            "lab_report",
            "LAB-2025-0815",
            "CMA 000000000000 (made up)",
            "S-0815",
            "2025-09-02",
            "GB/T 213",
        ),
        EvidenceFile(scan, "boiler_coal", "consumption", "ledger_scan"),
    ]
    return build_deposit_pack(
        tmp_path / "packs",
        entity="tangshan",
        month="2025-08",
        table=table,
        evidence=evidence,
        findings=findings,
    )


def test_pack_contents(tmp_path: Path) -> None:
    pack = _pack(tmp_path)
    names = sorted(p.name for p in pack.folder.iterdir())
    assert names == sorted(
        [
            "parameters.csv",
            "evidence.csv",
            "checks.csv",
            "manifest.json",
            "LAB-2025-0815.pdf",
            "ledger-2025-08-coal.png",
        ]
    )
    manifest = json.loads((pack.folder / "manifest.json").read_text("utf-8"))
    pdf = (pack.folder / "LAB-2025-0815.pdf").read_bytes()
    assert manifest["files"]["LAB-2025-0815.pdf"] == hashlib.sha256(pdf).hexdigest()
    assert manifest["records"] == 3 and manifest["findings"] == 3
    checks = list(csv.reader((pack.folder / "checks.csv").read_text("utf-8-sig").splitlines()))
    # P1: 0.60 / 20 × 1000 = 30.0 t C/TJ > 27.2; P4: two values sampled 2 Sep for August.
    assert sorted(row[0] for row in checks[1:]) == ["CETS-P1", "CETS-P4", "CETS-P4"]
    assert (pack.folder / "parameters.csv").read_bytes().startswith("\ufeff企业".encode())
    evidence = list(csv.reader((pack.folder / "evidence.csv").read_text("utf-8-sig").splitlines()))
    assert evidence[1][0] == "LAB-2025-0815.pdf" and evidence[1][10] == "GB/T 213"
    assert evidence[1][5] == "检测报告"


def test_changed_evidence_fails_verification(
    tmp_path: Path, ledger: Ledger, log_signer: Signer
) -> None:
    pack = _pack(tmp_path)
    index, receipt = record_deposit_pack(ledger, log_signer, pack)
    assert receipt.parent == pack.folder
    verified = verify_deposit_pack(pack.folder, log_signer.verifier())
    assert verified.index == index
    assert set(verified.files) == set(pack.files)

    archive = zip_deposit_pack(pack.folder)
    with zipfile.ZipFile(archive) as zipped:
        assert f"{pack.folder.name}/{receipt.name}" in zipped.namelist()

    report = pack.folder / "LAB-2025-0815.pdf"
    original = report.read_bytes()
    report.write_bytes(original.replace(b"made-up", b"made_up"))
    with pytest.raises(ReceiptError, match="SHA-256 mismatch"):
        verify_deposit_pack(pack.folder, log_signer.verifier())
    report.write_bytes(original)
    verify_deposit_pack(pack.folder, log_signer.verifier())

    (pack.folder / "extra.pdf").write_bytes(b"added later")
    with pytest.raises(ReceiptError, match="does not vouch"):
        verify_deposit_pack(pack.folder, log_signer.verifier())
    (pack.folder / "extra.pdf").unlink()

    (pack.folder / "checks.csv").unlink()
    with pytest.raises(ReceiptError, match=r"missing: checks\.csv"):
        verify_deposit_pack(pack.folder, log_signer.verifier())


def test_bad_input_is_refused(tmp_path: Path) -> None:
    table = MonthTable.from_records(ROWS)
    with pytest.raises(DepositPackError, match="record of tangshan 2025-08"):
        build_deposit_pack(
            tmp_path, entity="tangshan", month="2025-09", table=table, evidence=[], findings=[]
        )
    with pytest.raises(DepositPackError, match="cannot name a file"):
        build_deposit_pack(
            tmp_path, entity="唐山/1", month="2025-08", table=table, evidence=[], findings=[]
        )
    pack = _pack(tmp_path)
    with pytest.raises(DepositPackError, match="exists"):  # a receipted pack is never rewritten
        build_deposit_pack(
            pack.folder.parent,
            entity="tangshan",
            month="2025-08",
            table=table,
            evidence=[],
            findings=[],
        )
