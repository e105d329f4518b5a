"""All products' footprints at once: the sparse product system (I − A)ᵀ x = d.

A[i, j] is the quantity of product i (in its declared units) that one declared unit of product j
takes; d[j] holds what product j carries itself per declared unit (its own site emissions and the
supplier and secondary-data inputs). A product's cradle-to-gate footprint is its own part plus its
inputs' footprints times their quantities:

    x_j = d_j + Σ_i A[i, j] · x_i      ⇔      (I − Aᵀ) x = d

(the transposed technosphere system of life-cycle assessment; one solve gives every product,
where a demand-vector solve gives one). Supply chains are mostly acyclic: in topological order
(inputs before the products that use them) I − Aᵀ is lower triangular and needs forward
substitution only. Cycles — scrap returned to the furnace — form strongly connected components,
whose diagonal blocks B_S = I − A_SSᵀ are inverted on their own. With B the block-diagonal part
and L the strictly lower part,

    (B − L) x = d   ⇔   (I − B⁻¹L) x = B⁻¹d

and B⁻¹L is still strictly lower triangular, so one triangular solve finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve_triangular

from carbonlink.domain.footprint.errors import SeriesDivergedError, UnsolvableLoopError
from carbonlink.errors import InputError

FloatArray = npt.NDArray[np.float64]

# Loops up to this many products are inverted densely, in batches of equal size.
_DENSE_LOOP_LIMIT = 64


@dataclass(frozen=True, slots=True)
class SolveStatistics:
    """What a solve found: products, edges, loops (strongly connected parts) and their sizes.

    `SeriesSolver` does not look for loops; it reports the number of ``iterations`` instead.
    """

    products: int
    edges: int
    loops: int
    products_in_loops: int
    largest_loop: int
    iterations: int = 0


class TopologicalSolver:
    """Forward substitution in topological order; strongly connected parts inverted per loop."""

    def solve(
        self,
        technosphere: sp.sparray | sp.spmatrix,
        direct: npt.ArrayLike,
        *,
        keys: tuple[str, ...] | None = None,
    ) -> tuple[FloatArray, SolveStatistics]:
        """x with (I − Aᵀ) x = d for ``technosphere`` A (n × n) and ``direct`` d (n or n × k).

        ``keys`` name the products in error messages (indices are used without them).
        """
        usage, d = _checked(technosphere, direct)
        n = usage.shape[0]
        n_comp, labels = connected_components(usage, directed=True, connection="strong")
        user_label = labels[np.repeat(np.arange(n), np.diff(usage.indptr))]
        used_label = labels[usage.indices]
        within = user_label == used_label
        comp_rank = _component_rank(user_label[~within], used_label[~within], n_comp)
        order = np.argsort(comp_rank[labels], kind="stable")
        comp = comp_rank[labels][order]
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        sizes = np.bincount(comp, minlength=n_comp)
        loop_comps = np.unique(comp_rank[user_label[within]])
        # rows gathered into topological order, columns renumbered the same way
        permuted = sp.csr_array(usage[order])
        permuted.indices = rank[permuted.indices].astype(permuted.indices.dtype)
        permuted.has_sorted_indices = False
        d_perm = d[order]
        if loop_comps.size == 0:
            lower, rhs = permuted, d_perm
        else:

            def name_of(position: int) -> str:
                index = int(order[position])
                return keys[index] if keys is not None else f"#{index}"

            lower, rhs = self.eliminate_loops(permuted, comp, loop_comps, sizes, d_perm, name_of)
        x = _forward_substitution(lower, rhs)[rank]
        loop_sizes = sizes[loop_comps]
        stats = SolveStatistics(
            products=n,
            edges=int(usage.nnz),
            loops=int(loop_comps.size),
            products_in_loops=int(loop_sizes.sum()),
            largest_loop=int(loop_sizes.max(initial=0)),
        )
        return x, stats

    def eliminate_loops(
        self,
        permuted: sp.csr_array,
        comp: npt.NDArray[np.int64],
        loop_comps: npt.NDArray[np.int64],
        sizes: npt.NDArray[np.int64],
        d: FloatArray,
        name_of: Callable[[int], str],
    ) -> tuple[sp.csr_array, FloatArray]:
        """B⁻¹L and B⁻¹d: loop rows replaced by their block inverse times their other inputs.

        B⁻¹ is the identity outside loops, so only the rows of products in loops change.
        """
        n = permuted.shape[0]
        loop_rows = np.flatnonzero(np.isin(comp, loop_comps))
        k = loop_rows.size
        block = sp.csr_array(permuted[loop_rows])
        local_row = np.repeat(np.arange(k), np.diff(block.indptr))
        within = comp[loop_rows[local_row]] == comp[block.indices]
        inv_rows, inv_cols, inv_vals = self.invert_loops(
            loop_rows[local_row[within]],
            block.indices[within].astype(np.int64),
            block.data[within],
            comp,
            loop_comps,
            sizes,
            name_of,
        )
        local = np.full(n, -1, dtype=np.int64)
        local[loop_rows] = np.arange(k)
        block_inv = sp.csr_array((inv_vals, (local[inv_rows], local[inv_cols])), shape=(k, k))
        keep = ~within
        cross = sp.csr_array(
            (
                block.data[keep],
                block.indices[keep],
                np.concatenate([[0], np.cumsum(np.bincount(local_row[keep], minlength=k))]),
            ),
            shape=(k, n),
        )
        replaced = sp.csr_array(block_inv @ cross)
        rhs = np.array(d, dtype=np.float64, copy=True)
        rhs[loop_rows] = block_inv @ d[loop_rows]
        return _replace_rows(permuted, loop_rows, replaced), rhs

    def invert_loops(
        self,
        row: npt.NDArray[np.int64],
        col: npt.NDArray[np.int64],
        val: FloatArray,
        comp: npt.NDArray[np.int64],
        loop_comps: npt.NDArray[np.int64],
        sizes: npt.NDArray[np.int64],
        name_of: Callable[[int], str],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
        """Entries (row, col, value) of B⁻¹ on the loops, for B = I − W, W the within-loop part.

        Products are in topological order, so each loop is a contiguous run of positions. Loops
        of equal size up to a limit are inverted together as a stack of dense matrices, their loop
        gain being the spectral radius of the block (numpy ``eigvals``). Larger loops are
        inverted one by one and their gain is tested by the M-matrix criterion instead: for a
        non-negative irreducible block W, ρ(W) < 1 exactly when (I − W)⁻¹ 1 ≥ 1.
        Raises `UnsolvableLoopError` for a loop gain ≥ 1.
        """
        starts = np.searchsorted(comp, loop_comps)
        loop_sizes = sizes[loop_comps]
        entry_comp = comp[row]
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        vals: list[FloatArray] = []
        for size in (int(s) for s in np.unique(loop_sizes)):
            group = loop_comps[loop_sizes == size]
            group_starts = starts[loop_sizes == size]
            members = group_starts[:, None] + np.arange(size)[None, :]
            slot = np.minimum(np.searchsorted(group, entry_comp), group.size - 1)
            mine = group[slot] == entry_comp
            k = slot[mine]
            if size <= _DENSE_LOOP_LIMIT:
                blocks = np.zeros((group.size, size, size))
                blocks[k, row[mine] - group_starts[k], col[mine] - group_starts[k]] = val[mine]
                gains = np.abs(np.linalg.eigvals(blocks)).max(axis=1)
                bad = np.flatnonzero(gains >= 1.0 - 1e-12)
                if bad.size:
                    raise UnsolvableLoopError(
                        [name_of(int(p)) for p in members[bad[0]]], float(gains[bad[0]])
                    )
                inverse = np.linalg.inv(np.eye(size)[None, :, :] - blocks)
                rows.append(np.repeat(members, size, axis=1).ravel())
                cols.append(np.tile(members, (1, size)).ravel())
                vals.append(np.asarray(inverse, dtype=np.float64).ravel())
                continue
            for g in range(group.size):
                sel = k == g
                block = np.zeros((size, size))
                block[row[mine][sel] - group_starts[g], col[mine][sel] - group_starts[g]] = val[
                    mine
                ][sel]
                names = [name_of(int(p)) for p in members[g]]
                try:
                    inverse_g = np.linalg.inv(np.eye(size) - block)
                except np.linalg.LinAlgError as exc:
                    raise UnsolvableLoopError(names, None) from exc
                if not (np.isfinite(inverse_g).all() and (inverse_g.sum(axis=1) >= 1 - 1e-9).all()):
                    raise UnsolvableLoopError(names, None)
                rows.append(np.repeat(members[g], size))
                cols.append(np.tile(members[g], size))
                vals.append(np.asarray(inverse_g, dtype=np.float64).ravel())
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


class SeriesSolver(TopologicalSolver):
    """The power (Neumann) series x = Σ_k (Aᵀ)ᵏ d, iterated to a relative change below ``tol``.

    Converges when the spectral radius of A is below 1 — always on an acyclic system, whose A is
    nilpotent (the series ends after the depth of the BOM), and on loops that return less than
    they take. Raises `SeriesDivergedError` when it has not converged after ``max_iterations``.
    """

    def __init__(self, *, tol: float = 1e-13, max_iterations: int = 100_000) -> None:
        self.tol = tol
        self.max_iterations = max_iterations

    def solve(
        self,
        technosphere: sp.sparray | sp.spmatrix,
        direct: npt.ArrayLike,
        *,
        keys: tuple[str, ...] | None = None,
    ) -> tuple[FloatArray, SolveStatistics]:
        """x by x ← d + Aᵀx, starting from x = d."""
        usage, d = _checked(technosphere, direct)
        x = d.copy()
        change = np.inf
        for iteration in range(1, self.max_iterations + 1):
            new = d + usage @ x
            scale = max(float(np.abs(new).max(initial=0.0)), np.finfo(float).tiny)
            change = float(np.abs(new - x).max(initial=0.0)) / scale
            x = new
            if not np.isfinite(change):
                break
            if change <= self.tol:
                stats = SolveStatistics(
                    products=usage.shape[0],
                    edges=int(usage.nnz),
                    loops=0,
                    products_in_loops=0,
                    largest_loop=0,
                    iterations=iteration,
                )
                return x, stats
        raise SeriesDivergedError(self.max_iterations, change)


def _checked(
    technosphere: sp.sparray | sp.spmatrix, direct: npt.ArrayLike
) -> tuple[sp.csr_array, FloatArray]:
    """Aᵀ as CSR (row j lists what product j uses) and d as a float array."""
    if technosphere.shape is None or technosphere.shape[0] != technosphere.shape[1]:
        raise InputError(
            f"the technosphere matrix must be square, not {technosphere.shape}",
            hint="A[i, j] is the quantity of product i per declared unit of product j",
        )
    usage = sp.csr_array(technosphere.T, dtype=np.float64)
    usage.sum_duplicates()
    usage.eliminate_zeros()
    if usage.nnz and (usage.data < 0).any():
        raise InputError(
            "the technosphere matrix has negative quantities",
            hint="co-products are handled by allocation, not as negative inputs",
        )
    d = np.asarray(direct, dtype=np.float64)
    if d.shape[0] != usage.shape[0]:
        raise InputError(f"direct emissions have {d.shape[0]} rows for {usage.shape[0]} products")
    return usage, d


def _component_rank(
    user: npt.NDArray[np.int32], used: npt.NDArray[np.int32], n_comp: int
) -> npt.NDArray[np.int64]:
    """A number per strong component such that every input's component comes first.

    ``user`` and ``used`` are the components at both ends of each edge between components.
    scipy numbers strong components so that inputs come first (Pearce's algorithm finishes a
    component after everything it reaches); that is checked on every edge, and a level-by-level
    (Kahn) ordering of the condensed graph is used should it not hold.
    """
    if (user > used).all():
        return np.arange(n_comp, dtype=np.int64)
    return _kahn_rank(user, used, n_comp)


def _kahn_rank(
    user: npt.NDArray[np.int32], used: npt.NDArray[np.int32], n_comp: int
) -> npt.NDArray[np.int64]:
    graph = sp.csr_array((np.ones(user.size), (used, user)), shape=(n_comp, n_comp))
    graph.sum_duplicates()
    pending = np.bincount(graph.indices, minlength=n_comp)
    rank = np.empty(n_comp, dtype=np.int64)
    frontier = np.flatnonzero(pending == 0)
    done = 0
    while frontier.size:
        rank[frontier] = np.arange(done, done + frontier.size)
        done += frontier.size
        users = graph[frontier].indices
        counts = np.bincount(users, minlength=n_comp)
        pending -= counts
        frontier = np.flatnonzero((pending == 0) & (counts > 0))
    return rank


def _replace_rows(
    matrix: sp.csr_array, rows: npt.NDArray[np.int64], replacement: sp.csr_array
) -> sp.csr_array:
    """``matrix`` with its ``rows`` replaced by the rows of ``replacement``, in one gather."""
    counts = np.diff(matrix.indptr)
    source = matrix.indptr[:-1].astype(np.int64)
    counts[rows] = np.diff(replacement.indptr)
    source[rows] = matrix.nnz + replacement.indptr[:-1]
    indptr = np.concatenate([[0], np.cumsum(counts)])
    gather = np.repeat(source - indptr[:-1], counts) + np.arange(indptr[-1])
    data = np.concatenate([matrix.data, replacement.data])[gather]
    indices = np.concatenate([matrix.indices, replacement.indices.astype(matrix.indices.dtype)])
    return sp.csr_array((data, indices[gather], indptr), shape=matrix.shape)


def _forward_substitution(lower: sp.csr_array, rhs: FloatArray) -> FloatArray:
    """x with (I − lower) x = rhs for a strictly lower-triangular ``lower``.

    The unit diagonal is written into the CSR arrays directly (it closes every row, as all
    entries lie left of it), so the triangular solve neither copies nor restructures the matrix.
    """
    if lower.nnz == 0:
        return np.array(rhs, dtype=np.float64, copy=True)
    n = lower.shape[0]
    lower.sort_indices()
    ends = lower.indptr[1:]
    data = np.insert(-lower.data, ends, 1.0)
    indices = np.insert(lower.indices, ends, np.arange(n, dtype=lower.indices.dtype))
    indptr = lower.indptr + np.arange(n + 1, dtype=lower.indptr.dtype)
    system = sp.csr_array((data, indices, indptr), shape=(n, n))
    system.has_canonical_format = True
    solution = spsolve_triangular(
        system,
        np.array(rhs, dtype=np.float64, copy=True),
        lower=True,
        unit_diagonal=True,
        overwrite_A=True,
        overwrite_b=True,
    )
    return np.asarray(solution)
