"""Sums of readings that do not depend on the order they are added in.

A meter's value is received as decimal text and stored as an IEEE 754 binary64 number. The sum
of a bucket is defined as the exact decimal sum of the values' shortest round-trip decimal forms
(the digits Python's ``repr`` and PostgreSQL's ``float8out`` both print), rounded once to the
nearest binary64. Decimal addition is exact and associative, so a month's sum is the same
whether it is added up from its readings, from its days' exact sums, in one batch or in many,
on SQLite or on PostgreSQL (``sum(value::text::numeric)``). Floating-point addition is not:
adding the same readings in another order may change the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, localcontext

import numpy as np

EXACT = Context(prec=1_000, Emax=999_999, Emin=-999_999)
"""Wide enough that adding binary64 values never rounds (their decimal forms span 17 digits
between 1e-324 and 1.8e308)."""


def decimal_sum(values: np.ndarray) -> Decimal:
    """The exact decimal sum of the shortest decimal forms of ``values``."""
    if len(values) == 0:
        return Decimal(0)
    with localcontext(EXACT):
        return sum(map(Decimal, np.asarray(values, dtype=np.float64).astype(str)), Decimal(0))


def add_exact(parts: Iterable[str | Decimal]) -> Decimal:
    """The exact sum of decimal sums kept as text (a month from its days)."""
    with localcontext(EXACT):
        return sum((Decimal(p) for p in parts), Decimal(0))


def to_float(total: Decimal) -> float:
    """The binary64 nearest to an exact decimal sum."""
    return float(total)


def exact_sums(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group (codes 0 … n_groups − 1 in ``group``), the correctly rounded exact sum."""
    out = np.zeros(n_groups, dtype=np.float64)
    if len(values) == 0:
        return out
    order = np.argsort(group, kind="stable")
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    for rows in np.split(order, cuts):
        out[group[rows[0]]] = float(decimal_sum(values[rows]))
    return out
