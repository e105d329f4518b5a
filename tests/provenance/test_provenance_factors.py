"""Factor sets: canonical content of the factor tables, kept and re-hashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonlink.domain.factors import default_library
from carbonlink.errors import ConfigError
from carbonlink.ledger import sha256_bytes
from carbonlink.provenance import shipped_factor_set, workspace_factor_set
from carbonlink.provenance.factors import canonical_factor_content
from conftest import user_factor_table


def test_the_shipped_set_holds_exactly_the_default_library() -> None:
    shipped = shipped_factor_set()
    assert shipped.sha256 == sha256_bytes(shipped.body)
    assert shipped.version.endswith("+" + shipped.sha256[:12])
    assert sorted(shipped.factors(), key=repr) == sorted(default_library(), key=repr)


def test_canonical_content_ignores_line_endings_and_quoting_but_not_values() -> None:
    text = user_factor_table()
    base = canonical_factor_content([("own.csv", text)])
    assert canonical_factor_content([("own.csv", text.replace("\n", "\r\n"))]) == base
    header, row = text.splitlines()
    quoted = (
        header
        + "\n"
        + ",".join(f'"{cell}"' if cell.isalpha() else cell for cell in row.split(","))
        + "\n"
    )
    assert canonical_factor_content([("own.csv", quoted)]) == base
    changed = text.replace("0.4321", "0.43210001")
    assert canonical_factor_content([("own.csv", changed)]) != base


def test_a_workspace_without_tables_has_no_user_set(tmp_path: Path) -> None:
    assert workspace_factor_set(tmp_path) is None


def test_a_malformed_user_table_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "factors").mkdir()
    bad = user_factor_table().replace("0.4321", "zero point four")
    (tmp_path / "factors" / "own.csv").write_text(bad, "utf-8")
    with pytest.raises(ConfigError, match="malformed factor row") as caught:
        workspace_factor_set(tmp_path)
    assert caught.value.file == "own.csv"
