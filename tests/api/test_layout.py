"""The web service's layout: a router module per resource, no SQL of its own, tables in store."""

from __future__ import annotations

import re
from pathlib import Path

import carbonlink.api

API = Path(carbonlink.api.__file__).parent
STORE = API.parent / "store"
SQL = re.compile(r"\bsa\.select\(|\.execute\(|\.insert\(\)|\.update\(\)|\.delete\(\)|\btext\(")
# Still writing their own statements, each for a reason of its own: the accounts' security
# module and the supplier portal's routes.
NOT_YET_MOVED = {"security.py", "routes/portal.py"}


def test_the_web_service_writes_no_sql_of_its_own() -> None:
    found = []
    for module in sorted(API.rglob("*.py")):
        name = module.relative_to(API).as_posix()
        if name in NOT_YET_MOVED:
            continue
        for number, line in enumerate(module.read_text("utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if SQL.search(code) and "read_text(" not in code:
                found.append(f"api/{name}:{number}: {line.strip()}")
    assert found == []


def test_the_store_imports_nothing_of_the_web_service() -> None:
    found = [
        f"store/{module.relative_to(STORE).as_posix()}"
        for module in sorted(STORE.rglob("*.py"))
        if re.search(r"^\s*(from|import) carbonlink\.api\b", module.read_text("utf-8"), re.M)
    ]
    assert found == []


def test_each_api_router_module_stays_short() -> None:
    """One module per resource under /api/v1, each a few hundred lines at most."""
    resources = [
        "me",
        "catalogue",
        "readings",
        "alert_rules",
        "overview",
        "factors",
        "inventories",
        "inventory_reports",
        "administration",
    ]
    lengths = {
        name: len((API / "routes" / f"{name}.py").read_text("utf-8").splitlines())
        for name in resources
    }
    assert max(lengths.values()) < 300, lengths
    assert not (API / "routes" / "api.py").exists()


def test_the_demo_is_one_package() -> None:
    """Everything the demo builds lives in carbonlink.demo; no layer holds a demo module."""
    package = API.parent
    strays = [
        module.relative_to(package).as_posix()
        for module in sorted(package.rglob("*.py"))
        if "demo" in module.stem and module.parent.name != "demo"
    ]
    assert strays == []
    assert {m.stem for m in (package / "demo").glob("*.py")} >= {"run", "plant", "service"}


# Statements of the demo's own: the service's SQL markers, SQLAlchemy Core's statement
# functions and a connection or transaction opened on an engine.
DEMO_SQL = re.compile(SQL.pattern + r"|\bsa\.(delete|insert|update)\(|engine\.(begin|connect)\(")
# A table definition's module: the store's schema, its *_schema siblings, the api's re-exports.
TABLES = re.compile(r"^\s*(from|import) carbonlink\.(store|api)\.(\w+_)?schema\b", re.M)


def test_the_demo_uses_only_public_functions_of_the_product() -> None:
    """The demo writes through each layer's functions: no table imported, no SQL of its own."""
    demo = API.parent / "demo"
    found = []
    for module in sorted(demo.rglob("*.py")):
        source = module.read_text("utf-8")
        found += [
            f"demo/{module.name}: imports {match.group(0).strip()}"
            for match in TABLES.finditer(source)
        ]
        for number, line in enumerate(source.splitlines(), start=1):
            code = line.split("#", 1)[0]
            if DEMO_SQL.search(code):
                found.append(f"demo/{module.name}:{number}: {line.strip()}")
    assert found == []
