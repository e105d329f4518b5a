"""Shared fixtures.

``engine`` and ``store`` give each test a freshly migrated database, once on SQLite and once on
PostgreSQL. PostgreSQL runs when CARBONLINK_TEST_POSTGRES_URL names a server; each test session
(each pytest-xdist worker) works in a schema of its own (dropped at the end), and the tables are
emptied between tests. With CARBONLINK_REQUIRE_SERVICES=1 (set by scripts/test-env when every
service answered, and in CI) an unset or unreachable server fails instead of skipping.

Tests marked ``reference`` read files that are not part of the project (the official PACT and
CBAM documents, the real plant file, kept in ``../shared`` beside the project): without them they
skip and say which file is missing; with CARBONLINK_REQUIRE_REFERENCE=1 (CI) such a skip fails.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from carbonlink.store import Store, create_store_engine, upgrade

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CARBONLINK_SHARED", PROJECT_ROOT.parent / "shared"))


# Fixtures that read a file kept outside the project: their tests are marked ``reference``.
REFERENCE_FIXTURES = frozenset({"steel_plant_file", "pact_schema", "filled", "catenax_cbam_schema"})
# Fixtures of the end-to-end cases (a whole demo run, a browser, LibreOffice, a server fuzzed):
# their tests are marked ``slow`` (`-m "not slow"` leaves them out of a quick run; CI runs all).
SLOW_FIXTURES = frozenset(
    {"demo_output", "demo_command", "demo_run", "base_url", "filled", "pact_schema"}
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist would hand out the files with the most tests first, which leaves the files of
    # one or two long end-to-end cases for the end, where one worker runs them while the other
    # has nothing left to do; the order is set below instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if REFERENCE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.reference)
        if SLOW_FIXTURES & fixtures or item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)
    # Files that hold a slow case first, then the others, each group with the files of most
    # tests first: the workers (one file at a time, --dist loadfile) end with short files and
    # finish together. A stable sort, so that a file's tests keep their order and stay together.
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    per_file = Counter(item.path for item in items)
    items.sort(key=lambda item: (item.path not in slow_files, -per_file[item.path]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if (
        report.skipped
        and os.environ.get("CARBONLINK_REQUIRE_REFERENCE") == "1"
        and item.get_closest_marker("reference") is not None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        if str(reason).startswith(("optional reference file absent", "Skipped: optional")):
            return report  # a file kept beside the project by hand: skipped, and said so
        report.outcome = "failed"
        report.longrepr = f"reference file required (CARBONLINK_REQUIRE_REFERENCE=1): {reason}"
    return report


def services_required() -> bool:
    """Whether a missing service must fail the run (CI) rather than skip the test."""
    return os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "carbonlink.db"
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
    if not url:
        _unavailable(
            "PostgreSQL: CARBONLINK_TEST_POSTGRES_URL is not set "
            "(`make test` sets it when a server answers on 127.0.0.1:5432)"
        )
    assert url is not None
    schema_name = f"carbonlink_test_{uuid.uuid4().hex[:12]}"
    admin = create_store_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {url} is unreachable: {exc.orig}")
    engine = create_store_engine(url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
            # the monthly partitions of its readings table live beside it
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}_partitions" CASCADE'))
        admin.dispose()


def _empty_postgres(engine: Engine) -> None:
    """Empty every table of the session's schema and restart its sequences.

    The same end as ``TRUNCATE`` of every table ``RESTART IDENTITY``, but only the tables that
    hold rows are truncated, and only the sequences that were used are restarted: a TRUNCATE
    costs about as much for an empty table as for a full one (new files, synced at commit), and
    a test writes to a few of the schema's tables.
    """
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        probes = [f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables]
        full = connection.execute(text(" UNION ALL ".join(probes))).scalars().all()
        if full:
            names = ", ".join(f'"{name}"' for name in full)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        used = connection.execute(
            text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
                "AND last_value IS NOT NULL"
            )
        ).scalars()
        for name in list(used):
            connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database: SQLite in tmp_path or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "carbonlink.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        sqlite_engine = create_store_engine(f"sqlite:///{path}")
        yield sqlite_engine
        sqlite_engine.dispose()
        return
    postgres_engine: Engine = request.getfixturevalue("_postgres_engine")
    _empty_postgres(postgres_engine)
    yield postgres_engine
    _empty_postgres(postgres_engine)


@pytest.fixture
def store(engine: Engine) -> Store:
    """A `Store` over the ``engine`` fixture's database (both backends)."""
    return Store(engine)


