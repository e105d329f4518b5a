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
