"""`carbonlink report inventory|china|reconcile FILE`: reports built from an inventory file.

Before anything is computed the inputs are checked: the inventory is read in its own text
encoding (UTF-8, or GB18030/GBK as Chinese editors save it), the output path must name a file in
a folder that exists, and an inventory without facilities or sources is refused. An inventory
whose sources take their activity from meters is accounted against the workspace's stored
readings; that run, and the rendered report, are recorded in the workspace's ledger. Warnings
(factor vintages the period has outrun, facilities without sources, a zero inventory reported
on purpose) are printed and written into the report itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carbonlink.commands.console import console, err_console
from carbonlink.errors import IngestError, InputError

if TYPE_CHECKING:
    from carbonlink.domain.engine import Computation
    from carbonlink.domain.factors import FactorLibrary
    from carbonlink.domain.inventory import Inventory
    from carbonlink.settings import Settings


class Rulebook(StrEnum):
    """The rules a China report follows."""

    cn_steel_2025 = "cn-steel-2025"
    cn_steel_2013 = "cn-steel-2013"
    gbt32150_2015 = "gbt32150-2015"


class ReportFormat(StrEnum):
    """The formats a report is written in (those of `carbonlink.reports.render.ReportFormat`,
    repeated here so that the command's help does not load the renderers)."""

    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"
    json = "json"


FileArgument = Annotated[Path, typer.Argument(help="Inventory YAML file (UTF-8 or GB18030/GBK).")]
OutOption = Annotated[
    Path, typer.Option("--out", "-o", help="Output file, in a folder that exists.")
]
FormatOption = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="html, pdf, xlsx or json.")
]
StrictVintageOption = Annotated[
    bool,
    typer.Option(
        "--strict-vintage",
        help="Refuse, instead of warning, when the period lies beyond the vintages of a yearly "
        "factor series (e.g. a 2031 period on 2023 grid factors).",
    ),
]
AllowZeroOption = Annotated[
    bool,
    typer.Option(
        "--allow-zero",
        help="Write the report even when every emission is zero (a site idle all period), "
        "with a warning in it; without it such an inventory is refused.",
    ),
]
RecordOption = Annotated[
    bool,
    typer.Option(
        "--record",
        help="Record the calculation run and the report in the workspace's ledger (always "
        "done when a source's activity comes from a meter).",
    ),
]

# Paths and ids are printed as they are: no markup (a bracket in a path is text), no highlighting.
PLAIN: dict[str, Any] = {"markup": False, "highlight": False}


def read_text_input(path: Path, what: str) -> str:
    """A text input file decoded as the importers do: byte-order mark, UTF-8, else GB18030.

    GB18030 is a superset of GBK and GB2312, what Chinese editions of Excel and Notepad save.
    """
    from carbonlink.ingest.csv_file import detect_encoding

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", file=str(path)) from exc
    try:
        encoding = detect_encoding(data)
        return data.decode(encoding)
    except (IngestError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the {what}: its bytes are neither UTF-8 nor GB18030/GBK text",
            file=str(path),
            hint="save the file as UTF-8 (or GB18030/GBK) text and run again",
        ) from exc


def check_out_path(out: Path, option: str = "--out") -> None:
    """Refuse an output path that is a folder, or whose folder is missing or not writable."""
    if out.is_dir():
        raise InputError(
            f"{option} {out} is a folder, not a file",
            hint=f"give a file name inside it, e.g. {option} {out / 'report.html'}",
        )
    folder = out.parent
    if not folder.exists():
        raise InputError(
            f"{option} {out}: the folder {folder} does not exist",
            hint=f"create it first (mkdir -p {folder}) or write into a folder that exists",
        )
    if not folder.is_dir():
        raise InputError(
            f"{option} {out}: {folder} is not a folder",
            hint="give a path whose parent is a folder",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"{option} {out}: the folder {folder} is not writable",
            hint="write into a folder you may write to",
        )


def write_document(document: dict[str, Any], out: Path, output_format: ReportFormat | str) -> Path:
    """Write a report; an operating-system refusal becomes a clear error naming the path."""
    from carbonlink.reports.render import write_report

    try:
        return write_report(document, out, output_format)
    except OSError as exc:
        raise InputError(
            f"cannot write the report to {out}: {exc.strerror or exc}",
            hint="choose an output file in a folder you may write to",
        ) from exc


@dataclass
class _Accounted:
    """A computed inventory, the library it drew on, and the ledger entry of its run."""

    inventory: Inventory
    result: Computation
    library: FactorLibrary
    warnings: list[str]
    run_index: int | None = None


