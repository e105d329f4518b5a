"""Registering a coil's Handle with an external node through the adapter contract.

The node is a second process (handle_node.py) speaking the Handle REST API; the shipped
adapter `HandleRestNode` is found through its entry point, registers the coil's record, and
the node then resolves the Handle to the values carbonlink's own resolver serves.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from browser_support import free_port
from passport_fixture import COILS, PREFIX, RESOLVER, seed_passports
from plant_fixture import DEMO_ORG_ID

from carbonlink.batches.registry import (
    HandleRestNode,
    IdentifierNode,
    IdentifierNodeError,
    identifier_record,
    load_node,
)
from carbonlink.batches.store import BatchStore
from carbonlink.errors import ConfigError

NODE = Path(__file__).with_name("handle_node.py")


@pytest.fixture
def node_url() -> Iterator[str]:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(NODE), str(port)], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_adapter_registers_the_coils_handle_with_the_node(
    engine: sa.Engine, tmp_path: Path, node_url: str
) -> None:
    seed_passports(engine, DEMO_ORG_ID, tmp_path)
    store = BatchStore(engine, DEMO_ORG_ID)
    batch = store.batch(COILS[0])
    assert batch is not None
    record = identifier_record(batch, store.passport(COILS[0]), RESOLVER)
    node = load_node(
        "handle-rest", base_url=node_url, auth=("300:88.123.4567/admin", "node-secret")
    )
    assert isinstance(node, IdentifierNode) and isinstance(node, HandleRestNode)
    done = node.register(record)
    again = node.register(record)  # idempotent: the same record replaces itself
    assert (done.status, done.handle, again.handle) == ("registered", record.handle, record.handle)
    resolved = httpx.get(f"{node_url}/api/handles/{PREFIX}/{COILS[0]}").json()
    assert resolved["responseCode"] == 1
    assert resolved["values"] == record.values
    assert [v["type"] for v in resolved["values"]] == [
        "URL",
        "URL.PASSPORT_JSON",
        "PASSPORT_JSON",
        "GS1_DIGITAL_LINK",
    ]
    node.close()
    # Wrong credentials and an unreachable node are said, with what to do.
    intruder = HandleRestNode(node_url, auth=("300:88.123.4567/admin", "guess"))
    with pytest.raises(IdentifierNodeError, match=r"answered 401 \(responseCode 402\)"):
        intruder.register(record)
    intruder.close()
    gone = HandleRestNode(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(IdentifierNodeError, match="unreachable"):
        gone.register(record)
    gone.close()
    with pytest.raises(ConfigError, match="no identifier node adapter named 'ftp'"):
        load_node("ftp")
