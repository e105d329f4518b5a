"""`carbonlink report inventory|china|reconcile` and the demo's reports, via the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from openpyxl import load_workbook
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import InputError

PROJECT = Path(__file__).resolve().parents[1]

SMALL = {
    "organization": "Example Steel Co.",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "facilities": [
        {
            "id": "plant-1",
            "grid": "CN-East",
            "sources": [
                {"id": "flux", "method": "carbonate", "material": "limestone",
                 "activity": {"quantity": 5000, "unit": "t"}},
                {"id": "power", "method": "electricity",
                 "activity": {"quantity": 1000, "unit": "MWh"}},
            ],
        }
    ],
}  # fmt: skip


def carbonlink(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point; stderr with the console's line wrapping undone."""
    done = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": ""} | (env or {}),
    )
    done.stderr = " ".join(done.stderr.split())
    return done


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL), "utf-8")
    return path


def test_china_json_and_xlsx(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "china.json"
    done = carbonlink(
        "report",
        "china",
        "--rulebook",
        "cn-steel-2013",
        str(small_file),
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text("utf-8"))
    # 5 000 t × 0.440 t/t + 1 000 MWh × 0.5500 t/MWh (East China grid, 2023 data)
    assert document["totals"]["total"] == pytest.approx(2200 + 550)
    xlsx = tmp_path / "china.xlsx"
    done = carbonlink(
        "report",
        "china",
        "--rulebook",
        "cn-steel-2013",
        str(small_file),
        "-f",
        "xlsx",
        "-o",
        str(xlsx),
    )
    assert done.returncode == 0, done.stderr
    total = load_workbook(xlsx)["total"]
    assert total.cell(total.max_row, 2).value == pytest.approx(2750)  # item, t CO2


def test_inventory_html_with_base_year(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "inventory.html"
    done = carbonlink(
        "report", "inventory", str(small_file), "--base-year", "2019", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text("utf-8")
    assert "<td>Base year</td><td>2019</td>" in html
    assert "not provided: no inventory of 2019 was given" in html
    assert "2,750.000" in html  # Scope 1 + 2 location-based: 2 200 + 550


def test_bad_inventory_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("organization: X\n", "utf-8")
    done = carbonlink("report", "reconcile", str(bad), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert "missing field 'period'" in done.stderr


def test_demo_writes_all_reports(
    demo_command: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo_command
    assert done.returncode == 0, done.stderr
    folder = out / "reports"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        f"{kind}.{ext}"
        # the China national ETS report: one per legal entity of the group
        for kind in ("inventory", "china-tangshan", "china-jiangsu", "reconcile")
        for ext in ("html", "pdf", "xlsx", "json", "tlog-proof")  # each with its receipt
    )
    assert all((folder / n).read_bytes()[:4] == b"%PDF" for n in names if n.endswith(".pdf"))
    reconcile = json.loads((folder / "reconcile.json").read_text("utf-8"))
    assert reconcile["totals"]["unexplained"] == pytest.approx(0, abs=1e-6)
    assert reconcile["cbam"]["facility"] == "tangshan-works"
    # The demo reconciles both installations of the group, each by rule alone.
    sections = {s["facility"]: s["totals"] for s in reconcile["cbam"]["installations"]}
    assert set(sections) == {"tangshan-works", "jiangsu-coating"}
    for totals in sections.values():
        assert abs(totals["unexplained_direct"]) < 0.01
        assert abs(totals["unexplained_indirect"]) < 0.01
    report = json.loads((folder / "inventory.json").read_text("utf-8"))
    methods = [row["method"] for row in report["tables"]["uncertainty"]["rows"]]
    assert [m.split(" (")[0] for m in methods] == [
        "IPCC 2006 Vol. 1 Ch. 3 Approach 1",
        "IPCC 2006 Vol. 1 Ch. 3 Approach 2",
    ]
    inventory = json.loads((out / "inventory.json").read_text("utf-8"))
    assert reconcile["totals"]["inventory_scope1_2_location"] == pytest.approx(
        inventory["totals"]["scope1"] + inventory["totals"]["scope2_location"]
    )


def test_reconcile_refuses_a_file_that_is_no_cbam_communication(
    small_file: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"goods": []}', "utf-8")
    done = carbonlink(
        "report", "reconcile", str(small_file), "--cbam", str(wrong), "-o", str(tmp_path / "r.json")
    )
    assert done.returncode == 2
    assert "not a CBAM communication document" in done.stderr


def test_reconcile_with_a_cbam_input_and_uncertainty_options(tmp_path: Path) -> None:
    demo = PROJECT / "src" / "carbonlink" / "data" / "demo"
    out = tmp_path / "reconcile.json"
    done = carbonlink(
        "report", "reconcile", str(demo / "steel-enterprise.yaml"),
        "--cbam", str(demo / "cbam-tangshan.yaml"), "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cbam = json.loads(out.read_text("utf-8"))["cbam"]
    # The CBAM input reads the installation's direct emissions from the inventory: recomputed
    # here apart, from the engine's own lines, as the works' fossil Scope 1 CO2 without the
    # mobile machinery for transport (mobile-diesel).
    lines = account(parse_inventory((demo / "steel-enterprise.yaml").read_text("utf-8"))).lines()
    expected = sum(
        x["tco2e"]
        for x in lines
        if x["facility"] == "tangshan-works"
        and x["scope"] == "1"
        and x["gas"] == "CO2"
        and x["source"] != "mobile-diesel"
    )
    assert cbam["facility"] == "tangshan-works"
    assert cbam["totals"]["installation_direct"] == pytest.approx(expected, abs=1e-6)
    assert abs(cbam["totals"]["unexplained_direct"]) < 0.01
    assert abs(cbam["totals"]["unexplained_indirect"]) < 0.01
    report = tmp_path / "inventory.json"
    done = carbonlink(
        "report", "inventory", str(demo / "steel-enterprise.yaml"),
        "--uncertainty", str(demo / "uncertainty.yaml"), "-f", "json", "-o", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text("utf-8"))["uncertainty"]["computed"] is True


def test_reconcile_takes_one_cbam_input_per_installation(tmp_path: Path) -> None:
    demo = PROJECT / "src" / "carbonlink" / "data" / "demo"
    out = tmp_path / "reconcile.json"
    done = carbonlink(
        "report", "reconcile", str(demo / "steel-enterprise.yaml"),
        "--cbam", str(demo / "cbam-tangshan.yaml"), "--cbam", str(demo / "cbam-jiangsu.yaml"),
        "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text("utf-8"))
    sections = document["cbam"]["installations"]
    assert [s["facility"] for s in sections] == ["tangshan-works", "jiangsu-coating"]
    assert [s["tables"][0] for s in sections] == ["cbam", "cbam_jiangsu-coating"]
    # Jiangsu: 45 000 MWh × 0.55 t/MWh of grid electricity, the mill's whole indirect.
    assert sections[1]["totals"]["attributed_indirect"] == pytest.approx(45_000 * 0.55)
    assert abs(document["cbam"]["unexplained_direct"]) < 0.01
    assert abs(document["cbam"]["unexplained_indirect"]) < 0.01
    assert document["tables"]["cbam_precursors"]["rows"]
    assert document["ets"] == []  # no entities file: no ETS bridge


def test_reconcile_with_the_ets_entities(tmp_path: Path) -> None:
    demo = PROJECT / "src" / "carbonlink" / "data" / "demo"
    out = tmp_path / "reconcile.json"
    done = carbonlink(
        "report", "reconcile", str(demo / "steel-enterprise.yaml"),
        "--entities", str(demo / "cets-entities.yaml"), "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parts = {p["entity"]: p["totals"] for p in json.loads(out.read_text("utf-8"))["ets"]}
    assert set(parts) == {"tangshan", "jiangsu"}
    assert all(abs(t["unexplained"]) < 0.001 for t in parts.values())


# ---- metered inventories, and input that must give a clear error or a written warning ----

runner = CliRunner()

READINGS = """\
day_start,grid_kWh
2024-12-31 00:00,9999
2025-01-01 00:00,1000
2025-01-02 00:00,2000
2025-01-03 00:00,3000
"""
"""Three days inside 2025 (6 MWh) and one before it, which the period leaves out."""

MAPPING = {
    "encoding": "utf-8",
    "timestamp": {"column": "day_start", "format": "%Y-%m-%d %H:%M",
                  "time_zone": "Asia/Shanghai", "labelling": "start"},
    "values": [{"column": "grid_kWh", "meter": "m-grid", "unit": "kWh"}],
    "meters": [{"id": "m-grid", "kind": "interval", "unit": "kWh", "time_zone": "Asia/Shanghai",
                "labelling": "start", "interval_s": 86400}],
}  # fmt: skip

METERED = {
    "organization": "Example Steel Co.",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "facilities": [
        {
            "id": "plant-1",
            "grid": "CN-North",
            "timezone": "Asia/Shanghai",
            "sources": [
                {"id": "power", "method": "electricity",
                 "activity": {"meter": "m-grid", "unit": "MWh"}},
                {"id": "flux", "method": "carbonate", "material": "limestone",
                 "activity": {"quantity": 100, "unit": "t"}},
            ],
        }
    ],
}  # fmt: skip


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """The command in-process; carbonlink errors stay as ``result.exception``."""
    return runner.invoke(app, list(args), env=env or {})


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, str]:
    """A workspace holding three days of a grid meter's readings (6 MWh in 2025)."""
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}
    assert invoke("init", str(tmp_path / "ws"), env=env).exit_code == 0
    readings, mapping = tmp_path / "grid.csv", tmp_path / "grid.yaml"
    readings.write_text(READINGS, "utf-8")
    mapping.write_text(yaml.safe_dump(MAPPING), "utf-8")
    done = invoke("ingest", "csv", str(readings), "--mapping", str(mapping), env=env)
    assert done.exception is None, done.output
    return env


def test_metered_inventory_report_accounts_the_stored_readings(
    workspace: dict[str, str], tmp_path: Path
) -> None:
    inventory = tmp_path / "metered.yaml"
    inventory.write_text(yaml.safe_dump(METERED), "utf-8")
    out = tmp_path / "inventory.json"
    done = invoke(
        "report", "inventory", str(inventory), "-f", "json", "-o", str(out), env=workspace
    )
    assert done.exception is None, done.output
    document = json.loads(out.read_text("utf-8"))
    power = next(r for r in document["tables"]["by_source"]["rows"] if r["source"] == "power")
    # 6 MWh × 0.6361 t/MWh (North China grid, 2023 data)
    assert power["activity"] == pytest.approx(6.0)
    assert document["totals"]["scope2_location"] == pytest.approx(6 * 0.6361)
    assert "calculation run" in done.stderr and "(report inventory)" in done.stderr
    assert (tmp_path / "inventory.tlog-proof").is_file()
    china = tmp_path / "china.html"
    done = invoke(
        "report",
        "china",
        "--rulebook",
        "cn-steel-2013",
        str(inventory),
        "-o",
        str(china),
        env=workspace,
    )
    assert done.exception is None, done.output
    full = invoke("ledger", "verify", "--full", env=workspace)
    assert full.exception is None, full.output
    assert "recomputed 2 calculation-run entries" in full.output


def test_metered_report_through_the_console_script(
    workspace: dict[str, str], tmp_path: Path
) -> None:
    inventory = tmp_path / "metered.yaml"
    inventory.write_text(yaml.safe_dump(METERED), "utf-8")
    out = tmp_path / "reconcile.json"
    done = carbonlink(
        "report", "reconcile", str(inventory), "-f", "json", "-o", str(out), env=workspace
    )
    assert done.returncode == 0, done.stderr
    reconcile = json.loads(out.read_text("utf-8"))
    # 100 t × 0.440 t/t limestone + 6 MWh × 0.6361
    assert reconcile["totals"]["inventory_scope1_2_location"] == pytest.approx(44 + 6 * 0.6361)
    missing = carbonlink(
        "report", "inventory", str(inventory), "-o", str(tmp_path / "x.html"),
        env={"CARBONLINK_WORKSPACE": str(tmp_path / "nowhere")},
    )  # fmt: skip
    assert missing.returncode == 2
    assert "workspace" in missing.stderr and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


CHINESE = dict(SMALL, organization="唐山示范钢铁有限公司")


def test_gbk_inventory_is_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(yaml.safe_dump(CHINESE, allow_unicode=True).encode("gbk"))
    out = tmp_path / "china.json"
    done = invoke(
        "report", "china", "--rulebook", "cn-steel-2013", str(path), "-f", "json", "-o", str(out)
    )
    assert done.exception is None, done.output
    assert json.loads(out.read_text("utf-8"))["organization"] == "唐山示范钢铁有限公司"
    through_script = carbonlink("report", "inventory", str(path), "-o", str(tmp_path / "i.html"))
    assert through_script.returncode == 0, through_script.stderr
    assert "唐山示范钢铁有限公司" in (tmp_path / "i.html").read_text("utf-8")


def test_undecodable_inventory_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"organization: \x80\xff\x80\n")
    done = invoke("report", "inventory", str(path), "-o", str(tmp_path / "r.html"))
    assert isinstance(done.exception, InputError)
    assert "neither UTF-8 nor GB18030/GBK" in str(done.exception)
    script = carbonlink("report", "china", str(path), "-o", str(tmp_path / "r.html"))
    assert script.returncode == 2
    assert "binary.yaml" in script.stderr and "save the file as UTF-8" in script.stderr
    assert "Traceback" not in script.stderr


CBAM_INPUT = PROJECT / "src" / "carbonlink" / "data" / "demo" / "cbam-tangshan.yaml"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("template.csv", b"a,b\n1,2\n", "not an Excel workbook"),
        ("template.xlsx", b"this is a text file\n", "not an XLSX (ZIP) package"),
    ],
)
def test_template_that_is_no_workbook_is_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    template = tmp_path / name
    template.write_bytes(content)
    args = ("report", "cbam", "--input", str(CBAM_INPUT), "--format", "xlsx",
            "--template", str(template), "--out", str(tmp_path / "cbam.xlsx"))  # fmt: skip
    done = invoke(*args)
    assert isinstance(done.exception, InputError)
    assert message in str(done.exception)
    script = carbonlink(*args)
    assert script.returncode == 2 and message in script.stderr
    assert "Traceback" not in script.stderr
    assert not (tmp_path / "cbam.xlsx").exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "is a folder, not a file"),
        ("missing/sub/report.html", "does not exist"),
        ("small.yaml/report.html", "is not a folder"),
    ],
)
def test_bad_output_path_is_refused(
    small_file: Path, tmp_path: Path, out: str, message: str
) -> None:
    target = tmp_path / out
    for kind in ("inventory", "china", "reconcile"):
        done = invoke("report", kind, str(small_file), "-o", str(target))
        assert isinstance(done.exception, InputError), kind
        assert message in str(done.exception)
    cbam = invoke("report", "cbam", "--input", str(CBAM_INPUT), "--out", str(target))
    assert isinstance(cbam.exception, InputError) and message in str(cbam.exception)
    script = carbonlink("report", "inventory", str(small_file), "-o", str(target))
    assert script.returncode == 2 and message in script.stderr
    assert "Traceback" not in script.stderr
    assert not (tmp_path / "missing").exists()