def _account(settings: Settings, file: Path, text: str, *, record: bool) -> _Accounted:
    """Account the inventory: in the workspace when it is metered (or ``record``), else alone."""
    from carbonlink.domain.engine import account
    from carbonlink.domain.factors import default_library
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.ingest.metered_activity import has_metered_activity
    from carbonlink.reports.checks import check_not_empty

    inventory = parse_inventory(text, file=str(file))
    warnings = check_not_empty(inventory, file=str(file))
    if not (record or has_metered_activity(inventory)):
        result = account(inventory, file=str(file))
        return _Accounted(inventory, result, default_library(), warnings)

    from carbonlink.ledger import Ledger
    from carbonlink.provenance import account_recorded
    from carbonlink.provenance.factors import ensure_factor_sets
    from carbonlink.store.workspace import open_store

    _require_workspace(settings, file)
    store = open_store(settings)
    try:
        ledger = Ledger(store.engine)
        run = account_recorded(ledger, store, settings.workspace, text, file_name=str(file))
        library, _ = ensure_factor_sets(ledger, store, settings.workspace)
    finally:
        store.engine.dispose()
    err_console.print(
        f"ledger entry {run.index}: calculation run {run.run_id}, inputs "
        f"{', '.join(map(str, run.inputs))}, results sha256 {run.results_sha256}",
        **PLAIN,
    )
    for use in run.uses:
        err_console.print(
            f"{use.facility}/{use.source}: {use.quantity:,.2f} {use.unit} from meter "
            f"{use.meter_id} over {use.days} days"
            + (f", {use.estimated_quantity:,.2f} estimated" if use.rules else ""),
            **PLAIN,
        )
    return _Accounted(inventory, run.computation, library, warnings, run.index)


def _require_workspace(settings: Settings, file: Path) -> None:
    """A metered inventory needs the workspace that stores its meters' readings."""
    if not settings.workspace.is_dir() and not settings.database_url:
        raise InputError(
            f"the workspace {settings.workspace} does not exist",
            file=str(file),
            hint="its sources read meters: set CARBONLINK_WORKSPACE to the workspace that "
            "stores the readings, or create one with `carbonlink init FOLDER` and import them",
        )


def _record_report(settings: Settings, kind: str, written: Path, run_index: int) -> None:
    """Append the rendered report to the ledger, citing its calculation run; receipt beside it."""
    from carbonlink.ledger import Ledger, load_ledger_signer
    from carbonlink.provenance import record_rendered_report
    from carbonlink.store.workspace import open_store

    signer = load_ledger_signer(settings.workspace)
    store = open_store(settings)
    try:
        index, receipt = record_rendered_report(
            store,
            Ledger(store.engine),
            signer,
            written.stem,
            report_kind=kind,
            paths=[written],
            inputs=[run_index],
        )
    finally:
        store.engine.dispose()
    err_console.print(f"ledger entry {index} (report {written.stem}): receipt {receipt}", **PLAIN)


def _write(
    ctx: typer.Context,
    kind: str,
    file: Path,
    out: Path,
    output_format: ReportFormat,
    *,
    strict_vintage: bool,
    allow_zero: bool,
    record: bool,
    **options: Any,
) -> None:
    from carbonlink.reports.checks import (
        attach_checks,
        check_not_zero,
        factor_vintages,
        refuse_stale,
        vintage_warnings,
    )
    from carbonlink.reports.china import build_china_report
    from carbonlink.reports.inventory import build_inventory_report
    from carbonlink.reports.reconcile import build_reconciliation

    check_out_path(out)
    text = read_text_input(file, "inventory")
    accounted = _account(ctx.obj, file, text, record=record)
    inventory, result = accounted.inventory, accounted.result
    warnings = accounted.warnings
    warnings += check_not_zero(result, file=str(file), allow_zero=allow_zero)
    vintages = factor_vintages(inventory, result, accounted.library)
    if strict_vintage:
        refuse_stale(vintages, file=str(file))
    spec_file = options.pop("uncertainty_file", None)
    if spec_file is not None:
        from carbonlink.reports.uncertainty import parse_uncertainty_spec, uncertainty_section

        spec = parse_uncertainty_spec(
            read_text_input(spec_file, "uncertainty file"), file=str(spec_file)
        )
        options["uncertainty"] = uncertainty_section(result, spec, assumptions=spec_file.name)
    if kind == "inventory":
        _statement_options(file, options)
    entities_file = options.pop("entities_file", None)
    lang = options.pop("report_lang", "en")
    reconcile_entities = options.pop("reconcile_entities_file", None)
    if reconcile_entities is not None:
        from carbonlink.reports.cets_entities import parse_entities

        options["entities"] = parse_entities(
            read_text_input(reconcile_entities, "entities file"), file=str(reconcile_entities)
        ).entities
    if lang not in ("en", "zh"):
        raise InputError(f"no report language {lang!r}", hint="use --lang en or --lang zh")
    if kind == "china" and options.get("rulebook") == Rulebook.cn_steel_2025:
        documents = _china_2025(inventory, result, file, entities_file)
        for document in documents:
            rows = document["tables"]["purchased_energy"]["rows"]
            used = {(row["facility"], row["ef_source"]) for row in rows}
            own = [v for v in vintages if (v.facility, v.factor.id) in used]
            attach_checks(document, list(warnings), own)
        targets = [out.with_name(f"{out.stem}-{d['entity_id']}{out.suffix}") for d in documents]
    else:
        builders: dict[str, Callable[..., dict[str, Any]]] = {
            "inventory": build_inventory_report,
            "china": build_china_report,
            "reconcile": build_reconciliation,
        }
        documents = [builders[kind](inventory, result, source_file=file.name, **options)]
        attach_checks(documents[0], warnings, vintages)
        if lang == "zh":
            from carbonlink.reports.iso_zh import bilingual

            documents = [bilingual(documents[0])]
        targets = [out]
    written = [write_document(d, t, output_format) for d, t in zip(documents, targets, strict=True)]
    for warning in [*warnings, *vintage_warnings(vintages)]:
        err_console.print(f"warning: {warning}", style="yellow", **PLAIN)
    for path in written:
        console.print(f"wrote {path}", **PLAIN)
        if accounted.run_index is not None:
            _record_report(ctx.obj, kind, path, accounted.run_index)


