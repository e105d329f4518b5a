"""The monthly deposit pack (月度信息化存证): a month's parameters, evidence and checks, receipted.

A pack is a folder (and a zip of it) holding, flat, so the ledger can vouch for each file name:

- ``parameters.csv``  every parameter record of the month (排放源, 参数, 数值, 报告编号, 采样日期);
- ``evidence.csv``    every evidence file with its SHA-256, what it backs, and for laboratory
                      reports the CMA/CNAS number, sample id, sampling date and test standard;
- the evidence files themselves (stamped ledger scans, laboratory report PDFs);
- ``checks.csv``      the plausibility findings for the month (rule, source, value, detail);
- ``manifest.json``   entity, month, and the SHA-256 of every file above;
- ``<pack id>.tlog-proof``  the ledger receipt for an entry naming every file and its SHA-256.

The national platform takes its monthly deposits through web forms and uploads, with no public
schema; the pack follows those forms' order: parameters, then the evidence behind each. The
receipt proves later that none of the files changed: `verify_deposit_pack` re-hashes every file
and fails on any changed, missing or extra one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from carbonlink.cets.plausibility import RULES, Finding, MonthTable
from carbonlink.errors import InputError
from carbonlink.ledger import Ledger, ReceiptError, sha256_file
from carbonlink.ledger.note import Signer, Verifier
from carbonlink.ledger.receipt import (
    RECEIPT_SUFFIX,
    Receipt,
    VerifiedReceipt,
    record_report,
    verify_receipt,
)

PACK_KIND = "cets_monthly_deposit"
PARAMETERS = "parameters.csv"
EVIDENCE = "evidence.csv"
CHECKS = "checks.csv"
MANIFEST = "manifest.json"
RESERVED = frozenset({PARAMETERS, EVIDENCE, CHECKS, MANIFEST})
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def terms_zh() -> dict[str, str]:
    """Chinese names of parameters and evidence kinds (``data/cets/terms_zh.csv``)."""
    text = resources.files("carbonlink.data").joinpath("cets/terms_zh.csv").read_text("utf-8")
    return {row["term"]: row["zh"] for row in csv.DictReader(text.splitlines())}


class DepositPackError(InputError):
    """A deposit pack cannot be built from what was given."""


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence file and what it backs; laboratory fields stay empty for ledger scans."""

    path: Path
    source: str
    parameter: str
    kind: str  # "ledger_scan" (台账扫描件) or "lab_report" (检测报告)
    report_id: str = ""
    accreditation: str = ""  # CMA or CNAS number of the laboratory
    sample_id: str = ""
    sample_date: str = ""
    standard: str = ""  # e.g. GB/T 213 for calorific value


@dataclass(frozen=True)
class DepositPack:
    pack_id: str
    folder: Path
    files: dict[str, str]  # file name → SHA-256, manifest included

    @property
    def paths(self) -> list[Path]:
        return [self.folder / name for name in sorted(self.files)]


def pack_id(entity: str, month: str) -> str:
    """``cets-deposit-<entity>-<YYYY-MM>``; the entity id must be file-name safe."""
    if not _SAFE.match(entity):
        raise DepositPackError(
            f"entity id {entity!r} cannot name a file",
            record=entity,
            hint="use letters, digits, '_', '.' and '-' only",
        )
    if not _MONTH.match(month):
        raise DepositPackError(f"month {month!r} is not YYYY-MM", record=entity)
    return f"cets-deposit-{entity}-{month}"


