"""Factor sets in the ledger: the canonical content of the factor tables a workspace uses.

Two sets exist: the factor tables shipped with carbonlink (``carbonlink/data/factors``) and
the tables a user adds to the workspace (``<workspace>/factors/*.csv``, same columns). Each is
hashed over its canonical content — the rows of every file as RFC 8785 JSON, so neither line
endings nor spacing change it — and that content is kept in the store's ``documents`` table,
so a calculation can later be re-run from exactly the factors it used.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import rfc8785

from carbonlink import __version__
from carbonlink.domain.factors import Factor, FactorLibrary, parse_factor_rows
from carbonlink.errors import ConfigError
from carbonlink.ledger import Ledger, LedgerEntry, TamperError, factor_set_entry, sha256_bytes
from carbonlink.store.repository import Store

SHIPPED = "carbonlink-factors"
WORKSPACE = "workspace-factors"
MEDIA_TYPE = "application/vnd.carbonlink.factor-set+json"


@dataclass(frozen=True, slots=True)
class FactorSetContent:
    """One factor set: its name, version, canonical bytes and their SHA-256."""

    name: str
    version: str
    body: bytes
    sha256: str
    source: str

    def factors(self) -> list[Factor]:
        """The factors of the set, parsed as the library parses its files."""
        return factors_of(self.body)


def canonical_factor_content(files: Iterable[tuple[str, str]]) -> bytes:
    """RFC 8785 bytes of ``{"files": {name: [row, …]}}`` for CSV texts given as (name, text)."""
    tables = {name: list(csv.DictReader(io.StringIO(text))) for name, text in files}
    return rfc8785.dumps({"files": tables})


def factors_of(body: bytes) -> list[Factor]:
    """Factors from canonical factor-set bytes (the rows written back as CSV and parsed)."""
    tables = json.loads(body)["files"]
    factors: list[Factor] = []
    for name in sorted(tables):
        rows = tables[name]
        if not rows:
            continue
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        factors.extend(parse_factor_rows(buffer.getvalue(), file=name))
    return factors


def _content(name: str, files: list[tuple[str, str]], source: str) -> FactorSetContent:
    body = canonical_factor_content(files)
    digest = sha256_bytes(body)
    return FactorSetContent(name, f"{__version__}+{digest[:12]}", body, digest, source)


def shipped_factor_set() -> FactorSetContent:
    """The factor tables shipped with carbonlink, as `default_library` loads them."""
    folder = resources.files("carbonlink.data").joinpath("factors")
    files = [
        (entry.name, entry.read_text("utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".csv")
    ]
    return _content(SHIPPED, files, "carbonlink/data/factors")


def workspace_factor_set(workspace: Path) -> FactorSetContent | None:
    """The user's factor tables in ``<workspace>/factors`` (None when there are none)."""
    folder = workspace / "factors"
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not paths:
        return None
    try:
        files = [(path.name, path.read_text("utf-8")) for path in paths]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read a factor table: {exc}", file=str(folder)) from exc
    content = _content(WORKSPACE, files, str(folder))
    content.factors()  # a malformed row fails here, naming its file and line
    return content


def ensure_factor_sets(
    ledger: Ledger, store: Store, workspace: Path
) -> tuple[FactorLibrary, list[int]]:
    """The workspace's factor library and the entry indices of its factor sets.

    A set whose content the ledger has not seen yet is kept in the store and appended as a
    ``factor-set`` entry; one it has seen is cited by its existing entry.
    """
    sets = [shipped_factor_set()]
    user = workspace_factor_set(workspace)
    if user is not None:
        sets.append(user)
    indices = []
    factors: list[Factor] = []
    for content in sets:
        indices.append(_ensure(ledger, store, content))
        factors.extend(content.factors())
    return FactorLibrary(factors), indices


def _ensure(ledger: Ledger, store: Store, content: FactorSetContent) -> int:
    subject = f"factor-set:{content.name}@{content.version}"
    for entry in ledger.find(subject):
        if entry.content().get("content_sha256") == content.sha256:
            return entry.index
    store.save_document(f"{content.name}.json", content.body, MEDIA_TYPE)
    return ledger.append(
        factor_set_entry(
            content.name, content.version, content_sha256=content.sha256, source=content.source
        )
    )


def library_of_entries(store: Store, entries: Iterable[LedgerEntry]) -> FactorLibrary:
    """The factor library made of the factor sets the given ``factor-set`` entries record."""
    factors: list[Factor] = []
    for entry in entries:
        body = stored_factor_content(store, entry)
        factors.extend(factors_of(body))
    return FactorLibrary(factors)


def stored_factor_content(store: Store, entry: LedgerEntry) -> bytes:
    """The stored canonical content of a factor-set entry, checked against its hash."""
    expected = entry.content()["content_sha256"]
    body = store.document(expected).body
    actual = sha256_bytes(body)
    if actual != expected:
        raise TamperError(
            f"entry {entry.index} (factor-set {entry.content().get('name')}): the stored factor "
            f"data hashes to {actual[:16]}…, the ledger recorded {expected[:16]}…",
            index=entry.index,
            hint="a stored factor value was changed; restore the factor set from a backup",
        )
    return body


def recompute_factor_set(entry: LedgerEntry, ledger: Ledger) -> None:
    """Re-hash the factor data the workspace loads for this set and compare with the entry.

    The content is the copy kept in the store when the set was first used (a calculation
    re-run reads exactly that); it must also still parse into factors.
    """
    body = stored_factor_content(Store(ledger.engine), entry)
    factors_of(body)
