"""Calculation runs: metered activity, cited inputs and the results hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ledger import Ledger, TamperError
from carbonlink.provenance import (
    account_recorded,
    recompute_calculation_run,
    record_import_batch,
    results_sha256,
)
from carbonlink.store import Store
from conftest import MAPPING, Chain, inventory_text


def test_metered_activity_equals_the_same_quantity_typed_in(chain: Chain) -> None:
    """1000 + 2000 + 3000 kWh in 2025 (the 2024 reading left out) = 6 MWh."""
    typed = account(parse_inventory(inventory_text(6.0)))
    power = [line for line in typed.lines() if line["source"] == "power"]
    assert power[0]["activity"]["quantity"] == 6.0
    assert chain.tco2e == pytest.approx(sum(line["tco2e"] for line in power), rel=1e-15)


def test_the_run_cites_its_inputs_and_hashes_its_results(chain: Chain) -> None:
    ledger = Ledger(chain.engine)
    content = ledger.entry(chain.run_index).content()
    assert content["inputs"] == [*chain.factor_indices, chain.import_index]
    assert [ledger.entry(i).kind for i in content["inputs"]] == [
        "factor-set",
        "factor-set",
        "import-batch",
    ]
    settings = content["settings"]
    assert settings["gwp"] == "AR5"
    assert settings["period"] == "2025-01-01/2025-12-31"
    assert settings["jurisdiction"] == "CN"
    assert settings["meters"] == ["m-grid"]
    assert settings["import_batches"] == {chain.batch_id: chain.import_index}
    stored = Store(chain.engine).document(settings["inventory_sha256"])
    assert stored.body == inventory_text().encode()
    recompute_calculation_run(ledger.entry(chain.run_index), ledger)  # does not raise


def test_results_hash_ignores_key_order_but_not_values() -> None:
    assert results_sha256({"a": 1.5, "b": [1, 2]}) == results_sha256({"b": [1, 2], "a": 1.5})
    assert results_sha256({"a": 1.5}) != results_sha256({"a": 1.5000000000000002})


def test_a_second_run_cites_the_factor_sets_it_already_recorded(chain: Chain) -> None:
    ledger, store = Ledger(chain.engine), Store(chain.engine)
    run = account_recorded(
        ledger, store, chain.workspace, inventory_text(2.0), file_name="inventory.yaml"
    )
    assert run.inputs == tuple(chain.factor_indices)
    assert run.computation.lines()[0]["activity"]["quantity"] == 2.0
    assert ledger.size() == chain.report_index + 2


def test_changing_the_workspace_factors_records_a_new_factor_set(chain: Chain) -> None:
    table = chain.workspace / "factors" / "own.csv"
    table.write_text(table.read_text().replace("0.4321", "0.4322"), "utf-8")
    run = account_recorded(
        Ledger(chain.engine),
        Store(chain.engine),
        chain.workspace,
        inventory_text(2.0),
        file_name="inventory.yaml",
    )
    assert run.inputs[0] == chain.factor_indices[0]
    assert run.inputs[1] == chain.report_index + 1


def test_a_later_import_into_the_meter_is_reported_against_the_run(
    chain: Chain, tmp_path: Path
) -> None:
    """The run cited the batches its meter's readings came from; new ones make it stale."""
    later = tmp_path / "later.csv"
    later.write_text("day_start,grid_kWh\n2025-01-04 00:00,500\n", "utf-8")
    store, ledger = Store(chain.engine), Ledger(chain.engine)
    report = import_file(later, FileMapping.model_validate(MAPPING), store)
    record_import_batch(store, ledger, report.batch_id)
    with pytest.raises(TamperError, match="re-running it") as caught:
        recompute_calculation_run(ledger.entry(chain.run_index), ledger)
    assert report.batch_id in str(caught.value.hint)
