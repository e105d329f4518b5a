"""Back up a workspace into one archive, and restore it into another folder and database.

The archive is a gzip-compressed tar file:

- ``manifest.json`` (first): the format, when and from what it was made, the database's
  backend and schema revision, and the SHA-256 and size of every other member;
- ``database/carbonlink.db``: a SQLite database, copied with SQLite's online backup API, which
  reads one consistent state while the service goes on writing; or ``database/<table>.jsonl``
  for a PostgreSQL database: each table's rows, read in one REPEATABLE READ transaction (one
  snapshot of all tables, while the service runs);
- ``workspace/…``: every file of the workspace folder: its configuration, the ledger's signing
  key, TLS files, stored reports (the database file itself comes from the snapshot above);
- ``beside/…``: the written report files the database records beside the workspace
  (``../name``, where ``carbonlink demo`` writes them), with their ``.tlog-proof`` receipts.

The stored input documents (inventories, factor tables) and the ledger are tables of the
database, so they are in its snapshot.

PostgreSQL is dumped table by table through SQLAlchemy rather than with ``pg_dump``: the dump
needs no client binaries of the server's major version on the machine, it holds only
carbonlink's tables of the workspace's schema, and it restores into either backend, so a
workspace moves from SQLite to PostgreSQL (or back) by a backup and a restore. Restoring
creates the schema with carbonlink's own migrations at the archive's revision, loads the rows
and migrates the database to the newest revision.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import sqlalchemy as sa

from carbonlink.errors import StoreError
from carbonlink.settings import Settings
from carbonlink.store.engine import create_store_engine, normalise_url
from carbonlink.store.migrate import current_revision, upgrade
from carbonlink.store.workspace import (
    CONFIG_NAME,
    effective_settings,
    load_workspace_config,
    resolve_workspace_path,
)

FORMAT = "carbonlink-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/carbonlink.db"
SQLITE_NAME = "carbonlink.db"
RECEIPT_SUFFIX = ".tlog-proof"
BATCH_ROWS = 5_000
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class BackupError(StoreError):
    """A backup could not be written or an archive cannot be restored."""


class TargetNotEmptyError(BackupError, FileExistsError):
    """A restore would overwrite a workspace, files or a database that hold data."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup wrote."""

    archive: Path
    backend: str
    revision: str | None
    tables: dict[str, int]
    files: int
    size: int


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore put back, and where."""

    workspace: Path
    database_url: str
    revision: str | None
    tables: dict[str, int]
    files: int
    beside: list[Path] = field(default_factory=list)


# backup -----------------------------------------------------------------------------------------
def backup_workspace(settings: Settings, out: Path) -> BackupSummary:
    """Write the workspace of ``settings`` (folder and database) into the archive ``out``."""
    workspace = Path(os.path.abspath(settings.workspace))
    if not workspace.is_dir():
        raise BackupError(
            "no workspace folder to back up",
            file=str(workspace),
            hint="name it with --workspace or CARBONLINK_WORKSPACE",
        )
    url = effective_settings(settings, load_workspace_config(workspace)).resolved_database_url()
    engine = create_store_engine(url)
    try:
        revision = current_revision(engine)
        if revision is None:
            raise BackupError(
                "the workspace's database holds no carbonlink schema",
                file=str(workspace),
                hint="run `carbonlink init` on it first, or check CARBONLINK_DATABASE_URL",
            )
        with tempfile.TemporaryDirectory(prefix="carbonlink-backup-") as tmp:
            staging = Path(tmp)
            backend = engine.dialect.name
            own_db: Path | None = None
            if backend == "sqlite":
                own_db = Path(os.path.abspath(engine.url.database or ""))
                tables = _snapshot_sqlite(own_db, staging / SQLITE_MEMBER)
            else:
                tables = _dump_tables(engine, staging / "database")
            _stage_workspace(workspace, staging / "workspace", skip=own_db)
            _stage_beside(engine, workspace, staging / "beside")
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "carbonlink": _version(),
                "workspace": str(workspace),
                "database": {"backend": backend, "revision": revision, "tables": tables},
                "files": _hashes(staging),
            }
            out = Path(os.path.abspath(out))
            _write_archive(staging, manifest, out)
    finally:
        engine.dispose()
    return BackupSummary(out, backend, revision, tables, len(manifest["files"]), out.stat().st_size)


def _version() -> str:
    from carbonlink import __version__

    return __version__


def _snapshot_sqlite(database: Path, target: Path) -> dict[str, int]:
    """A consistent copy of a live SQLite database (online backup API), and its row counts."""
    target.parent.mkdir(parents=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        names = [
            name
            for (name,) in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version' ORDER BY name"
            )
        ]
        return {
            name: copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names
        }
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the SQLite database: {exc}", file=str(database)) from exc
    finally:
        source.close()
        copy.close()


def _dump_tables(engine: sa.Engine, folder: Path) -> dict[str, int]:
    """Every carbonlink table as JSON lines, all read from one snapshot of the database."""
    folder.mkdir(parents=True)
    counts: dict[str, int] = {}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        metadata = sa.MetaData()
        metadata.reflect(conn)
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
                sa.select(table).order_by(*order)
            )
            count = 0
            with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                out.write(json.dumps({"columns": [c.name for c in table.columns]}) + "\n")
                for row in rows:
                    out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
                    count += 1
            counts[table.name] = count
        conn.rollback()
    return counts


def _stage_workspace(workspace: Path, target: Path, *, skip: Path | None) -> None:
    """Copy the workspace folder's files (not the live SQLite files, which are snapshotted)."""
    skipped = {Path(f"{skip}{suffix}") for suffix in _SQLITE_SIDE_FILES} if skip else set()
    target.mkdir(parents=True)
    for path in sorted(workspace.rglob("*")):
        relative = path.relative_to(workspace)
        if path in skipped or path.is_symlink() or "__pycache__" in relative.parts:
            continue
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


