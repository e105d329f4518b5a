"""Errors of the product-footprint solve, each named after the condition it reports."""

from __future__ import annotations

from collections.abc import Sequence

from carbonlink.errors import CarbonlinkError, InputError


class UnknownProductError(CarbonlinkError, LookupError):
    """A bill of materials or direct-emission entry names a product that is not in the system."""


class DuplicateProductError(InputError):
    """Two products (or two bills of materials) share one key."""


class UnsolvableLoopError(CarbonlinkError, ArithmeticError):
    """A BOM cycle needs at least one unit of itself per unit made (loop gain ≥ 1).

    Such a loop has no finite, non-negative footprint: (I − A) is singular or its inverse has
    negative entries. ``products`` are the keys in the loop, ``loop_gain`` the spectral radius of
    the loop's block of A (None where it was not computed).
    """

    def __init__(self, products: Sequence[str], loop_gain: float | None) -> None:
        self.products = tuple(products)
        self.loop_gain = loop_gain
        shown = ", ".join(self.products[:8]) + (" …" if len(self.products) > 8 else "")
        gain = f"{loop_gain:.6g}" if loop_gain is not None else "≥ 1"
        super().__init__(
            f"the BOM loop through {shown} has loop gain {gain} ≥ 1, so it cannot be solved: "
            "each unit would need at least one unit of itself",
            record=self.products[0] if self.products else None,
            hint="check the quantities returned in the loop (scrap, recycled material) — "
            "a loop must return less than it takes",
        )


class SeriesDivergedError(CarbonlinkError, ArithmeticError):
    """The power (Neumann) series did not converge: the spectral radius of A is not below 1."""

    def __init__(self, iterations: int, change: float) -> None:
        self.iterations = iterations
        self.change = change
        super().__init__(
            f"the power series did not converge in {iterations} iterations "
            f"(last relative change {change:.3g})",
            hint="a BOM loop returns at least as much as it takes, or the system is deeper than "
            "max_iterations; use TopologicalSolver, which reports the loop",
        )