def test_output_the_system_refuses_is_a_clear_error(small_file: Path) -> None:
    # /proc accepts no new files, even from root (tests run as root, where permissions do not)
    done = carbonlink("report", "inventory", str(small_file), "-o", "/proc/carbonlink.html")
    assert done.returncode == 2, done.stderr
    assert "/proc/carbonlink.html" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("facilities", "message"),
    [
        ([], "the inventory has no facilities"),
        ([{"id": "plant-1", "sources": []}], "no facility of the inventory has an emission source"),
    ],
)
def test_inventory_without_sources_is_refused(
    tmp_path: Path, facilities: list[dict[str, object]], message: str
) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(yaml.safe_dump(dict(SMALL, facilities=facilities)), "utf-8")
    out = tmp_path / "r.html"
    script = carbonlink("report", "china", str(path), "-o", str(out))
    assert script.returncode == 2 and message in script.stderr
    done = invoke("report", "inventory", str(path), "-o", str(out))
    assert isinstance(done.exception, InputError) and message in str(done.exception)
    # nothing to report is no zero to allow
    done = invoke("report", "inventory", str(path), "-o", str(out), "--allow-zero")
    assert isinstance(done.exception, InputError) and message in str(done.exception)
    assert not out.exists()


def _zero_inventory(tmp_path: Path) -> Path:
    zero = json.loads(json.dumps(SMALL))
    for source in zero["facilities"][0]["sources"]:
        source["activity"]["quantity"] = 0
    path = tmp_path / "zero.yaml"
    path.write_text(yaml.safe_dump(zero), "utf-8")
    return path