def _stage_beside(engine: sa.Engine, workspace: Path, target: Path) -> None:
    """Copy the report files the database records beside the workspace (``../name``)."""
    for stored in sorted(_recorded_files(engine)):
        relative = PurePosixPath(stored)
        if relative.is_absolute() or not relative.parts or relative.parts[0] != "..":
            continue  # inside the workspace (copied with it) or not the workspace's own
        inner = PurePosixPath(*relative.parts[1:])
        if ".." in inner.parts:
            continue
        path = resolve_workspace_path(stored, workspace)
        for candidate in (
            path,
            path.with_name(path.name + RECEIPT_SUFFIX),
            path.with_name(path.stem + RECEIPT_SUFFIX),
        ):
            if candidate.is_file():
                destination = target / inner.parent / candidate.name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(candidate, destination)


def _recorded_files(engine: sa.Engine) -> set[str]:
    """The paths of written files the database records (the monitoring reports' outputs)."""
    reports = sa.table("monitoring_reports", sa.column("outputs", sa.Text))
    found: set[str] = set()
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("monitoring_reports"):
            return found
        for (text,) in conn.execute(sa.select(reports.c.outputs)):
            outputs = json.loads(text)
            if isinstance(outputs, dict):
                found.update(v for v in outputs.values() if isinstance(v, str))
    return found


