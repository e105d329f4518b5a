"""Whole-log verification: checkpoints, the stored tree and, with a hook, each calculation.

`verify_ledger` checks what an auditor with database access can check:

1. every stored checkpoint is signed by the log's key, and each is consistent with the latest
   (RFC 9162 consistency proofs from the stored hashes);
2. with ``full=True``, it rebuilds the tree from the stored entry bytes and compares every
   stored hash, every entry's canonical form and references, and the roots of every signed
   checkpoint — naming the first entry that does not match;
3. with ``full=True``, it hands each entry to the recompute functions registered for its kind
   (e.g. re-running a calculation from the raw data it cites).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from sqlalchemy import select

from carbonlink.errors import InputError
from carbonlink.ledger import merkle
from carbonlink.ledger.entries import LedgerEntry, parse_entry, referenced_indices
from carbonlink.ledger.errors import ProofError, TamperError
from carbonlink.ledger.log import Ledger, SignedCheckpoint
from carbonlink.ledger.note import Verifier
from carbonlink.ledger.schema import ledger_entry, ledger_hash

RECOMPUTE_ENTRY_POINTS = "carbonlink.ledger.recompute"

RecomputeFunction = Callable[[LedgerEntry, Ledger], None]
"""Re-derives an entry from the data it cites; raises `LedgerError` (or returns) — never edits."""


class RecomputeRegistry:
    """Recompute functions per entry kind, consulted by ``verify --full``.

    Other layers register theirs, either directly (``registry.register("calculation-run", f)``)
    or through the ``carbonlink.ledger.recompute`` entry-point group, whose entry names are
    entry kinds and whose objects are the functions.
    """

    def __init__(self) -> None:
        self._functions: dict[str, list[RecomputeFunction]] = {}

    def register(self, kind: str, function: RecomputeFunction) -> RecomputeFunction:
        self._functions.setdefault(str(kind), []).append(function)
        return function

    def functions(self, kind: str) -> list[RecomputeFunction]:
        return list(self._functions.get(kind, []))

    def kinds(self) -> list[str]:
        return sorted(self._functions)

    @classmethod
    def from_entry_points(cls) -> RecomputeRegistry:
        registry = cls()
        for point in entry_points(group=RECOMPUTE_ENTRY_POINTS):
            registry.register(point.name, point.load())
        return registry


@dataclass
class VerificationReport:
    """What was checked."""

    size: int
    checkpoints: int = 0
    latest_checkpoint: int | None = None
    entries_rebuilt: int = 0
    recomputed: dict[str, int] = field(default_factory=dict)


def verify_ledger(
    ledger: Ledger,
    log_key: Verifier,
    *,
    full: bool = False,
    recompute: RecomputeRegistry | None = None,
    chunk: int = 10_000,
) -> VerificationReport:
    """Verify the stored log; raise `TamperError` or `SignatureError` at the first problem."""
    size = ledger.size()
    report = VerificationReport(size=size)
    checkpoints = ledger.checkpoints()
    report.checkpoints = len(checkpoints)
    for signed in checkpoints:
        ledger.verify_checkpoint_signature(signed, log_key)
    if full:
        # Rebuilding first names the damaged entry; the checkpoint checks below only see
        # that some stored hash under a signed root changed.
        _rebuild(ledger, size, {c.size: c.root_hash for c in checkpoints}, report, chunk)
    if checkpoints:
        _check_checkpoints(ledger, size, checkpoints, report)
    if full and recompute is not None:
        _recompute(ledger, size, recompute, report)
    return report


def _check_checkpoints(
    ledger: Ledger, size: int, checkpoints: list[SignedCheckpoint], report: VerificationReport
) -> None:
    """The latest checkpoint matches the stored tree, and every earlier one is consistent."""
    latest = checkpoints[-1]
    report.latest_checkpoint = latest.size
    if latest.size > size:
        raise TamperError(
            f"the log has {size} entries but a checkpoint for {latest.size} was signed",
            index=size,
            hint="entries were deleted; restore them from a backup",
        )
    if ledger.root(latest.size) != latest.root_hash:
        raise TamperError(
            f"stored hashes do not give the root of the signed checkpoint {latest.size}",
            hint="run with --full to find the damaged entry",
        )
    for earlier in checkpoints[:-1]:
        try:
            proof = ledger.consistency_proof(earlier.size, latest.size) if earlier.size else []
            merkle.verify_consistency(
                earlier.size, latest.size, earlier.root_hash, latest.root_hash, proof
            )
        except ProofError as exc:
            raise TamperError(
                f"checkpoint {earlier.size} is not consistent with checkpoint {latest.size}: {exc}",
                hint="run with --full to find the damaged entry",
            ) from exc


def _rebuild(
    ledger: Ledger,
    size: int,
    signed_roots: dict[int, bytes],
    report: VerificationReport,
    chunk: int,
) -> None:
    frontier = merkle.Frontier()
    with ledger.engine.connect() as connection:
        for column, what in ((ledger_entry.c.idx, "entries"), (ledger_hash.c.leaf, "hashes")):
            beyond = connection.execute(select(column).where(column >= size).limit(1)).scalar()
            if beyond is not None:
                raise TamperError(
                    f"stored {what} exist beyond the log size {size} (first: {beyond})",
                    index=int(beyond),
                )
    for lo in range(0, size, chunk):
        hi = min(lo + chunk, size)
        with ledger.engine.connect() as connection:
            entries = {
                int(row.idx): row
                for row in connection.execute(
                    select(ledger_entry).where(ledger_entry.c.idx >= lo, ledger_entry.c.idx < hi)
                )
            }
            stored = dict(
                connection.execute(
                    select(ledger_hash.c.leaf, ledger_hash.c.hashes).where(
                        ledger_hash.c.leaf >= lo, ledger_hash.c.leaf < hi
                    )
                ).all()
            )
        for index in range(lo, hi):
            row = entries.get(index)
            if row is None:
                raise TamperError(
                    f"entry {index} is missing from the log (deleted)",
                    index=index,
                    hint="restore it from a backup; entries are never deleted",
                )
            body = bytes(row.body)
            _check_entry(index, row.kind, body)
            expected = b"".join(frontier.append(body))
            actual = stored.get(index)
            if actual is None:
                raise TamperError(f"stored hashes of entry {index} are missing", index=index)
            actual = bytes(actual)
            if actual != expected:
                if actual[: merkle.HASH_SIZE] != expected[: merkle.HASH_SIZE]:
                    raise TamperError(
                        f"entry {index} does not match its stored leaf hash (the entry bytes "
                        "or the hash were changed)",
                        index=index,
                    )
                raise TamperError(
                    f"a stored subtree hash in the row of entry {index} was altered",
                    index=index,
                )
            if frontier.size in signed_roots and frontier.root() != signed_roots[frontier.size]:
                raise TamperError(
                    f"the rebuilt tree of {frontier.size} entries does not match the signed "
                    "checkpoint of that size (entries and hashes were rewritten together)",
                    index=index,
                )
            report.entries_rebuilt += 1


def _check_entry(index: int, kind: str, body: bytes) -> None:
    try:
        content = parse_entry(body)
    except InputError as exc:
        raise TamperError(
            f"entry {index} is not a valid entry: {exc.message}", index=index
        ) from exc
    if content.get("kind") != kind:
        raise TamperError(
            f"entry {index} is stored as kind {kind!r} but its bytes say {content.get('kind')!r}",
            index=index,
        )
    for reference in referenced_indices(content):
        if not isinstance(reference, int) or not 0 <= reference < index:
            raise TamperError(
                f"entry {index} refers to entry {reference}, which does not precede it",
                index=index,
            )


def _recompute(
    ledger: Ledger, size: int, registry: RecomputeRegistry, report: VerificationReport
) -> None:
    kinds = set(registry.kinds())
    if not kinds:
        return
    for entry in ledger.entries(0, size):
        if entry.kind not in kinds:
            continue
        for function in registry.functions(entry.kind):
            try:
                function(entry, ledger)
            except TamperError:
                raise
            except Exception as exc:
                raise TamperError(
                    f"entry {entry.index} ({entry.kind}) does not recompute: {exc}",
                    index=entry.index,
                ) from exc
        report.recomputed[entry.kind] = report.recomputed.get(entry.kind, 0) + 1
