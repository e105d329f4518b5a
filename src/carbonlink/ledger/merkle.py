"""Merkle tree hashing, proofs and their verification per RFC 9162 (Certificate Transparency v2).

Everything here is pure: it works on hashes handed to it through a `HashSource`, so the same
code serves the database-backed log, an in-memory tree and an offline verifier.

Tree (RFC 9162 §2.1.1): for the leaves ``D[0:n]``

- ``MTH({}) = SHA-256()``
- ``MTH({d}) = SHA-256(0x00 ‖ d)``
- ``MTH(D[0:n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`` with ``k`` the largest power of
  two smaller than ``n``.

Stored hashes: only hashes of *complete* subtrees are ever stored. The complete subtree at
``level`` L with position ``k`` covers leaves ``[k·2^L, (k+1)·2^L)``; it becomes known when leaf
``(k+1)·2^L − 1`` is appended. We keep, per leaf, the leaf hash followed by the hashes of the
subtrees that leaf completes (level 1, 2, … in order) — the stored-hash order of Go's sumdb
``tlog`` package grouped by the leaf that completes them, about two hashes per leaf in all. Any
other subtree of the RFC recursion is a right-edge subtree, whose hash is a fold of at most
``log2 n`` complete subtrees, so a root, an inclusion proof or a consistency proof needs
``O(log n)`` stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from carbonlink.ledger.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Position = tuple[int, int]
"""A complete subtree: ``(level, k)`` covers leaves ``[k·2^level, (k+1)·2^level)``."""

Span = tuple[int, int]
"""A subtree of the RFC recursion as the half-open leaf range ``[lo, hi)``."""


def leaf_hash(entry: bytes) -> bytes:
    """Hash of one log entry: ``SHA-256(0x00 ‖ entry)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: ``SHA-256(0x01 ‖ left ‖ right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n ≥ 2``): where RFC 9162 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def completing_leaf(position: Position) -> int:
    """Index of the leaf whose append completes the subtree at ``position``."""
    level, k = position
    return ((k + 1) << level) - 1


def stored_hash_count(size: int) -> int:
    """Number of hashes stored for a tree of ``size`` leaves: ``Σ_j (1 + trailing ones of j)``."""
    return 2 * size - bin(size).count("1")


def complete_subtrees(lo: int, hi: int) -> list[Position]:
    """The complete subtrees that make up ``[lo, hi)``, left to right, largest first.

    ``lo`` must be a multiple of a power of two at least ``hi − lo`` (true of every subtree
    in the RFC recursion, and of ``[0, n)``), so the pieces are the binary digits of ``hi − lo``.
    """
    pieces: list[Position] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash of a right-edge subtree from its complete pieces (largest first), per RFC 9162."""
    result = hashes[-1]
    for piece in reversed(hashes[:-1]):
        result = node_hash(piece, result)
    return result


class HashSource(Protocol):
    """Where stored complete-subtree hashes come from (a database, a list in memory)."""

    def read_hashes(self, positions: Sequence[Position]) -> dict[Position, bytes]:
        """Return the stored hash of each complete subtree asked for."""
        ...


def inclusion_path(index: int, size: int) -> list[Span]:
    """The subtrees whose hashes form the inclusion proof ``PATH(index, D[0:size])``.

    RFC 9162 §2.1.3.1, unrolled: bottom (the leaf's sibling) first, the root's child last.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    spans: list[Span] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            spans.append((lo + k, hi))
            hi = lo + k
        else:
            spans.append((lo, lo + k))
            lo += k
    spans.reverse()
    return spans


def consistency_path(first: int, second: int) -> list[Span]:
    """The subtrees whose hashes form the consistency proof ``PROOF(first, D[0:second])``.

    RFC 9162 §2.1.4.1 (``SUBPROOF`` with ``b = true`` at the top), unrolled: the innermost
    subtree first. Empty when ``first == second``; undefined (an error) for ``first == 0``.
    """
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    spans: list[Span] = []
    lo, hi = 0, second
    whole_old_tree = True  # `b` of the RFC: the old tree is still the full left part
    while True:
        if first == hi:
            if not whole_old_tree:
                spans.append((lo, hi))
            break
        k = split_point(hi - lo)
        if first - lo <= k:
            spans.append((lo + k, hi))
            hi = lo + k
        else:
            spans.append((lo, lo + k))
            lo += k
            whole_old_tree = False
    spans.reverse()
    return spans


def span_hashes(spans: Sequence[Span], source: HashSource) -> list[bytes]:
    """Hashes of the given subtrees, read from ``source`` in a single request."""
    pieces = [complete_subtrees(lo, hi) for lo, hi in spans]
    wanted = sorted({position for group in pieces for position in group})
    stored = source.read_hashes(wanted)
    return [fold_right([stored[position] for position in group]) for group in pieces]


def tree_root(size: int, source: HashSource) -> bytes:
    """Root hash ``MTH(D[0:size])`` from stored hashes (``O(log size)`` reads)."""
    if size == 0:
        return EMPTY_ROOT
    return span_hashes([(0, size)], source)[0]


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1)."""
    return span_hashes(inclusion_path(index, size), source)


def consistency_proof(first: int, second: int, source: HashSource) -> list[bytes]:
    """Consistency proof from the tree of ``first`` leaves to that of ``second`` (§2.1.4.1)."""
    return span_hashes(consistency_path(first, second), source)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte SHA-256 hash")


def inclusion_proof_length(index: int, size: int) -> int:
    """Exact number of hashes in the inclusion proof of ``index`` in a tree of ``size``.

    The path splits into hashes below the point where the leaf's path leaves the tree's right
    edge (bit length of ``index XOR (size − 1)``) and the left siblings above it (set bits).
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + bin(index >> inner).count("1")