def _hashes(staging: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(staging).as_posix(): {
            "sha256": _sha256(path),
            "size": path.stat().st_size,
        }
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_archive(staging: Path, manifest: dict[str, Any], out: Path) -> None:
    """The archive, written beside ``out`` and renamed into place when complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    body = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    try:
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as archive:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o644, int(datetime.now(UTC).timestamp())
            archive.addfile(info, io.BytesIO(body))
            for name in manifest["files"]:
                archive.add(staging / name, arcname=name, recursive=False)
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write the archive: {exc}", file=str(out)) from exc


# restore ----------------------------------------------------------------------------------------
def restore_workspace(
    archive: Path, settings: Settings, *, database_url: str | None = None, force: bool = False
) -> RestoreSummary:
    """Restore the archive into the workspace folder of ``settings`` and its database.

    The database is ``database_url``, else the settings' one (CARBONLINK_DATABASE_URL), else
    for a PostgreSQL backup the URL its workspace file names (back where it was), else the new
    workspace's own SQLite file. A workspace folder, a file beside it or a database that holds
    tables is refused unless ``force`` is given.
    """
    workspace = Path(os.path.abspath(settings.workspace))
    with _open_archive(archive) as (tar, manifest):
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        files: dict[str, dict[str, Any]] = manifest["files"]
        missing = sorted(set(files) - set(members))
        if missing:
            raise BackupError(
                f"the archive lacks {len(missing)} file(s) its manifest lists: {missing[0]}",
                file=str(archive),
            )
        backend = manifest["database"]["backend"]
        revision = manifest["database"]["revision"]
        url = normalise_url(
            database_url
            or settings.database_url
            or (None if backend == "sqlite" else _archived_database_url(tar, members))
            or f"sqlite:///{workspace / SQLITE_NAME}"
        )
        beside = [
            workspace.parent / PurePosixPath(name).relative_to("beside")
            for name in files
            if name.startswith("beside/")
        ]
        _check_targets(workspace, beside, force)
        # The whole archive is checked before anything is written: a damaged one changes nothing.
        for name in sorted(files):
            _check_member(tar, members[name], files[name], archive)
        engine = create_store_engine(url)
        try:
            _check_database(engine, force)
            _extract_files(tar, members, files, workspace, archive)
            tables = _restore_database(tar, members, files, manifest, engine, archive)
            _name_database(workspace, url)
            upgrade(engine, workspace=workspace)
            revision = current_revision(engine)
        finally:
            engine.dispose()
    return RestoreSummary(
        workspace,
        sa.make_url(url).render_as_string(hide_password=True),
        revision,
        tables,
        sum(1 for name in files if name.startswith(("workspace/", "beside/"))),
        beside,
    )


class _Archive:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None

    def __enter__(self) -> tuple[tarfile.TarFile, dict[str, Any]]:
        try:
            self.tar = tarfile.open(self.path, "r:gz")
            member = self.tar.getmember(MANIFEST)
            stream = self.tar.extractfile(member)
            manifest = json.loads(stream.read()) if stream else None
        except (OSError, tarfile.TarError, KeyError, gzip.BadGzipFile, ValueError) as exc:
            self.__exit__()
            raise BackupError(
                f"not a carbonlink backup archive: {exc}",
                file=str(self.path),
                hint="give a file written by `carbonlink backup`",
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            self.__exit__()
            raise BackupError(
                f"unknown archive format {manifest.get('format') if manifest else None!r}",
                file=str(self.path),
                hint=f"this carbonlink restores {FORMAT}",
            )
        return self.tar, manifest

    def __exit__(self, *_exc: object) -> None:
        if self.tar is not None:
            self.tar.close()
            self.tar = None


def _open_archive(path: Path) -> _Archive:
    return _Archive(path)


def _archived_database_url(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> str | None:
    """The database URL written in the archived workspace file (restoring where it was)."""
    member = members.get(f"workspace/{CONFIG_NAME}")
    stream = tar.extractfile(member) if member else None
    if stream is None:
        return None
    import yaml

    url = (yaml.safe_load(stream.read()) or {}).get("database_url")
    return str(url) if url else None


def _name_database(workspace: Path, url: str) -> None:
    """Point the restored workspace file at the database restored into.

    Left as it was, a workspace file naming the original server database would send the
    restored workspace's commands to the original. The workspace's own SQLite file is named by
    an empty value; a password is never written (libpq reads it from PGPASSWORD or ~/.pgpass).
    """
    config = workspace / CONFIG_NAME
    if not config.is_file():
        return
    own = normalise_url(f"sqlite:///{workspace / SQLITE_NAME}")
    value = "" if url == own else sa.make_url(url).set(password=None).render_as_string()
    current = load_workspace_config(workspace).database_url or ""
    if value == current:
        return
    lines = config.read_text("utf-8").splitlines(keepends=True)
    line = f"database_url: {value}\n" if value else "database_url:\n"
    for i, text in enumerate(lines):
        if text.startswith("database_url:"):
            lines[i] = line
            break
    else:
        lines.append(line)
    config.write_text("".join(lines), "utf-8")


def _check_targets(workspace: Path, beside: list[Path], force: bool) -> None:
    if force:
        return
    if workspace.exists() and (not workspace.is_dir() or any(workspace.iterdir())):
        raise TargetNotEmptyError(
            "the workspace folder to restore into is not empty",
            file=str(workspace),
            hint="restore into a new folder, or pass --force to overwrite it",
        )
    taken = [path for path in beside if path.exists()]
    if taken:
        raise TargetNotEmptyError(
            f"{len(taken)} report file(s) beside the workspace already exist, e.g. {taken[0]}",
            file=str(taken[0]),
            hint="restore into a folder of its own, or pass --force to overwrite them",
        )


def _check_database(engine: sa.Engine, force: bool) -> None:
    """Refuse a database that holds carbonlink tables; with ``force``, drop them."""
    try:
        with engine.connect() as conn:
            existing = sa.MetaData()
            existing.reflect(conn)
    except sa.exc.OperationalError as exc:
        raise BackupError(
            f"cannot reach the database to restore into: {exc.orig}",
            hint="check that the server runs and the URL is right",
        ) from exc
    if not existing.tables:
        return
    if not force:
        raise TargetNotEmptyError(
            f"the database to restore into already holds {len(existing.tables)} table(s), "
            f"e.g. {sorted(existing.tables)[0]}",
            record=engine.url.render_as_string(hide_password=True),
            hint="restore into an empty database or schema, or pass --force to replace it",
        )
    with engine.begin() as conn:
        existing.drop_all(conn)


def _safe_destination(root: Path, relative: PurePosixPath, archive: Path) -> Path:
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"unsafe file name in the archive: {relative}", file=str(archive))
    return root.joinpath(*relative.parts)


def _extract_files(
    tar: tarfile.TarFile,
    members: dict[str, tarfile.TarInfo],
    files: dict[str, dict[str, Any]],
    workspace: Path,
    archive: Path,
) -> None:
    """Write the workspace's files and those beside it, each checked against the manifest."""
    workspace.mkdir(parents=True, exist_ok=True)
    for name in sorted(files):
        path = PurePosixPath(name)
        if path.parts[0] == "workspace":
            root = workspace
        elif path.parts[0] == "beside":
            root = workspace.parent
        else:
            continue
        destination = _safe_destination(root, PurePosixPath(*path.parts[1:]), archive)
        destination.parent.mkdir(parents=True, exist_ok=True)
        _extract_checked(tar, members[name], files[name], destination, archive)


def _check_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, expected: dict[str, Any], archive: Path
) -> None:
    stream = tar.extractfile(member)
    if stream is None:
        raise BackupError(f"cannot read {member.name} from the archive", file=str(archive))
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    if digest.hexdigest() != expected["sha256"]:
        raise BackupError(
            f"{member.name} does not match its SHA-256 in the manifest: the archive is damaged",
            file=str(archive),
            record=member.name,
        )