def test_all_zero_inventory_is_refused_unless_allowed(tmp_path: Path) -> None:
    path = _zero_inventory(tmp_path)
    out = tmp_path / "zero.json"
    script = carbonlink("report", "inventory", str(path), "-f", "json", "-o", str(out))
    assert script.returncode == 2
    assert "every emission of the inventory is zero" in script.stderr
    assert "--allow-zero" in script.stderr and not out.exists()
    done = invoke("report", "inventory", str(path), "-f", "json", "-o", str(out), "--allow-zero")
    assert done.exception is None, done.output
    assert "warning:" in done.stderr and "--allow-zero" in done.stderr
    warnings = json.loads(out.read_text("utf-8"))["warnings"]
    assert len(warnings) == 1 and "reported as zero on purpose" in warnings[0]


def test_a_facility_without_sources_is_warned_of(tmp_path: Path) -> None:
    inventory = dict(SMALL, facilities=[*SMALL["facilities"], {"id": "idle", "sources": []}])  # type: ignore[list-item]
    path = tmp_path / "idle.yaml"
    path.write_text(yaml.safe_dump(inventory), "utf-8")
    out = tmp_path / "r.json"
    done = invoke(
        "report", "china", "--rulebook", "cn-steel-2013", str(path), "-f", "json", "-o", str(out)
    )
    assert done.exception is None, done.output
    assert "facility idle lists no emission source" in done.stderr
    assert any("facility idle" in w for w in json.loads(out.read_text("utf-8"))["warnings"])