def consistency_proof_length(first: int, second: int) -> int:
    """Exact number of hashes in the consistency proof from ``first`` to ``second`` leaves."""
    if first == second:
        return 0
    shift = (first & -first).bit_length() - 1  # trailing zeros of `first`
    inner = ((first - 1) ^ (second - 1)).bit_length() - shift
    border = bin((first - 1) >> ((first - 1) ^ (second - 1)).bit_length()).count("1")
    seed = 0 if first == 1 << shift else 1
    return seed + inner + border


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to, per RFC 9162 §2.1.3.2 (exact length enforced)."""
    _check_hash(leaf, "leaf hash")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for leaf {index} of {size} has {len(proof)} hashes, "
            f"expected exactly {expected}"
        )
    fn, sn = index, size - 1
    result = leaf
    for number, sibling in enumerate(proof):
        _check_hash(sibling, f"inclusion proof hash {number}")
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return result


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` sits at ``index`` in the tree of ``size`` with ``root``, or raise."""
    _check_hash(root, "root hash")
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of {size}")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``second`` leaves extends that of ``first``, or raise.

    RFC 9162 §2.1.4.2, with the proof length checked exactly first.
    """
    _check_hash(first_root, "first root hash")
    _check_hash(second_root, "second root hash")
    for number, value in enumerate(proof):
        _check_hash(value, f"consistency proof hash {number}")
    if first < 0 or second < first:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first == second:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError(f"two different roots for the same size {first}")
        return
    if first == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        if first_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree is not SHA-256 of nothing")
        return
    expected = consistency_proof_length(first, second)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from {first} to {second} has {len(proof)} hashes, "
            f"expected exactly {expected}"
        )
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_result = second_result = path[0]
    for value in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            first_result = node_hash(value, first_result)
            second_result = node_hash(value, second_result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            second_result = node_hash(second_result, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if first_result != first_root:
        raise ProofError(f"consistency proof does not lead to the root of size {first}")
    if second_result != second_root:
        raise ProofError(f"consistency proof does not lead to the root of size {second}")


class Frontier:
    """The complete subtrees on the left of the next leaf: all a writer needs to append.

    Holds one hash per set bit of the tree size (largest subtree first). Appending a leaf
    merges it with the equal-sized subtrees it completes, which are exactly the hashes stored
    in that leaf's row.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != bin(size).count("1"):
            raise ProofError(f"a frontier of size {size} needs {bin(size).count('1')} hashes")

    @classmethod
    def load(cls, size: int, source: HashSource) -> Frontier:
        """Read the frontier of a stored tree of ``size`` leaves (``O(log size)`` hashes)."""
        positions = complete_subtrees(0, size)
        stored = source.read_hashes(positions)
        return cls(size, [stored[position] for position in positions])

    def append(self, entry: bytes) -> list[bytes]:
        """Add one entry; return the hashes its leaf stores (leaf hash, then completed subtrees)."""
        current = hashlib.sha256(b"\x00" + entry).digest()
        row = [current]
        index = self.size
        hashes = self.hashes
        while index & 1:
            current = hashlib.sha256(b"\x01" + hashes.pop() + current).digest()
            row.append(current)
            index >>= 1
        hashes.append(current)
        self.size += 1
        return row

    def root(self) -> bytes:
        """Root hash of the tree so far."""
        return fold_right(self.hashes) if self.hashes else EMPTY_ROOT


class MemoryTree:
    """A Merkle tree kept in memory with the same stored-hash layout as the database log.

    Used for offline tools and tests; it is also the `HashSource` of its own proofs.
    """

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self.entries: list[bytes] = []
        self.rows: list[bytes] = []
        self._frontier = Frontier()
        self.extend(entries)

    @property
    def size(self) -> int:
        return self._frontier.size

    def append(self, entry: bytes) -> int:
        """Append one entry and return its index."""
        self.entries.append(entry)
        self.rows.append(b"".join(self._frontier.append(entry)))
        return self._frontier.size - 1

    def extend(self, entries: Iterable[bytes]) -> None:
        for entry in entries:
            self.append(entry)

    def read_hashes(self, positions: Sequence[Position]) -> dict[Position, bytes]:
        found: dict[Position, bytes] = {}
        for position in positions:
            row = self.rows[completing_leaf(position)]
            offset = position[0] * HASH_SIZE
            found[position] = row[offset : offset + HASH_SIZE]
        return found

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.size if size is None else size, self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(first, self.size if second is None else second, self)