def _extract_checked(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    expected: dict[str, Any],
    destination: Path,
    archive: Path,
) -> None:
    stream = tar.extractfile(member)
    if stream is None:
        raise BackupError(f"cannot read {member.name} from the archive", file=str(archive))
    digest = hashlib.sha256()
    partial = destination.with_name(destination.name + ".partial")
    with partial.open("wb") as out:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected["sha256"]:
        partial.unlink()
        raise BackupError(
            f"{member.name} does not match its SHA-256 in the manifest: the archive is damaged",
            file=str(archive),
            record=member.name,
        )
    os.chmod(partial, member.mode & 0o777 or 0o600)
    os.replace(partial, destination)


def _restore_database(
    tar: tarfile.TarFile,
    members: dict[str, tarfile.TarInfo],
    files: dict[str, dict[str, Any]],
    manifest: dict[str, Any],
    engine: sa.Engine,
    archive: Path,
) -> dict[str, int]:
    revision = manifest["database"]["revision"]
    if SQLITE_MEMBER in files:
        with tempfile.TemporaryDirectory(prefix="carbonlink-restore-") as tmp:
            snapshot = Path(tmp) / SQLITE_NAME
            _extract_checked(tar, members[SQLITE_MEMBER], files[SQLITE_MEMBER], snapshot, archive)
            target = engine.url.database
            if engine.dialect.name == "sqlite" and target and target != ":memory:":
                engine.dispose()
                for suffix in _SQLITE_SIDE_FILES:
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(snapshot, target)
                return dict(manifest["database"]["tables"])
            source = create_store_engine(f"sqlite:///{snapshot}")
            try:
                with source.connect() as conn:
                    return _copy_tables(_EngineSource(conn), engine, revision)
            finally:
                source.dispose()
    with tempfile.TemporaryDirectory(prefix="carbonlink-restore-") as tmp:
        folder = Path(tmp)
        for name in files:
            if name.startswith("database/") and name.endswith(".jsonl"):
                _extract_checked(tar, members[name], files[name], folder / Path(name).name, archive)
        return _copy_tables(_JsonLinesSource(folder), engine, revision)


