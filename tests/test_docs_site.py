"""The manual builds strictly, and its generated pages say what the code and the data say.

The site is built once (``mkdocs build --strict`` into a temporary folder, as ``make docs``
does); the checks then read the HTML. The receipt how-to's scripts are run on its example
receipt and on a receipt the ledger makes here, so the published format cannot drift either.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from carbonlink.cli import app as cli_app
from carbonlink.demo.service import DEMO_USERS
from carbonlink.ledger import Ledger, make_receipt, write_receipt
from carbonlink.ledger.entries import import_batch_entry, report_entry_for_files, sha256_bytes
from carbonlink.ledger.keys import read_vkey
from carbonlink.ledger.note import Signer
from carbonlink.ledger.receipt import Receipt, verify_receipt
from carbonlink.settings import Settings
from carbonlink.store import create_store_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "carbonlink" / "data"
HOWTO = ROOT / "docs" / "howto"
EXAMPLE = HOWTO / "receipt-example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def page_text(site: Path, page: str) -> str:
    """The visible text of a built page (tags dropped, entities decoded)."""
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def cli_commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str, parent: Any) -> None:
        ctx = command.context_class(command, info_name=path.rsplit(" ", 1)[-1], parent=parent)
        found.append((path, command))
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), f"{path} {name}", ctx)

    walk(typer.main.get_command(cli_app), "carbonlink", None)
    return found


def test_every_command_and_option_is_in_the_cli_reference(site: Path) -> None:
    text = page_text(site, "reference/cli")
    commands = cli_commands()
    assert len(commands) > 30
    for path, command in commands:
        assert f"{path} " in text, f"{path} missing from the CLI reference"
        if hasattr(command, "list_commands"):
            continue
        for param in command.params:
            for option in param.opts if param.param_type_name == "option" else ():
                assert option in text, f"{path} {option} missing from the CLI reference"
    assert "--dev-tls" in text and "Serve HTTPS with a self-signed certificate" in text


def test_every_setting_is_in_the_settings_reference(site: Path) -> None:
    text = page_text(site, "reference/settings")
    for name, field in Settings.model_fields.items():
        assert f"CARBONLINK_{name.upper()}" in text
        assert field.description is not None
        assert field.description.split("`")[0][:40] in text
    assert "dev-only-insecure-key" not in text
    # read by `serve --demo` itself, not a Settings field: listed with the line that reads it
    assert 'os.environ.get("CARBONLINK_DEMO_PASSWORD")' in text


def test_every_factor_row_is_in_the_factor_library(site: Path) -> None:
    text = page_text(site, "reference/factor-library")
    tables = sorted(DATA.rglob("*.csv"))
    assert len(tables) >= 10
    for table in tables:
        assert table.relative_to(DATA).as_posix() in text
    for table in sorted((DATA / "factors").glob("*.csv")):
        with table.open(encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        for row in rows:
            assert row["factor_id"] in text, f"{row['factor_id']} missing"
        assert rows[0]["licence"] in text
    raw = (site / "reference" / "factor-library" / "index.html").read_text(encoding="utf-8")
    with (DATA / "factors" / "cn_grid.csv").open(encoding="utf-8") as stream:
        grid = next(
            row
            for row in csv.DictReader(stream)
            if row["factor_id"] == "cn-mee-nbs/grid_average/CN/2023"
        )
    row_html = next(
        row for row in re.findall(r"<tr>.*?</tr>", raw, re.S) if grid["factor_id"] in row
    )
    cells = [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row_html, re.S)]
    assert cells == list(grid.values())


def test_rest_reference_lists_every_operation_of_the_openapi_document(site: Path) -> None:
    spec = json.loads((site / "reference" / "openapi.json").read_text(encoding="utf-8"))
    text = page_text(site, "reference/rest")
    assert "/api/v1/readings" in spec["paths"]
    operations = 0
    for path, methods in spec["paths"].items():
        for method in methods:
            if method in {"get", "post", "put", "patch", "delete"}:
                assert f"{method.upper()} {path}" in text
                operations += 1
    assert operations >= 40


def test_the_site_loads_nothing_from_other_hosts(site: Path) -> None:
    for page in site.rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", raw), page
        assert "fonts.googleapis" not in raw, page


def test_getting_started_names_the_demo_users_in_both_languages(site: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("getting-started", "zh/getting-started"):
        text = page_text(site, page)
        assert "CARBONLINK_DEMO_PASSWORD" in text
        for email, role, _name in DEMO_USERS:
            assert email in text and role in text
    for email, _role, _name in DEMO_USERS:
        assert email in readme


def test_chinese_pages_exist_for_getting_started_and_every_howto(site: Path) -> None:
    howtos = sorted(path.stem for path in HOWTO.glob("*.md") if "." not in path.stem)
    assert len(howtos) == 7
    for stem in howtos:
        assert (HOWTO / f"{stem}.zh.md").is_file(), stem
        assert 'lang="zh"' in (site / "zh" / "howto" / stem / "index.html").read_text()
    for page in ("cli", "settings", "rest", "factor-library"):
        assert (site / "zh" / "reference" / page / "index.html").is_file(), page
    text = page_text(site, "zh/getting-started")
    for term in ("排放因子", "活动数据", "低位发热量", "单位热值含碳量", "碳氧化率"):
        assert term in text


def _script(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HOWTO / "verify_receipt.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_example_receipt_verifies_with_carbonlink_and_without_it(tmp_path: Path) -> None:
    receipt = EXAMPLE / "inventory-2025.tlog-proof"
    vkey = EXAMPLE / "ledger.vkey"
    report = EXAMPLE / "inventory-2025.csv"
    verified = verify_receipt(
        Receipt.parse(receipt.read_bytes()), read_vkey(str(vkey)), files=[report]
    )
    assert verified.index == 5 and verified.checkpoint.size == 7
    assert _script(receipt, vkey, report).returncode == 0
    shutil.copytree(EXAMPLE, tmp_path / "example")
    shell = subprocess.run(
        ["sh", "check-with-openssl.sh"],
        cwd=tmp_path / "example",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "Signature Verified Successfully" in shell.stdout
    changed = tmp_path / "example" / "inventory-2025.csv"
    changed.write_text(changed.read_text().replace("1454833", "1454834"))
    assert _script(receipt, vkey, changed).returncode == 1
    again = subprocess.run(
        ["sh", "check-with-openssl.sh"], cwd=tmp_path / "example", capture_output=True, timeout=60
    )
    assert again.returncode != 0


@pytest.mark.parametrize("size", [1, 2, 7, 16, 33])
def test_the_standalone_verifier_accepts_ledger_receipts_and_refuses_altered_ones(
    tmp_path: Path, size: int
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    try:
        ledger = Ledger(engine)
        report = tmp_path / "report.csv"
        report.write_text("scope,t\n1,10\n")
        for i in range(size - 1):
            ledger.append(
                import_batch_entry(
                    f"b{i}", source="m.csv", raw_sha256=sha256_bytes(str(i).encode()), records=1
                )
            )
        index = ledger.append(
            report_entry_for_files("r", report_kind="ghg-inventory", paths=[report])
        )
        signer = Signer.generate("example.com/docs-test")
        receipt = make_receipt(ledger, index, signer)
    finally:
        engine.dispose()
    path = write_receipt(receipt, tmp_path / "r")
    vkey = tmp_path / "log.vkey"
    vkey.write_text(signer.verifier().vkey() + "\n")
    ok = _script(path, vkey, report)
    assert ok.returncode == 0, ok.stderr
    assert f"entry {index} (report" in ok.stdout
    other = tmp_path / "other.vkey"
    other.write_text(Signer.generate("example.com/docs-test").verifier().vkey() + "\n")
    assert _script(path, other).returncode == 1
    if receipt.proof:
        bad_proof = Receipt(
            receipt.entry,
            receipt.index,
            (bytes(32), *receipt.proof[1:]),
            receipt.checkpoint_note,
        )
        write_receipt(bad_proof, tmp_path / "bad")
        assert _script(tmp_path / "bad.tlog-proof", vkey).returncode == 1
    bad_entry = Receipt(
        receipt.entry.replace(b'"r"', b'"x"'), receipt.index, receipt.proof, receipt.checkpoint_note
    )
    write_receipt(bad_entry, tmp_path / "entry")
    refused = _script(tmp_path / "entry.tlog-proof", vkey)
    assert refused.returncode == 1 and "not included" in refused.stderr


METHODOLOGY_INVENTORY = """
organization: Worked examples
period: {start: 2025-01-01, end: 2025-12-31}
gwp: AR5
jurisdiction: INT
facilities:
  - id: site
    name: Site
    timezone: Europe/Berlin
    sources:
      - {id: gensets, method: combustion, fuel: diesel, activity: {quantity: 1000, unit: t}}
      - id: bof-shop
        method: mass_balance
        inputs:
          - {material: pig_iron, quantity: 1000, unit: t}
          - {material: scrap, quantity: 200, unit: t}
        outputs:
          - {material: crude_steel, quantity: 1100, unit: t}