def _china_2025(
    inventory: Inventory, result: Computation, file: Path, entities_file: Path | None
) -> list[dict[str, Any]]:
    """One 2025-guideline report per legal entity of the entities file."""
    from carbonlink.reports.cets_entities import parse_entities
    from carbonlink.reports.china_2025 import build_china_2025_reports

    if entities_file is None:
        raise InputError(
            "the 2025 steel guideline reports per legal entity, and no entities file was given",
            file=str(file),
            hint="pass --entities FILE with each entity's basic information and processes "
            "(the demo's is src/carbonlink/data/demo/cets-entities.yaml; layout in "
            "docs/reports.md), or choose --rulebook cn-steel-2013 or gbt32150-2015",
        )
    entities = parse_entities(
        read_text_input(entities_file, "entities file"), file=str(entities_file)
    )
    try:
        return build_china_2025_reports(entities.entities, inventory, result, source_file=file.name)
    except InputError as exc:
        # The builder names the entity and field; the file is the entities file.
        exc.file = exc.file or str(entities_file)
        raise


def _statement_options(file: Path, options: dict[str, Any]) -> None:
    """Read the ISO statement file and the base-year inventory named by the options."""
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.iso_statement import base_year_inventory_path, parse_statement

    statement_file = options.pop("statement_file", None)
    base_file = options.pop("base_year_inventory", None)
    if statement_file is not None:
        statement = parse_statement(
            read_text_input(statement_file, "statement file"), file=str(statement_file)
        )
        options["statement"] = statement
        if base_file is None:
            base_file = base_year_inventory_path(statement, statement_file)
    if base_file is not None:
        if base_file.resolve() == file.resolve():
            return
        base_inventory = parse_inventory(
            read_text_input(base_file, "base-year inventory"), file=str(base_file)
        )
        options["base"] = (base_inventory, account(base_inventory, file=str(base_file)))


def inventory_report(
    ctx: typer.Context,
    file: FileArgument,
    out: OutOption,
    output_format: FormatOption = ReportFormat.html,
    base_year: Annotated[
        int | None,
        typer.Option(
            help="Base year (default: the statement's; a year after the period is refused)."
        ),
    ] = None,
    consolidation: Annotated[
        str, typer.Option(help="Consolidation approach of the organizational boundary.")
    ] = "operational control",
    uncertainty: Annotated[
        Path | None,
        typer.Option(
            help="YAML with activity_u95 and factor_u95 (relative 95 % half-widths): adds the "
            "95 % interval by error propagation and Monte Carlo."
        ),
    ] = None,
    statement: Annotated[
        Path | None,
        typer.Option(
            help="ISO 14064-1 statement YAML: responsible person, report date and version, "
            "significance criteria, exclusions, base year and recalculation policy, conformity, "
            "verification (see docs/reports.md). Items it lacks are printed as 'not provided'."
        ),
    ] = None,
    base_year_inventory: Annotated[
        Path | None,
        typer.Option(help="Inventory YAML of the base year (overrides the statement's)."),
    ] = None,
    lang: Annotated[
        str,
        typer.Option(
            help="en, or zh: every heading, label and fixed text in Chinese with the English "
            "alongside (what the statement file says is printed as written)."
        ),
    ] = "en",
    strict_vintage: StrictVintageOption = False,
    allow_zero: AllowZeroOption = False,
    record: RecordOption = False,
) -> None:
    """Corporate GHG inventory (ISO 14064-1 / GHG Protocol): scopes, gases, factors, quality.

    Sources whose activity names a meter are accounted against the workspace's readings
    (CARBONLINK_WORKSPACE); the run and the report are then recorded in its ledger.
    """
    _write(
        ctx,
        "inventory",
        file,
        out,
        output_format,
        strict_vintage=strict_vintage,
        allow_zero=allow_zero,
        record=record,
        base_year=base_year,
        consolidation=consolidation,
        uncertainty_file=uncertainty,
        statement_file=statement,
        base_year_inventory=base_year_inventory,
        report_lang=lang,
    )


