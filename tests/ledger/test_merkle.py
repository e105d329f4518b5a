"""RFC 6962 / 9162 Merkle trees: published roots, a recursive reference, and mutated proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.ledger import merkle
from carbonlink.ledger.errors import ProofError

# The eight leaves of the RFC 6962 test vectors (REFERENCE.md §7; certificate-transparency).
RFC6962_LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC6962_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


# -- the RFC's recursive definitions, written straight from the text -------------------------


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, recursively."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


# -- published vectors -----------------------------------------------------------------------


@pytest.mark.parametrize("size", sorted(RFC6962_ROOTS))
def test_published_rfc6962_roots(size: int) -> None:
    tree = merkle.MemoryTree(RFC6962_LEAVES)
    assert tree.root(size).hex() == RFC6962_ROOTS[size]
    assert ref_mth(RFC6962_LEAVES[:size]).hex() == RFC6962_ROOTS[size]


@pytest.mark.parametrize("size", range(1, 9))
def test_every_prefix_of_the_rfc_leaves_matches_the_recursive_reference(size: int) -> None:
    tree = merkle.MemoryTree(RFC6962_LEAVES)
    assert tree.root(size) == ref_mth(RFC6962_LEAVES[:size])


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.MemoryTree().root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_stored_hashes_are_about_two_per_leaf() -> None:
    tree = merkle.MemoryTree(bytes([i % 256]) for i in range(1000))
    stored = sum(len(row) for row in tree.rows) // merkle.HASH_SIZE
    assert stored == merkle.stored_hash_count(1000) == 2 * 1000 - bin(1000).count("1")


def test_frontier_root_equals_reference_after_each_append() -> None:
    frontier = merkle.Frontier()
    leaves: list[bytes] = []
    for i in range(40):
        leaves.append(i.to_bytes(2, "big"))
        frontier.append(leaves[-1])
        assert frontier.root() == ref_mth(leaves)


# -- property tests against the reference ----------------------------------------------------

sizes_and_index = st.integers(min_value=1, max_value=200).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n - 1))
)
sizes_pair = st.integers(min_value=1, max_value=200).flatmap(
    lambda n: st.tuples(st.integers(min_value=1, max_value=n), st.just(n))
)


def _leaves(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


@settings(max_examples=300, deadline=None)
@given(sizes_and_index)
def test_inclusion_proofs_match_reference_and_verify(case: tuple[int, int]) -> None:
    n, m = case
    leaves = _leaves(n)
    tree = merkle.MemoryTree(leaves)
    proof = tree.inclusion_proof(m, n)
    assert proof == ref_path(m, leaves)
    assert len(proof) == merkle.inclusion_proof_length(m, n)
    merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, proof, ref_mth(leaves))


@settings(max_examples=300, deadline=None)
@given(sizes_pair)
def test_consistency_proofs_match_reference_and_verify(case: tuple[int, int]) -> None:
    m, n = case
    leaves = _leaves(n)
    tree = merkle.MemoryTree(leaves)
    proof = tree.consistency_proof(m, n)
    assert proof == ref_subproof(m, leaves, True)
    assert len(proof) == merkle.consistency_proof_length(m, n)
    merkle.verify_consistency(m, n, ref_mth(leaves[:m]), ref_mth(leaves), proof)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=70), st.data())
def test_arbitrary_entries_prove_inclusion(leaves: list[bytes], data: st.DataObject) -> None:
    tree = merkle.MemoryTree(leaves)
    n = len(leaves)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    assert tree.root() == ref_mth(leaves)
    merkle.verify_inclusion(
        merkle.leaf_hash(leaves[m]), m, n, tree.inclusion_proof(m), ref_mth(leaves)
    )


# -- every mutated proof is rejected ---------------------------------------------------------


def _bit_flips(proof: list[bytes]) -> list[list[bytes]]:
    mutated = []
    for i, value in enumerate(proof):
        for bit in (0, 7, 8 * 31 + 5):
            changed = bytearray(value)
            changed[bit // 8] ^= 1 << (bit % 8)
            mutated.append([*proof[:i], bytes(changed), *proof[i + 1 :]])
    return mutated


def _reshaped(proof: list[bytes]) -> list[list[bytes]]:
    """Truncated, extended, reordered, and with hashes of the wrong length."""
    shapes = [[*proof, b"\x00" * 32], [b"\x11" * 32, *proof], proof + proof[-1:]]
    if proof:
        shapes += [
            proof[:-1],
            proof[1:],
            [proof[0][:31], *proof[1:]],
            [proof[0] + b"\x00", *proof[1:]],
        ]
    if len(proof) > 1:
        shapes.append(list(reversed(proof)))
    return [shape for shape in shapes if shape != proof]


@settings(max_examples=150, deadline=None)
@given(sizes_and_index)
def test_every_mutated_inclusion_proof_is_rejected(case: tuple[int, int]) -> None:
    n, m = case
    leaves = _leaves(2 * n + 1)
    tree = merkle.MemoryTree(leaves)
    root = tree.root(n)
    proof = tree.inclusion_proof(m, n)
    leaf = merkle.leaf_hash(leaves[m])
    merkle.verify_inclusion(leaf, m, n, proof, root)
    for mutated in _bit_flips(proof) + _reshaped(proof):
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, m, n, mutated, root)
    # The proof of size n, claimed for another size (with that size's true root).
    for wrong_size in {n - 1, n + 1, 2 * n} - {n}:
        if m < wrong_size:
            with pytest.raises(ProofError):
                merkle.verify_inclusion(leaf, m, wrong_size, proof, tree.root(wrong_size))
    for wrong_index in {m - 1, m + 1, n} - {-1, m}:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, wrong_index, n, proof, root)
    other_leaf = merkle.leaf_hash(leaves[m] + b"!")
    for bad_leaf in (leaf[:31], leaf + b"\x00", other_leaf):
        with pytest.raises(ProofError):
            merkle.verify_inclusion(bad_leaf, m, n, proof, root)
    for bad_root in (bytes([root[0] ^ 1]) + root[1:], root[:31], root + b"\x00"):
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, m, n, proof, bad_root)


@settings(max_examples=150, deadline=None)
@given(sizes_pair)
def test_every_mutated_consistency_proof_is_rejected(case: tuple[int, int]) -> None:
    m, n = case
    tree = merkle.MemoryTree(_leaves(n + 2))
    old_root, new_root = tree.root(m), tree.root(n)
    proof = tree.consistency_proof(m, n)
    merkle.verify_consistency(m, n, old_root, new_root, proof)
    for mutated in _bit_flips(proof) + _reshaped(proof):
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, old_root, new_root, mutated)
    # The proof claimed for other sizes (each with its true root).
    for wrong_first in {m - 1, m + 1} - {0, m}:
        if wrong_first <= n:
            with pytest.raises(ProofError):
                merkle.verify_consistency(wrong_first, n, tree.root(wrong_first), new_root, proof)
    for wrong_second in (n + 1, n + 2):
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, wrong_second, old_root, tree.root(wrong_second), proof)
    if m < n:
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, tree.root(m + 1), new_root, proof)
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, old_root, tree.root(n + 1), proof)
    for bad in (old_root[:31], bytes([old_root[0] ^ 1]) + old_root[1:]):
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, bad, new_root, proof)


def test_consistency_edge_cases() -> None:
    tree = merkle.MemoryTree(_leaves(5))
    merkle.verify_consistency(5, 5, tree.root(5), tree.root(5), [])
    merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, tree.root(5), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(5, 5, tree.root(5), tree.root(4), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 5, tree.root(1), tree.root(5), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(4, 3, tree.root(4), tree.root(3), [])
    with pytest.raises(ProofError):
        merkle.consistency_proof(0, 5, tree)
    with pytest.raises(ProofError):
        merkle.inclusion_proof(5, 5, tree)