class _Source(Protocol):
    """The tables of a backup, each read when it is loaded."""

    def names(self) -> set[str]: ...

    def read(self, name: str) -> tuple[list[str], Iterator[list[Any]]]: ...


class _EngineSource:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.metadata = sa.MetaData()
        self.metadata.reflect(conn)

    def names(self) -> set[str]:
        return set(self.metadata.tables) - {"alembic_version"}

    def read(self, name: str) -> tuple[list[str], Iterator[list[Any]]]:
        table = self.metadata.tables[name]
        rows = self.conn.execute(sa.select(table))
        return [c.name for c in table.columns], (list(row) for row in rows)


class _JsonLinesSource:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def names(self) -> set[str]:
        return {path.stem for path in self.folder.glob("*.jsonl")}

    def read(self, name: str) -> tuple[list[str], Iterator[list[Any]]]:
        def rows() -> Iterator[list[Any]]:
            with (self.folder / f"{name}.jsonl").open(encoding="utf-8") as stream:
                stream.readline()
                for line in stream:
                    yield [_decode(v) for v in json.loads(line)]

        with (self.folder / f"{name}.jsonl").open(encoding="utf-8") as stream:
            header = json.loads(stream.readline())
        return list(header["columns"]), rows()


def _copy_tables(source: _Source, engine: sa.Engine, revision: str) -> dict[str, int]:
    """Create the schema at the archive's revision and load every table's rows into it."""
    upgrade(engine, revision)
    metadata = sa.MetaData()
    with engine.connect() as conn:
        metadata.reflect(conn)
    pending = source.names()
    extra = sorted(pending - set(metadata.tables))
    if extra:
        raise BackupError(
            f"the archive holds tables the schema at revision {revision} lacks: {', '.join(extra)}",
            hint="restore with the carbonlink version that wrote the backup, or a newer one",
        )
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in pending:
                continue
            columns, rows = source.read(table.name)
            unknown = [c for c in columns if c not in table.columns]
            if unknown:
                raise BackupError(
                    f"table {table.name} of the archive has columns the schema at revision "
                    f"{revision} lacks: {', '.join(unknown)}",
                    record=table.name,
                )
            records = (dict(zip(columns, row, strict=True)) for row in rows)
            # Rows that point at rows of their own table are loaded parents first, all at once.
            size = None if _self_links(table) else BATCH_ROWS
            counts[table.name] = 0
            for batch in _batches(records, size):
                conn.execute(table.insert(), _parents_first(table, batch))
                counts[table.name] += len(batch)
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, metadata)
    return counts


def _batches(records: Iterator[dict[str, Any]], size: int | None) -> Iterator[list[dict[str, Any]]]:
    if size is None:
        everything = list(records)
        if everything:
            yield everything
        return
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _self_links(table: sa.Table) -> list[tuple[str, str]]:
    return [
        (fk.parent.name, fk.column.name)
        for fk in table.foreign_keys
        if fk.column.table.name == table.name
    ]


def _parents_first(table: sa.Table, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows ordered so that a row another row of the table points at comes first."""
    links = _self_links(table)
    if not links:
        return records
    placed: set[tuple[str, Any]] = set()
    ordered: list[dict[str, Any]] = []
    waiting = records
    while waiting:
        still = []
        for record in waiting:
            if all(record.get(c) is None or (t, record[c]) in placed for c, t in links):
                ordered.append(record)
                placed.update((t, record.get(t)) for _c, t in links)
            else:
                still.append(record)
        if len(still) == len(waiting):  # points outside this batch: already loaded
            ordered.extend(still)
            break
        waiting = still
    return ordered


def _reset_sequences(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Move PostgreSQL's id sequences past the loaded rows."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar()
            if sequence:
                conn.execute(
                    sa.text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") '
                        f'FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"s": sequence},
                )


# values in JSON lines --------------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else {"float": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, time):
        return {"time": value.isoformat()}
    if isinstance(value, dict | list):
        return {"json": value}
    raise BackupError(f"cannot write a value of type {type(value).__name__} to the backup")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((kind, text),) = value.items()
    if kind == "float":
        return float(text)
    if kind == "bytes":
        return base64.b64decode(text)
    if kind == "decimal":
        return Decimal(text)
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "time":
        return time.fromisoformat(text)
    if kind == "json":
        return text
    raise BackupError(f"unknown value kind {kind!r} in the backup")