@pytest.fixture(scope="session")
def steel_plant_file() -> Path:
    """The real UCI steel plant file beside the project (``../shared``), or skip without it."""
    path = SHARED / "data" / "steel-industry-energy" / "Steel_industry_data.csv"
    if not path.is_file():
        pytest.skip(f"reference file absent: the real plant file {path} (not part of the project)")
    return path


@contextmanager
def _session_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A folder shared by every pytest-xdist worker of this run, held by one worker at a time."""
    base = tmp_path_factory.getbasetemp()
    # A worker's temporary folder lies in the run's (xdist names it popen-gwN).
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield shared
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_command(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`carbonlink demo --out OUT` run once as a user runs it, in a process of its own.

    It runs once for the whole test run: under pytest-xdist the first worker that needs it runs
    it while any other that needs it waits, and all read the same OUT, which no test may change
    (``demo_output`` is a worker's own copy). Returns OUT and the finished process (its exit
    status, stdout and stderr).
    """
    with _session_lock(tmp_path_factory, "demo-command") as shared:
        out = shared / "demo-command" / "out"
        record = shared / "demo-command" / "process.json"
        if not record.is_file():
            out.parent.mkdir(exist_ok=True)
            entry_point = "from carbonlink.cli import main; main()"
            done = subprocess.run(
                [sys.executable, "-c", entry_point, "demo", "--out", str(out)],
                capture_output=True,
                text=True,
                check=False,
                env={"COLUMNS": "200", "PATH": ""},
            )
            fields = ("args", "returncode", "stdout", "stderr")
            record.write_text(json.dumps({key: getattr(done, key) for key in fields}), "utf-8")
    saved = json.loads(record.read_text("utf-8"))
    return out, subprocess.CompletedProcess(**saved)


@pytest.fixture(scope="session")
def demo_output(
    demo_command: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """This worker's own copy of the output folder of the full demo run (``demo_command``).

    Its ``workspace/`` is the demo's (it stores paths relative to itself, so a copy serves its
    own files); a test that changes a file puts it back. A worker copies it once.
    """
    out, done = demo_command
    assert done.returncode == 0, f"carbonlink demo failed:\n{done.stdout[-2000:]}\n{done.stderr}"
    copy = tmp_path_factory.mktemp("demo") / "out"
    shutil.copytree(out, copy, symlinks=True)
    return copy


PLANT_YEAR_KWH = 646_800.0
"""Total of ``plant_year_file``, by hand: 2018 has 261 weekdays (1 January was a Monday), each
with 40 working intervals (08:00–18:00) at 50 kWh = 522 000 kWh; the other 24 600 intervals run at
5 kWh = 123 000 kWh; Sunday 11 March runs a working day (40 × 45 kWh more = 1 800 kWh)."""


@pytest.fixture(scope="session")
def plant_year_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of 15-minute plant electricity in the real file's layout, with round numbers.

    The layout and quirks of the UCI steel file: UTF-8 byte-order mark, day-first local dates
    (Asia/Seoul) stamped at the end of each interval, a day's last interval written 00:00 with
    that same day's date, the file's column names. Each interval uses 5 kWh, except weekday
    intervals starting 08:00–17:45 local at 50 kWh, and Sunday 11 March 2018, which runs a
    working day's profile (the kind of off-pattern run the anomaly detector must find).
    """
    start = datetime(2018, 1, 1)
    lines = ["date,Usage_kWh,Lagging_Current_Reactive_Power_kVarh,Load_Type"]
    for i in range(365 * 96):
        begin = start + timedelta(minutes=15 * i)
        working = 8 <= begin.hour < 18 and (
            begin.weekday() < 5 or begin.date().isoformat() == "2018-03-11"
        )
        end = begin + timedelta(minutes=15)
        stamp = end - timedelta(days=1) if (end.hour, end.minute) == (0, 0) else end
        load = "Maximum_Load" if working else "Light_Load"
        lines.append(f"{stamp:%d/%m/%Y %H:%M},{50.0 if working else 5.0},0.5,{load}")
    path = tmp_path_factory.mktemp("plant") / "Steel_industry_data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path
