"""REST routes under /api/v1/ledger: the signed checkpoint, proofs and entries, for auditors.

What a verifier needs to check the log from outside: the latest C2SP signed checkpoint, RFC
9162 inclusion (§2.1.3) and consistency (§2.1.4) proofs from the stored hashes, and each entry's
canonical bytes. Callers need the ``ledger`` permission (the auditor and admin roles). The log
is the service database's one ledger; hashes are base64, as in the checkpoint note itself.

The ledger is not yet kept per organization: while users of more than one organization share
the database, the checkpoint and proofs (hashes and sizes only) are served but the entries'
content is refused, since it names other organizations' files and batches.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, ServiceContext, requires
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.security import ForbiddenError, Principal
from carbonlink.errors import InputError
from carbonlink.ledger import Ledger, ProofError
from carbonlink.ledger.merkle import leaf_hash
from carbonlink.store.tenant_data import organizations_with_users

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
Auditor = Annotated[Principal, requires("ledger")]
READ = problem_responses(401, 403, 404, 422)
LARGEST_INDEX = 2**62
"""Indices and sizes above this cannot exist (the log counts in signed 64-bit integers)."""
HASH_EXAMPLE = "oRNxWVuPfaYRbMilQYwiK7zGG2dB7ZLQC0IlVdDYvuc="


class CheckpointOut(BaseModel):
    origin: str = Field(examples=["carbonlink.local/demo-workspace-2a1fdb31"])
    size: int = Field(examples=[9])
    root_hash: str = Field(description="base64 of the 32-byte root hash", examples=[HASH_EXAMPLE])
    note: str = Field(
        description="the C2SP signed note exactly as signed, with any witness cosignatures",
        examples=[
            "carbonlink.local/demo-workspace-2a1fdb31\n9\n" + HASH_EXAMPLE + "\n\n— "
            "carbonlink.local/demo-workspace-2a1fdb31 4mey7d5P…\n"
        ],
    )


class InclusionProofOut(BaseModel):
    index: int = Field(examples=[3])
    size: int = Field(examples=[9])
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 ‖ entry)", examples=[HASH_EXAMPLE])
    hashes: list[str] = Field(
        description="base64 of each 32-byte proof hash, in RFC 9162 order", examples=[[]]
    )


class ConsistencyProofOut(BaseModel):
    first: int = Field(examples=[4])
    second: int = Field(examples=[9])
    hashes: list[str] = Field(
        description="base64 of each 32-byte proof hash, in RFC 9162 order", examples=[[]]
    )


class EntryOut(BaseModel):
    index: int = Field(examples=[2])
    kind: str = Field(examples=["calculation-run"])
    subject: str | None = Field(examples=["calculation-run:05301f87-49a6-42a4-b980-e9b5374417a7"])
    entry: str = Field(
        description="base64 of the entry's RFC 8785 canonical bytes, exactly as hashed",
        examples=["eyJraW5kIjoiZmFjdG9yLXNldCIsLi4ufQ=="],
    )
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 ‖ entry)", examples=[HASH_EXAMPLE])
    content: dict[str, Any] = Field(
        description="the entry's JSON object, parsed from those bytes",
        examples=[{"v": 1, "kind": "factor-set", "name": "carbonlink-factors"}],
    )


def _one_organization(ctx: ServiceContext) -> None:
    """Refuse entry content while the database serves users of several organizations."""
    if organizations_with_users(ctx.engine) > 1:
        raise ForbiddenError(
            "ledger entries are not shown while several organizations share this service",
            hint="check receipts offline with 'carbonlink verify', or use the proofs and "
            "checkpoint, which carry hashes only",
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/checkpoint", response_model=CheckpointOut, responses=READ)
def checkpoint(caller: Auditor, ctx: Context) -> CheckpointOut:
    """The latest signed checkpoint of the ledger (with any witness cosignatures)."""
    ledger = Ledger(ctx.engine)
    latest = ledger.latest_checkpoint()
    if latest is None:
        raise NotFoundError(
            "the ledger has not signed a checkpoint yet",
            hint="sign one with 'carbonlink ledger checkpoint'",
        )
    return CheckpointOut(
        origin=latest.checkpoint.origin,
        size=latest.size,
        root_hash=_b64(latest.root_hash),
        note=ledger.cosigned_checkpoint(latest.size).decode("utf-8"),
    )


@router.get("/proof/inclusion", response_model=InclusionProofOut, responses=READ)
def inclusion_proof(
    caller: Auditor,
    ctx: Context,
    index: Annotated[int, Query(ge=0, le=LARGEST_INDEX, description="entry index")],
    size: Annotated[
        int, Query(ge=1, le=LARGEST_INDEX, description="tree size, e.g. a checkpoint's")
    ],
) -> InclusionProofOut:
    """Inclusion proof of entry ``index`` in the tree of ``size`` entries (RFC 9162 §2.1.3)."""
    ledger = Ledger(ctx.engine)
    try:
        hashes = ledger.inclusion_proof(index, size)
    except ProofError as exc:
        raise InputError(exc.message, hint="ask with 0 ≤ index < size ≤ the ledger's size") from exc
    return InclusionProofOut(
        index=index,
        size=size,
        leaf_hash=_b64(leaf_hash(ledger.entry(index).body)),
        hashes=[_b64(h) for h in hashes],
    )


@router.get("/proof/consistency", response_model=ConsistencyProofOut, responses=READ)
def consistency_proof(
    caller: Auditor,
    ctx: Context,
    first: Annotated[int, Query(ge=1, le=LARGEST_INDEX, description="size of the older tree")],
    second: Annotated[int, Query(ge=1, le=LARGEST_INDEX, description="size of the newer tree")],
) -> ConsistencyProofOut:
    """Consistency proof from the tree of ``first`` entries to ``second`` (RFC 9162 §2.1.4)."""
    try:
        hashes = Ledger(ctx.engine).consistency_proof(first, second)
    except ProofError as exc:
        raise InputError(
            exc.message, hint="ask with 1 ≤ first ≤ second ≤ the ledger's size"
        ) from exc
    return ConsistencyProofOut(first=first, second=second, hashes=[_b64(h) for h in hashes])


@router.get("/entries/{index}", response_model=EntryOut, responses=READ)
def entry(
    caller: Auditor, ctx: Context, index: Annotated[int, Path(ge=0, le=LARGEST_INDEX)]
) -> EntryOut:
    """One entry: its canonical bytes (what its leaf hash covers) and its parsed content."""
    _one_organization(ctx)
    ledger = Ledger(ctx.engine)
    size = ledger.size()
    if index >= size:
        raise NotFoundError(f"the ledger has no entry {index} (it holds {size})")
    found = ledger.entry(index)
    return EntryOut(
        index=found.index,
        kind=found.kind,
        subject=found.subject,
        entry=_b64(found.body),
        leaf_hash=_b64(leaf_hash(found.body)),
        content=found.content(),
    )