def _period(tmp_path: Path, year: int) -> Path:
    path = tmp_path / f"inventory-{year}.yaml"
    inventory = dict(SMALL, period={"start": f"{year}-01-01", "end": f"{year}-12-31"})
    path.write_text(yaml.safe_dump(inventory), "utf-8")
    return path


def test_period_beyond_the_factor_vintages_is_flagged(tmp_path: Path) -> None:
    path = _period(tmp_path, 2031)
    out = tmp_path / "inventory.json"
    done = invoke("report", "inventory", str(path), "-f", "json", "-o", str(out))
    assert done.exception is None, done.output
    assert "beyond the published vintages" in done.stderr
    assert "cn-mee-nbs/grid_average/CN-East/2023" in done.stderr
    document = json.loads(out.read_text("utf-8"))
    assert len(document["warnings"]) == 2  # the grid factor and the residual mix of the power
    rows = document["tables"]["factor_vintages"]["rows"]
    grid = next(r for r in rows if r["factor"].startswith("cn-mee-nbs/grid_average/CN-East"))
    assert (grid["vintage"], grid["period"], grid["behind"]) == (2023, "2031-01-01/2031-12-31", 8)
    assert grid["status"] == "beyond the published vintages"
    limestone = next(r for r in rows if r["source"] == "flux")
    assert limestone["status"] == "single edition"
    html = tmp_path / "china.html"
    assert (
        invoke(
            "report", "china", "--rulebook", "cn-steel-2013", str(path), "-o", str(html)
        ).exception
        is None
    )
    page = html.read_text("utf-8")
    assert "警告 Warnings" in page and "beyond the published vintages" in page
    assert "已超出该因子已发布的年份" in page and "报告期所用排放因子年份" in page
    strict = carbonlink("report", "inventory", str(path), "--strict-vintage", "-o", str(out))
    assert strict.returncode == 2
    assert "2031-01-01/2031-12-31 lies beyond the published vintages" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_a_current_period_has_no_vintage_warning(tmp_path: Path) -> None:
    out = tmp_path / "inventory.json"
    path = _period(tmp_path, 2025)  # 2023 grid factors: within the two-year publication lag
    done = invoke(
        "report", "inventory", str(path), "--strict-vintage", "-f", "json", "-o", str(out)
    )
    assert done.exception is None, done.output
    document = json.loads(out.read_text("utf-8"))
    assert document["warnings"] == []
    statuses = {r["status"] for r in document["tables"]["factor_vintages"]["rows"]}
    assert statuses == {"current", "single edition"}


