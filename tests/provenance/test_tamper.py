"""Tamper tests: change one stored reading, one factor value, one report byte, or delete an
entry directly in the database → ``carbonlink ledger verify --full`` fails and names it."""

from __future__ import annotations

import json

import pytest
import rfc8785
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.ledger import Ledger, RecomputeRegistry, TamperError, verify_ledger
from carbonlink.ledger.errors import ReceiptError
from carbonlink.ledger.keys import load_ledger_verifier
from carbonlink.ledger.receipt import Receipt, verify_receipt
from carbonlink.provenance import recompute_calculation_run
from conftest import Chain

runner = CliRunner()


def _verify_full(chain: Chain) -> TamperError:
    """Run ``carbonlink ledger verify --full`` and return the error it stopped with."""
    result = runner.invoke(app, ["ledger", "verify", "--full"], env=chain.env)
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, TamperError), result.output
    return result.exception


def test_the_untouched_chain_verifies_and_every_kind_is_recomputed(chain: Chain) -> None:
    result = runner.invoke(app, ["ledger", "verify", "--full"], env=chain.env)
    assert result.exception is None, result.output
    assert "rebuilt 5 entries" in result.output
    assert "recomputed 1 import-batch entries" in result.output
    assert "recomputed 2 factor-set entries" in result.output
    assert "recomputed 1 calculation-run entries" in result.output
    assert "recomputed 1 report entries" in result.output


def test_a_changed_stored_reading_names_its_import_batch(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        changed = connection.execute(
            text(
                "UPDATE readings SET value = value + 0.5 WHERE meter_id = 'm-grid' AND value = 2000"
            )
        ).rowcount
    assert changed == 1
    error = _verify_full(chain)
    assert error.index == chain.import_index
    assert f"entry {chain.import_index} (import-batch {chain.batch_id})" in str(error)


def test_a_changed_reading_also_breaks_the_calculation_run_that_used_it(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        connection.execute(text("UPDATE readings SET value = 2500 WHERE value = 2000"))
    registry = RecomputeRegistry()
    registry.register("calculation-run", recompute_calculation_run)
    verifier = load_ledger_verifier(chain.workspace)
    with pytest.raises(TamperError) as caught:
        verify_ledger(Ledger(chain.engine), verifier, full=True, recompute=registry)
    assert caught.value.index == chain.run_index
    assert "re-running it from the stored inputs" in str(caught.value)


def test_a_reading_outside_the_period_changes_no_calculation(chain: Chain) -> None:
    """The 2024 reading is not in the 2025 run: changing it breaks the batch, not the run."""
    with chain.engine.begin() as connection:
        connection.execute(text("UPDATE readings SET value = 1 WHERE value = 9999"))
    registry = RecomputeRegistry()
    registry.register("calculation-run", recompute_calculation_run)
    report = verify_ledger(
        Ledger(chain.engine), load_ledger_verifier(chain.workspace), full=True, recompute=registry
    )
    assert report.recomputed == {"calculation-run": 1}
    assert _verify_full(chain).index == chain.import_index


@pytest.mark.parametrize("which", [0, 1], ids=["shipped", "workspace"])
def test_a_changed_factor_value_names_its_factor_set(chain: Chain, which: int) -> None:
    index = chain.factor_indices[which]
    digest = Ledger(chain.engine).entry(index).content()["content_sha256"]
    with chain.engine.connect() as connection:
        body = connection.execute(
            text("SELECT body FROM documents WHERE sha256 = :d"), {"d": digest}
        ).scalar_one()
    content = json.loads(bytes(body))
    row = next(iter(content["files"].values()))[0]
    row["value"] = str(float(row["value"]) * 1.01)
    with chain.engine.begin() as connection:
        connection.execute(
            text("UPDATE documents SET body = :b WHERE sha256 = :d"),
            {"b": rfc8785.dumps(content), "d": digest},
        )
    error = _verify_full(chain)
    assert error.index == index
    assert f"entry {index} (factor-set" in str(error)
    assert "stored factor data hashes to" in str(error)


def test_a_deleted_entry_is_named(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM ledger_entry WHERE idx = :i"), {"i": chain.factor_indices[1]}
        )
    error = _verify_full(chain)
    assert error.index == chain.factor_indices[1]
    assert "missing from the log (deleted)" in str(error)


@pytest.mark.parametrize("position", [0, 100, -1])
def test_a_changed_report_byte_fails_its_receipt(chain: Chain, position: int) -> None:
    receipt = Receipt.parse(chain.receipt.read_bytes())
    verifier = load_ledger_verifier(chain.workspace)
    assert verify_receipt(receipt, verifier, files=[chain.report_file]).index == chain.report_index
    data = bytearray(chain.report_file.read_bytes())
    data[position] ^= 0x01
    chain.report_file.write_bytes(bytes(data))
    with pytest.raises(ReceiptError):
        verify_receipt(receipt, verifier, files=[chain.report_file])
    vkey = chain.workspace / "keys" / "ledger.vkey"
    result = runner.invoke(app, ["verify", str(chain.receipt), "--key", str(vkey)], env={})
    assert isinstance(result.exception, ReceiptError)
    assert "inventory.json" in str(result.exception)


def test_a_changed_byte_of_the_kept_report_copy_names_the_report(chain: Chain) -> None:
    digest = Ledger(chain.engine).entry(chain.report_index).content()["files"]["inventory.json"]
    with chain.engine.connect() as connection:
        body = bytearray(
            connection.execute(
                text("SELECT body FROM documents WHERE sha256 = :d"), {"d": digest}
            ).scalar_one()
        )
    body[len(body) // 2] ^= 0x01
    with chain.engine.begin() as connection:
        connection.execute(
            text("UPDATE documents SET body = :b WHERE sha256 = :d"),
            {"b": bytes(body), "d": digest},
        )
    error = _verify_full(chain)
    assert error.index == chain.report_index
    assert "kept copy of inventory.json" in str(error)


def test_a_deleted_report_copy_names_the_report(chain: Chain) -> None:
    digest = Ledger(chain.engine).entry(chain.report_index).content()["files"]["inventory.json"]
    with chain.engine.begin() as connection:
        deleted = connection.execute(
            text("DELETE FROM documents WHERE sha256 = :d"), {"d": digest}
        ).rowcount
    assert deleted == 1
    error = _verify_full(chain)
    assert error.index == chain.report_index
    assert "kept copy of inventory.json is missing" in str(error)


def test_a_full_verification_writes_nothing(chain: Chain) -> None:
    """The audit reads only: no derived activity (or anything else) is stored by it."""

    def row_counts() -> dict[str, int]:
        with chain.engine.connect() as connection:
            names = [
                name
                for name in connection.dialect.get_table_names(connection)
                if name != "alembic_version"
            ]
            return {
                name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in names
            }

    before = row_counts()
    result = runner.invoke(app, ["ledger", "verify", "--full"], env=chain.env)
    assert result.exception is None, result.output
    assert row_counts() == before


def test_a_full_verification_passes_on_a_read_only_database(chain: Chain) -> None:
    url = make_url(chain.env["CARBONLINK_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        read_only = f"sqlite:///file:{url.database}?mode=ro&uri=true"
    else:
        options = f"{url.query['options']} -cdefault_transaction_read_only=on"
        read_only = url.update_query_dict({"options": options}).render_as_string(False)
    env = {**chain.env, "CARBONLINK_DATABASE_URL": read_only}
    result = runner.invoke(app, ["ledger", "verify", "--full"], env=env)
    assert result.exception is None, result.output
    assert "recomputed 1 calculation-run entries" in result.output