def china_report(
    ctx: typer.Context,
    file: FileArgument,
    out: OutOption,
    output_format: FormatOption = ReportFormat.html,
    strict_vintage: StrictVintageOption = False,
    allow_zero: AllowZeroOption = False,
    record: RecordOption = False,
    rulebook: Annotated[
        Rulebook,
        typer.Option(
            help="cn-steel-2025: the MEE's 2025 steel guideline of the national ETS, one report "
            "per legal entity (needs --entities); cn-steel-2013: the NDRC 2013 trial guideline; "
            "gbt32150-2015: the general standard for industrial enterprises."
        ),
    ] = Rulebook.cn_steel_2025,
    entities: Annotated[
        Path | None,
        typer.Option(
            help="YAML of the legal entities (重点排放单位): basic information, facilities, "
            "processes and their sources (for cn-steel-2025). Each entity's report is written "
            "beside --out, named OUT-<entity id>.<format>."
        ),
    ] = None,
) -> None:
    """China enterprise GHG report in Chinese: by default the 2025 steel guideline of the
    national ETS (one report per legal entity), or the 2013 guideline or GB/T 32150-2015."""
    options: dict[str, Any] = {"rulebook": rulebook.value}
    if rulebook is Rulebook.cn_steel_2025:
        options["entities_file"] = entities
    _write(
        ctx,
        "china",
        file,
        out,
        output_format,
        strict_vintage=strict_vintage,
        allow_zero=allow_zero,
        record=record,
        **options,
    )


def reconcile_report(
    ctx: typer.Context,
    file: FileArgument,
    out: OutOption,
    output_format: FormatOption = ReportFormat.html,
    cbam: Annotated[
        list[Path] | None,
        typer.Option(
            help="The installation's CBAM input YAML, or its communication JSON (as written by "
            "`carbonlink report cbam`), to reconcile; repeat it for each installation."
        ),
    ] = None,
    cbam_facility: Annotated[
        str | None,
        typer.Option(help="Inventory facility that is the CBAM installation (default: by name)."),
    ] = None,
    entities: Annotated[
        Path | None,
        typer.Option(
            help="YAML of the national ETS's legal entities (as for `report china`): adds, per "
            "entity, the bridge from its inventory Scope 1 to its direct CO2 under the 2025 "
            "steel guideline."
        ),
    ] = None,
    strict_vintage: StrictVintageOption = False,
    allow_zero: AllowZeroOption = False,
    record: RecordOption = False,
) -> None:
    """Why the inventory, China guideline and CBAM totals differ, line by line."""
    check_out_path(out)
    communication = [_cbam_communication(path) for path in cbam] if cbam else None
    _write(
        ctx,
        "reconcile",
        file,
        out,
        output_format,
        strict_vintage=strict_vintage,
        allow_zero=allow_zero,
        record=record,
        cbam=communication,
        cbam_facility=cbam_facility,
        reconcile_entities_file=entities,
    )


def _cbam_communication(path: Path) -> dict[str, Any]:
    """A CBAM communication: computed from a CBAM input YAML, or read from its JSON."""
    if path.suffix.lower() in (".yaml", ".yml"):
        from carbonlink.domain.cbam import compute_see
        from carbonlink.reports.cbam import build_communication
        from carbonlink.reports.cbam_input import load_cbam_input

        data = load_cbam_input(path, text=read_text_input(path, "CBAM input"))
        return build_communication(data, compute_see(data))
    return _read_json(path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the CBAM communication: {exc}", file=str(path)) from exc
    if not isinstance(document, dict) or "processes" not in document:
        raise InputError(
            "not a CBAM communication document (no 'processes')",
            file=str(path),
            hint="write it with `carbonlink report cbam --format json`",
        )
    return document