def test_record_appends_a_typed_in_inventory_and_its_report(
    workspace: dict[str, str], small_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "china.json"
    done = invoke("report", "china", "--rulebook", "cn-steel-2013", str(small_file), "--record",
                  "-f", "json", "-o", str(out), env=workspace)  # fmt: skip
    assert done.exception is None, done.output
    assert "calculation run" in done.stderr and (tmp_path / "china.tlog-proof").is_file()
    full = invoke("ledger", "verify", "--full", env=workspace)
    assert "recomputed 1 calculation-run entries" in full.output
    assert "recomputed 1 report entries" in full.output


def test_gbk_cbam_input_is_read_as_gb18030(tmp_path: Path) -> None:
    text = CBAM_INPUT.read_text("utf-8").replace(
        "installation:", "# 唐山示范钢铁有限公司 (GBK)\ninstallation:", 1
    )
    gbk = tmp_path / "cbam-gbk.yaml"
    gbk.write_bytes(text.encode("gbk"))
    # The input reads its figures from the group's inventory, which lies beside it.
    (tmp_path / "steel-enterprise.yaml").write_text(
        (CBAM_INPUT.parent / "steel-enterprise.yaml").read_text("utf-8"), "utf-8"
    )
    out = tmp_path / "cbam.json"
    done = invoke("report", "cbam", "--input", str(gbk), "--out", str(out))
    assert done.exception is None, done.output
    reference = tmp_path / "reference.json"
    assert (
        invoke("report", "cbam", "--input", str(CBAM_INPUT), "--out", str(reference)).exit_code == 0
    )
    assert json.loads(out.read_text("utf-8")) == json.loads(reference.read_text("utf-8"))