"""


def test_the_methodology_worked_examples_are_what_the_engine_computes() -> None:
    from carbonlink.domain.cbam import compute_see
    from carbonlink.domain.engine import account
    from carbonlink.domain.footprint import (
        BillOfMaterials,
        DeclaredUnit,
        DirectEmissions,
        EmissionProfile,
        OwnInput,
        Product,
        ProductSystem,
    )
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.cbam import build_communication
    from carbonlink.reports.cbam_input import load_cbam_input

    page = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    cbam_howto = (HOWTO / "cbam-communication.md").read_text(encoding="utf-8")
    lines = account(parse_inventory(METHODOLOGY_INVENTORY)).lines()
    by_gas = {line["gas"]: line["tco2e"] for line in lines if line["source"] == "gensets"}
    assert f"{by_gas['CO2']:,.1f}".replace(",", " ") + " t CO2" in page  # 3 186.3
    assert f"= {by_gas['CH4']:.3f} t CO2e" in page
    assert f"= {by_gas['N2O']:.3f} t CO2e" in page
    balance = sum(line["tco2e"] for line in lines if line["source"] == "bof-shop")
    assert f"= {balance:.2f} t CO2" in page

    data = load_cbam_input(HOWTO / "cbam-example" / "cbam-example.yaml")
    good = build_communication(data, compute_see(data))["goods"][0]
    for text in (page, cbam_howto):
        assert f"{good['see_direct']:.4f}" in text
        assert f"{good['see_indirect']:.4f}" in text
        assert re.search(rf"{100 * good['default_share']:.1f} ?%", text)

    products = [
        Product("p", "P", DeclaredUnit.KILOGRAM, 1.0),
        Product("q", "Q", DeclaredUnit.KILOGRAM, 1.0),
    ]
    boms = [
        BillOfMaterials("p", (OwnInput("q", 0.2),)),
        BillOfMaterials("q", (OwnInput("p", 0.1),)),
    ]
    direct = {
        "p": DirectEmissions(EmissionProfile(fossil=1.0)),
        "q": DirectEmissions(EmissionProfile(fossil=0.5)),
    }
    solved = ProductSystem.build(products, boms, direct).solve()
    assert f"x_P = {solved.footprint('p').pcf_excluding_biogenic_uptake:.5f}" in page
    assert f"x_Q = {solved.footprint('q').pcf_excluding_biogenic_uptake:.5f}" in page
