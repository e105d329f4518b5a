"""`carbonlink backup` / `carbonlink restore`: a workspace round-trips, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from carbonlink.api import results
from carbonlink.cli import app
from carbonlink.errors import CarbonlinkError
from carbonlink.store import Store, create_store_engine
from carbonlink.store.schema import documents
from carbonlink.store.workspace import (
    load_workspace_config,
    resolve_workspace_path,
    workspace_path,
)

runner = CliRunner()


def _url_in_schema(engine: Engine, schema: str) -> str:
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def plant(engine: Engine, tmp_path: Path) -> dict[str, str]:
    """Environment of a workspace: its own SQLite file, or the session's PostgreSQL schema."""
    if engine.dialect.name == "sqlite":
        database = ""
    else:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        database = _url_in_schema(engine, schema)
    return {
        "CARBONLINK_WORKSPACE": str(tmp_path / "plant" / "ws"),
        "CARBONLINK_DATABASE_URL": database,
    }


@pytest.fixture
def target(engine: Engine, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Where to restore: a new folder and, on PostgreSQL, an empty schema of its own."""
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "restored" / "ws"), "CARBONLINK_DATABASE_URL": ""}
    if engine.dialect.name == "sqlite":
        yield env
        return
    schema = f"carbonlink_restore_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield env | {"CARBONLINK_DATABASE_URL": _url_in_schema(engine, schema)}
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _run(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    if result.exception is not None:
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def _refused(env: dict[str, str], *args: str) -> str:
    """The message of the carbonlink error the command stops with (exit status 2 in a shell)."""
    result = runner.invoke(app, list(args), env=env)
    assert isinstance(result.exception, CarbonlinkError), result.output
    return str(result.exception)


def _make_plant(env: dict[str, str]) -> dict[str, object]:
    """A workspace with a ledger, a stored document, a report beside it and its receipt."""
    workspace = Path(env["CARBONLINK_WORKSPACE"])
    _run(env, "init", str(workspace))
    report = workspace.parent / "q1-inventory.pdf"
    report.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n")
    _run(env, "ledger", "append-report", "q1-inventory", str(report))
    inside = workspace / "reports" / "q2.html"
    inside.parent.mkdir()
    inside.write_text("<html><body>Q2</body></html>", "utf-8")
    _run(env, "ledger", "append-report", "q2", str(inside))
    _run(env, "ledger", "checkpoint")
    engine = create_store_engine(
        env["CARBONLINK_DATABASE_URL"] or f"sqlite:///{workspace}/carbonlink.db"
    )
    try:
        sha = Store(engine).save_document("inventory.yaml", "organization: 示范钢铁\n".encode())
        results.save_monitoring(
            engine, "plant", {"note": "q1"}, {"inventory (PDF)": workspace_path(report, workspace)}
        )
    finally:
        engine.dispose()
    return {"document": sha, "report": report.read_bytes()}


def test_a_workspace_round_trips_and_its_ledger_verifies(
    plant: dict[str, str], target: dict[str, str], tmp_path: Path
) -> None:
    made = _make_plant(plant)
    archive = tmp_path / "backup" / "plant.tar.gz"
    out = _run(plant, "backup", "--out", str(archive))
    assert "archive" in out and archive.is_file()

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert {
        "workspace/carbonlink.yaml",
        "workspace/keys/ledger.key",
        "workspace/keys/ledger.vkey",
        "beside/q1-inventory.pdf",
        "beside/q1-inventory.tlog-proof",
        "workspace/reports/q2.html",
        "workspace/reports/q2.tlog-proof",
    } <= set(manifest["files"])
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert manifest["database"]["tables"]["ledger_entry"] == 2
    assert manifest["database"]["tables"]["documents"] == 1

    restored_ws = Path(target["CARBONLINK_WORKSPACE"])
    _run(target, "restore", str(archive), "--workspace", str(restored_ws))
    verified = _run(target, "ledger", "verify", "--full")
    assert "ledger OK: 2 entries, 2 checkpoints consistent" in verified
    assert "every stored hash matches" in verified
    assert verified == _run(plant, "ledger", "verify", "--full")

    original_ws = Path(plant["CARBONLINK_WORKSPACE"])
    for name in ("keys/ledger.key", "keys/ledger.vkey"):
        assert (restored_ws / name).read_bytes() == (original_ws / name).read_bytes()
    # The restored workspace file names the database restored into (none: its own SQLite).
    config = load_workspace_config(restored_ws)
    assert config.database_url == (target["CARBONLINK_DATABASE_URL"] or None)
    assert (restored_ws / "keys" / "ledger.key").stat().st_mode & 0o777 == 0o600
    assert (restored_ws.parent / "q1-inventory.pdf").read_bytes() == made["report"]
    assert (restored_ws.parent / "q1-inventory.tlog-proof").is_file()

    engine = create_store_engine(
        target["CARBONLINK_DATABASE_URL"] or f"sqlite:///{restored_ws}/carbonlink.db"
    )
    try:
        with engine.connect() as conn:
            body = conn.execute(
                select(documents.c.body).where(documents.c.sha256 == made["document"])
            ).scalar_one()
        assert body.decode() == "organization: 示范钢铁\n"
        monitoring = results.latest_monitoring(engine, "plant")
        assert monitoring is not None
        stored = monitoring[1]["inventory (PDF)"]
        assert stored == "../q1-inventory.pdf"
        assert (
            resolve_workspace_path(stored, restored_ws) == restored_ws.parent / "q1-inventory.pdf"
        )
    finally:
        engine.dispose()

    # The receipt restored beside the report checks out offline with the restored key.
    checked = _run(
        target,
        "verify",
        str(restored_ws.parent / "q1-inventory.tlog-proof"),
        "--key",
        str(restored_ws / "keys" / "ledger.vkey"),
    )
    assert "receipt OK" in checked and "q1-inventory.pdf" in checked

    # A second restore over it is refused, and replaces it with --force.
    refused = _refused(target, "restore", str(archive))
    assert "not empty" in refused and "--force" in refused
    _run(target, "restore", str(archive), "--force")
    assert "ledger OK: 2 entries" in _run(target, "ledger", "verify", "--full")


def test_a_database_holding_tables_is_not_overwritten(
    plant: dict[str, str], tmp_path: Path
) -> None:
    _make_plant(plant)
    archive = tmp_path / "plant.tar.gz"
    _run(plant, "backup", "--out", str(archive))
    # A new folder, but the database is the plant's own (still in service).
    new_folder = tmp_path / "elsewhere"
    database = plant["CARBONLINK_DATABASE_URL"] or (
        f"sqlite:///{plant['CARBONLINK_WORKSPACE']}/carbonlink.db"
    )
    refused = _refused(
        plant, "restore", str(archive), "--workspace", str(new_folder), "--database", database
    )
    assert "already holds" in refused and "--force" in refused
    assert not new_folder.exists() or not any(new_folder.iterdir())


def test_a_damaged_archive_is_refused_naming_the_file(tmp_path: Path) -> None:
    plant = {
        "CARBONLINK_WORKSPACE": str(tmp_path / "plant" / "ws"),
        "CARBONLINK_DATABASE_URL": "",
    }
    _make_plant(plant)
    archive = tmp_path / "plant.tar.gz"
    _run(plant, "backup", "--out", str(archive))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "workspace/carbonlink.yaml":
                data = data.replace(b"database_url:", b"database_url: sqlite:///x.db")
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    target = {**plant, "CARBONLINK_WORKSPACE": str(tmp_path / "restored")}
    refused = _refused(target, "restore", str(damaged))
    assert "workspace/carbonlink.yaml does not match its SHA-256" in refused
    # Checked before anything is written.
    assert not (tmp_path / "restored").exists()


def test_a_copied_workspace_names_its_own_files(tmp_path: Path) -> None:
    workspace = tmp_path / "demo-output" / "workspace"
    workspace.mkdir(parents=True)
    assert workspace_path(tmp_path / "demo-output" / "china.pdf", workspace) == "../china.pdf"
    assert workspace_path(workspace / "reports" / "q1.pdf", workspace) == "reports/q1.pdf"
    elsewhere = tmp_path.parent / "shared-reports" / "x.pdf"
    assert workspace_path(elsewhere, workspace) == os.path.abspath(elsewhere)
    copy = tmp_path / "copy" / "demo-output" / "workspace"
    assert resolve_workspace_path("../china.pdf", copy) == copy.parent / "china.pdf"
    assert resolve_workspace_path("reports/q1.pdf", copy) == copy / "reports" / "q1.pdf"
    assert resolve_workspace_path(str(elsewhere), copy) == elsewhere


@pytest.mark.postgres
def test_a_sqlite_workspace_moves_to_postgresql_and_back(
    _postgres_engine: Engine, tmp_path: Path
) -> None:
    sqlite_plant = {
        "CARBONLINK_WORKSPACE": str(tmp_path / "plant" / "ws"),
        "CARBONLINK_DATABASE_URL": "",
    }
    _make_plant(sqlite_plant)
    expected = _run(sqlite_plant, "ledger", "verify", "--full")
    archive = tmp_path / "sqlite.tar.gz"
    _run(sqlite_plant, "backup", "--out", str(archive))

    schema = f"carbonlink_move_{uuid.uuid4().hex[:12]}"
    with _postgres_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        on_postgres = {
            "CARBONLINK_WORKSPACE": str(tmp_path / "pg" / "ws"),
            "CARBONLINK_DATABASE_URL": _url_in_schema(_postgres_engine, schema),
        }
        _run(on_postgres, "restore", str(archive))
        assert _run(on_postgres, "ledger", "verify", "--full") == expected
        # and back: a PostgreSQL backup restores into a new SQLite workspace
        back = tmp_path / "pg.tar.gz"
        _run(on_postgres, "backup", "--out", str(back))
        on_sqlite = {
            "CARBONLINK_WORKSPACE": str(tmp_path / "back" / "ws"),
            "CARBONLINK_DATABASE_URL": "",
        }
        own = f"sqlite:///{tmp_path / 'back' / 'ws' / 'carbonlink.db'}"
        _run(on_sqlite, "restore", str(back), "--database", own)
        assert _run(on_sqlite, "ledger", "verify", "--full") == expected
        assert (tmp_path / "back" / "q1-inventory.pdf").is_file()
    finally:
        with _postgres_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_a_backup_taken_while_the_ledger_grows_restores_consistent(
    plant: dict[str, str], target: dict[str, str], tmp_path: Path
) -> None:
    from carbonlink.ledger import Ledger, load_ledger_signer, record_report
    from carbonlink.settings import Settings
    from carbonlink.store.backup import backup_workspace

    _make_plant(plant)
    workspace = Path(plant["CARBONLINK_WORKSPACE"])
    engine = create_store_engine(
        plant["CARBONLINK_DATABASE_URL"] or f"sqlite:///{workspace}/carbonlink.db"
    )
    ledger, signer = Ledger(engine), load_ledger_signer(workspace)
    live = tmp_path / "live"
    live.mkdir()
    appended: list[int] = []
    stop = threading.Event()

    def service() -> None:
        for i in range(400):
            if stop.is_set():
                return
            report = live / f"r{i}.txt"
            report.write_text(f"report {i}\n", "utf-8")
            appended.append(
                record_report(ledger, signer, f"r{i}", report_kind="report", paths=[report])[0]
            )

    writer = threading.Thread(target=service)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(appended) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = len(appended)
        archive = tmp_path / "live.tar.gz"
        settings = Settings(
            workspace=workspace, database_url=plant["CARBONLINK_DATABASE_URL"] or None
        )
        summary = backup_workspace(settings, archive)
        after = len(appended)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    # The plant had 2 entries; the snapshot holds those and whole reports appended meanwhile.
    size = summary.tables["ledger_entry"]
    assert 2 + before <= size <= 2 + after + 1
    _run(target, "restore", str(archive))
    verified = _run(target, "ledger", "verify", "--full")
    assert f"ledger OK: {size} entries" in verified and "every stored hash matches" in verified
