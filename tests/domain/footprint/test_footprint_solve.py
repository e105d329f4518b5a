"""The sparse solve against a dense numpy solve of (I − Aᵀ) x = d on random small systems."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from carbonlink.domain.footprint import SeriesDivergedError, SeriesSolver, TopologicalSolver
from carbonlink.domain.footprint.errors import UnsolvableLoopError
from carbonlink.errors import InputError


@st.composite
def product_systems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A random non-negative A with density 0…0.5 (loops included) and a d with 2 columns."""
    n = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.0, 0.5))
    scale = draw(st.floats(0.05, 3.0))
    rng = np.random.default_rng(seed)
    a = (rng.random((n, n)) < density) * rng.uniform(0.0, scale, (n, n))
    d = rng.uniform(-1.0, 5.0, (n, 2))
    return a, d


@settings(max_examples=300, deadline=None)
@given(product_systems())
def test_sparse_solve_equals_dense_solve(system: tuple[np.ndarray, np.ndarray]) -> None:
    a, d = system
    n = a.shape[0]
    gain = float(np.abs(np.linalg.eigvals(a)).max()) if n else 0.0
    assume(abs(gain - 1.0) > 1e-6)  # numerically ambiguous, either answer is defensible
    if gain > 1.0:
        with pytest.raises(UnsolvableLoopError):
            TopologicalSolver().solve(sp.csr_array(a), d)
        return
    expected = np.linalg.solve(np.eye(n) - a.T, d)
    x, stats = TopologicalSolver().solve(sp.csr_array(a), d)
    assert x == pytest.approx(expected, rel=1e-9, abs=1e-9 * np.abs(expected).max())
    assert stats.products == n


@settings(max_examples=100, deadline=None)
@given(product_systems())
def test_series_equals_dense_solve_below_unit_gain(system: tuple[np.ndarray, np.ndarray]) -> None:
    a, d = system
    n = a.shape[0]
    gain = float(np.abs(np.linalg.eigvals(a)).max())
    if gain >= 0.9:
        return
    expected = np.linalg.solve(np.eye(n) - a.T, d)
    x, _ = SeriesSolver(tol=1e-15).solve(sp.csr_array(a), d)
    assert x == pytest.approx(expected, rel=1e-9, abs=1e-9 * np.abs(expected).max())


def test_acyclic_system_with_large_coefficients_is_exact() -> None:
    """A car takes 4 wheels, a wheel 5 bolts: 1 + 4·(2 + 5·0.1) = 11 kg CO2e per car."""
    a = sp.csr_array(([4.0, 5.0], ([1, 2], [0, 1])), shape=(3, 3))
    x, stats = TopologicalSolver().solve(a, np.array([1.0, 2.0, 0.1]))
    assert x == pytest.approx([11.0, 2.5, 0.1])
    assert stats.loops == 0


def test_self_loop_on_one_product() -> None:
    """Remelting 10 % of its own output: x = 2 / (1 − 0.1)."""
    a = sp.csr_array(([0.1], ([0], [0])), shape=(1, 1))
    x, stats = TopologicalSolver().solve(a, np.array([2.0]))
    assert x == pytest.approx([2.0 / 0.9])
    assert stats.loops == 1


def test_large_loop_takes_the_sparse_path() -> None:
    """A ring of 100 products each taking 0.5 of the next: x = d / (1 − 0.5¹⁰⁰) on the ring."""
    n = 100
    a = sp.csr_array((np.full(n, 0.5), (np.roll(np.arange(n), -1), np.arange(n))), shape=(n, n))
    d = np.ones(n)
    x, stats = TopologicalSolver().solve(a, d)
    assert x == pytest.approx(np.linalg.solve(np.eye(n) - a.toarray().T, d), rel=1e-12)
    assert stats.largest_loop == n
    ring = sp.csr_array((np.full(n, 1.0), (np.roll(np.arange(n), -1), np.arange(n))), shape=(n, n))
    with pytest.raises(UnsolvableLoopError):
        TopologicalSolver().solve(ring, d)


def test_series_reports_divergence() -> None:
    a = sp.csr_array(([1.5], ([0], [0])), shape=(1, 1))
    with pytest.raises(SeriesDivergedError, match="did not converge"):
        SeriesSolver(max_iterations=200).solve(a, np.array([1.0]))


def test_negative_quantities_are_refused() -> None:
    a = sp.csr_array(([-1.0], ([1], [0])), shape=(2, 2))
    with pytest.raises(InputError, match="negative"):
        TopologicalSolver().solve(a, np.ones(2))


def test_component_order_falls_back_to_kahn_when_numbering_is_not_topological() -> None:
    from carbonlink.domain.footprint.solve import _component_rank

    # component 0 uses 1 and 2, 1 uses 2: inputs carry higher numbers than their users here
    rank = _component_rank(np.array([0, 0, 1]), np.array([1, 2, 2]), 3)
    assert rank[2] < rank[1] < rank[0]
