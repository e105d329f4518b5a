"""Registering batch identifiers with an external identifier node (the plug-in point).

carbonlink resolves its own Handles (``/api/handles/…``), but an enterprise in China's
Identifier Resolution System also registers them with the secondary node that assigned its
prefix, so that the national resolution system finds them. That node's interface differs from
node to node; carbonlink talks to it through an adapter.

The adapter contract (`IdentifierNode`):

- ``name`` — a short name for messages and records;
- ``register(record)`` — create or replace the Handle ``record.handle`` with ``record.values``
  (Handle values as the Handle System's REST API writes them: ``index``, ``type``,
  ``data: {format, value}``, ``ttl``), idempotently: registering the same record twice leaves
  the node as once. It returns a `Registration` or raises `IdentifierNodeError` saying what
  the node answered and what to do.

Adapters are found by name among the ``carbonlink.identifier_nodes`` entry points, each a
callable taking the adapter's settings as keyword arguments (`load_node`). carbonlink ships
one: `HandleRestNode`, for a node that offers the Handle REST API's ``PUT /api/handles/{handle}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import httpx

from carbonlink.batches.identifiers import handle_path
from carbonlink.batches.passport import passport_document
from carbonlink.batches.store import Batch, StoredPassport
from carbonlink.errors import CarbonlinkError, ConfigError

ENTRY_POINT_GROUP = "carbonlink.identifier_nodes"
HANDLE_TTL = 86400


class IdentifierNodeError(CarbonlinkError, RuntimeError):
    """The identifier node refused or could not be reached."""


@dataclass(frozen=True, slots=True)
class IdentifierRecord:
    """A Handle and the typed values it resolves to."""

    handle: str
    values: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Registration:
    """What a node did with a record: ``registered`` (with the node's reference, if any)."""

    node: str
    handle: str
    status: str
    reference: str | None = None


@runtime_checkable
class IdentifierNode(Protocol):
    """An external node that batch identifiers are registered with."""

    name: str

    def register(self, record: IdentifierRecord) -> Registration: ...


def handle_values(
    batch: Batch, passport: StoredPassport | None, resolver: str
) -> list[dict[str, Any]]:
    """The Handle values of a batch: its page (``URL``), passport JSON and GS1 Digital Link.

    Index 1 ``URL`` the passport page; 2 ``URL.PASSPORT_JSON`` the passport's JSON; 3
    ``PASSPORT_JSON`` the public passport itself; 4 ``GS1_DIGITAL_LINK``. Timestamps are the
    passport's issue time (the epoch while none is issued).
    """
    if batch.handle is None:
        return []
    where = handle_path(batch.handle)
    base = resolver.rstrip("/")
    stamp = "1970-01-01T00:00:00Z"
    if passport is not None:
        stamp = passport.issued_at.isoformat().replace("+00:00", "Z")

    def value(index: int, kind: str, data: str) -> dict[str, Any]:
        return {
            "index": index,
            "type": kind,
            "data": {"format": "string", "value": data},
            "ttl": HANDLE_TTL,
            "timestamp": stamp,
        }

    values = [value(1, "URL", f"{base}/passports/{where}")]
    if passport is not None:
        values.append(value(2, "URL.PASSPORT_JSON", f"{base}/api/passports/{where}"))
        try:
            document = json.dumps(passport_document(passport), ensure_ascii=False)
        except ValueError:
            document = None  # unreadable in the store: the URLs still lead to the producer
        if document is not None:
            values.append(value(3, "PASSPORT_JSON", document))
    if batch.gs1 is not None:
        values.append(value(4, "GS1_DIGITAL_LINK", batch.gs1.uri(base)))
    return values


def identifier_record(
    batch: Batch, passport: StoredPassport | None, resolver: str
) -> IdentifierRecord:
    """The record to register for a batch (its Handle must be set)."""
    if batch.handle is None:
        raise ConfigError(f"batch {batch.batch_id} has no Handle to register")
    return IdentifierRecord(batch.handle, handle_values(batch, passport, resolver))


def load_node(name: str, **options: Any) -> IdentifierNode:
    """The adapter ``name`` from the ``carbonlink.identifier_nodes`` entry points."""
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        known = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)))
        raise ConfigError(
            f"no identifier node adapter named {name!r}",
            hint=f"installed adapters: {known or 'none'}",
        )
    factory: Callable[..., IdentifierNode] = found[0].load()
    node = factory(**options)
    if not isinstance(node, IdentifierNode):
        raise ConfigError(f"adapter {name!r} does not offer name and register(record)")
    return node


class HandleRestNode:
    """A node offering the Handle REST API's ``PUT /api/handles/{handle}`` (e.g. a Handle.Net
    server, or a secondary node with that interface), authenticated as the node prescribes."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "handle-rest",
        auth: httpx.Auth | tuple[str, str] | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            verify=verify,
            timeout=timeout,
            transport=transport,
        )

    def register(self, record: IdentifierRecord) -> Registration:
        """Create or replace the Handle with the record's values (PUT is idempotent)."""
        path = f"/api/handles/{handle_path(record.handle)}"
        try:
            response = self._client.put(
                path, params={"overwrite": "true"}, json={"values": record.values}
            )
        except httpx.HTTPError as exc:
            raise IdentifierNodeError(
                f"identifier node {self.name} is unreachable: {exc}",
                record=record.handle,
                hint="check the node's address and that it is up, then register again",
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code not in (200, 201) or body.get("responseCode") != 1:
            raise IdentifierNodeError(
                f"identifier node {self.name} answered {response.status_code} "
                f"(responseCode {body.get('responseCode')}): {body.get('message', '')}".rstrip(
                    ": "
                ),
                record=record.handle,
                hint="check the node's credentials and that the prefix is yours",
            )
        return Registration(self.name, body.get("handle", record.handle), "registered")

    def close(self) -> None:
        self._client.close()