def _csv(rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows read the headers."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def build_deposit_pack(
    folder: Path,
    *,
    entity: str,
    month: str,
    table: MonthTable,
    evidence: Sequence[EvidenceFile],
    findings: Sequence[Finding],
    documents: Sequence[Path] = (),
) -> DepositPack:
    """Write the pack for ``entity`` and ``month`` into ``folder/<pack id>/`` (must not exist).

    Only the table's records and the findings of that entity and month go in; a record of
    another entity or month is an error rather than silently left out. ``documents`` are files
    written for the pack itself (a summary PDF), copied in and vouched for like the rest.
    """
    identifier = pack_id(entity, month)
    outside = [
        i
        for i in range(len(table))
        if str(table.entity[i]) != entity or str(table.month[i]) != month
    ]
    if outside:
        i = outside[0]
        raise DepositPackError(
            f"record of {table.entity[i]} {table.month[i]} in the table for {entity} {month}",
            record=f"{table.source[i]}/{table.parameter[i]}",
            hint="pass only the month's records of this entity",
        )
    stray = [f for f in findings if f.entity != entity or f.month != month]
    if stray:
        raise DepositPackError(
            f"finding for {stray[0].entity} {stray[0].month} given for {entity} {month}",
            record=stray[0].rule,
        )
    names = [item.path.name for item in evidence] + [path.name for path in documents]
    clash = sorted({n for n in names if n in RESERVED or names.count(n) > 1})
    if clash:
        raise DepositPackError(
            f"evidence file names clash: {', '.join(clash)}",
            hint="rename the evidence files so each name is unique and not a pack file name",
        )
    target = folder / identifier
    if target.exists():
        raise DepositPackError(
            f"pack folder {target} exists",
            hint="a receipted pack is never rewritten; deposit a correction as a new pack",
        )
    target.mkdir(parents=True)

    zh = terms_zh()
    parameter_rows: list[list[object]] = [
        [
            "企业 entity",
            "月份 month",
            "排放源 source",
            "参数 parameter",
            "参数名称 name",
            "数值 value",
            "报告编号 report_id",
            "采样日期 sample_date",
        ]
    ]
    for i in range(len(table)):
        sample = "" if str(table.sample_date[i]) == "NaT" else str(table.sample_date[i])
        parameter_rows.append(
            [
                entity,
                month,
                str(table.source[i]),
                str(table.parameter[i]),
                zh.get(str(table.parameter[i]), ""),
                repr(float(table.value[i])),
                str(table.report_id[i]),
                sample,
            ]
        )
    (target / PARAMETERS).write_bytes(_csv(parameter_rows))

    evidence_rows: list[list[object]] = [
        [
            "文件 file",
            "SHA-256",
            "排放源 source",
            "参数 parameter",
            "类型 kind",
            "类型名称 kind name",
            "报告编号 report_id",
            "CMA/CNAS",
            "样品编号 sample_id",
            "采样日期 sample_date",
            "检测标准 standard",
        ]
    ]
    for item in evidence:
        if not item.path.is_file():
            raise DepositPackError("evidence file not found", file=str(item.path))
        shutil.copyfile(item.path, target / item.path.name)
        evidence_rows.append(
            [
                item.path.name,
                sha256_file(target / item.path.name),
                item.source,
                item.parameter,
                item.kind,
                zh.get(item.kind, ""),
                item.report_id,
                item.accreditation,
                item.sample_id,
                item.sample_date,
                item.standard,
            ]
        )
    (target / EVIDENCE).write_bytes(_csv(evidence_rows))

    check_rows: list[list[object]] = [
        [
            "规则 rule",
            "规则说明 title",
            "title",
            "依据 source",
            "排放源 stream",
            "参数 parameter",
            "数值 value",
            "说明 detail",
        ]
    ]
    for f in findings:
        rule = RULES[f.rule]
        check_rows.append(
            [
                f.rule,
                rule.title_zh,
                rule.title,
                rule.source,
                f.source,
                f.parameter,
                repr(f.value),
                f.detail,
            ]
        )
    (target / CHECKS).write_bytes(_csv(check_rows))
    for path in documents:
        shutil.copyfile(path, target / path.name)

    files = {p.name: sha256_file(p) for p in sorted(target.iterdir())}
    manifest = {
        "pack_id": identifier,
        "kind": PACK_KIND,
        "entity": entity,
        "month": month,
        "records": len(table),
        "evidence_files": len(evidence),
        "findings": len(findings),
        "files": files,
    }
    (target / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
    )
    files[MANIFEST] = sha256_file(target / MANIFEST)
    return DepositPack(identifier, target, files)


def record_deposit_pack(ledger: Ledger, signer: Signer, pack: DepositPack) -> tuple[int, Path]:
    """Append the pack's ledger entry, sign a checkpoint and write the receipt into the pack."""
    return record_report(
        ledger,
        signer,
        pack.pack_id,
        report_kind=PACK_KIND,
        paths=pack.paths,
        receipt_dir=pack.folder,
    )


def zip_deposit_pack(folder: Path) -> Path:
    """Zip a receipted pack folder to ``<folder>.zip`` (fixed timestamps: same files, same zip)."""
    receipts = list(folder.glob(f"*{RECEIPT_SUFFIX}"))
    if not receipts:
        raise DepositPackError(
            "pack has no receipt yet", file=str(folder), hint="record the pack in the ledger first"
        )
    target = folder.with_name(folder.name + ".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target


def verify_deposit_pack(folder: Path, log_key: Verifier) -> VerifiedReceipt:
    """Check a pack folder against its receipt: every file unchanged, none missing, none added.

    Raises `ReceiptError` (from the ledger) naming the file that fails.
    """
    receipts = sorted(folder.glob(f"*{RECEIPT_SUFFIX}"))
    if len(receipts) != 1:
        raise ReceiptError(
            f"a deposit pack holds exactly one receipt, found {len(receipts)}", file=str(folder)
        )
    receipt = Receipt.parse(receipts[0].read_bytes())
    present = sorted(p for p in folder.iterdir() if p != receipts[0])
    verified = verify_receipt(receipt, log_key, files=present)
    vouched = set(verified.content.get("files", {}))
    missing = sorted(vouched - {p.name for p in present})
    if missing:
        raise ReceiptError(
            f"files recorded in the ledger are missing: {', '.join(missing)}", file=str(folder)
        )
    return verified
