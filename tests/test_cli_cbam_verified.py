"""`carbonlink report cbam-verified`: the definitive-period communication from an exporter pack."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.exchange import cbam
from carbonlink.settings import Settings
from carbonlink.store.workspace import open_store

runner = CliRunner()


def test_the_command_writes_the_files_and_publishes_for_partners(tmp_path: Path) -> None:
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}
    assert runner.invoke(app, ["init", str(tmp_path / "ws")], env=env).exit_code == 0
    pack = demo_cbam_input("cbam-tangshan-exporter.yaml")
    out = tmp_path / "out"
    done = runner.invoke(
        app,
        ["report", "cbam-verified", "--pack", str(pack), "--out", str(out), "--name",
         "tangshan-2025", "--publish", "org-demo-steel"],
        env=env,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "status: verified" in done.output
    assert "carbon price paid 72083900" in done.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "tangshan-2025.catenax-cbam.json",
        "tangshan-2025.json",
        "tangshan-2025.xlsx",
    ]
    written = json.loads((out / "tangshan-2025.catenax-cbam.json").read_text("utf-8"))
    store = open_store(Settings(workspace=tmp_path / "ws"))
    try:
        [row] = cbam.listed(store.engine, "org-demo-steel")
    finally:
        store.engine.dispose()
    assert row.id == "tangshan-2025" and json.loads(row.catenax) == written


def test_a_missing_pack_is_a_clear_error(tmp_path: Path) -> None:
    done = runner.invoke(
        app,
        ["report", "cbam-verified", "--pack", str(tmp_path / "none.yaml"), "--out", str(tmp_path)],
    )
    assert done.exit_code != 0
    assert "cannot read" in str(done.exception) or "cannot read" in done.output
