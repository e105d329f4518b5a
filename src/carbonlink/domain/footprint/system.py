"""The product system: products, their bills of materials and own emissions, solved as a whole.

`ProductSystem.build` turns plain objects into the matrices of `solve`: A (which product goes
into which) and one row of own contributions per product. Each row has `COLUMNS`:

- the eight PACT emission components (`EmissionProfile.COMPONENTS`), kg CO2e per declared unit;
- ``primary``: the part of the PCF excluding biogenic uptake that rests on primary data (own
  site data, and a supplier PCF times its primary data share), PACT Methodology v3 §4.2.2;
- ``dqr_weight`` and ``dqr_*``: |contribution| and |contribution| × rating of every piece of
  data whose quality is rated, PACT Methodology v3 §4.2.3 (ratings are averaged weighted by
  their contribution to the PCF excluding biogenic uptake).

All columns are linear in the inputs, so a single solve carries them up the supply chain and the
shares and ratings of a product are ratios of its solved columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from carbonlink.domain.footprint.errors import DuplicateProductError, UnknownProductError
from carbonlink.domain.footprint.inputs import (
    BillOfMaterials,
    DataQuality,
    DirectEmissions,
    EmissionProfile,
    OwnInput,
    PurchasedInput,
    SecondaryInput,
)
from carbonlink.domain.footprint.products import Product
from carbonlink.domain.footprint.solve import SolveStatistics, TopologicalSolver
from carbonlink.errors import InputError

FloatArray = npt.NDArray[np.float64]

COLUMNS: tuple[str, ...] = (
    *EmissionProfile.COMPONENTS,
    "primary",
    "dqr_weight",
    "dqr_technological",
    "dqr_geographical",
    "dqr_temporal",
)
_N_COMPONENTS = len(EmissionProfile.COMPONENTS)
_PRIMARY = COLUMNS.index("primary")
_WEIGHT = COLUMNS.index("dqr_weight")
_UPTAKE = EmissionProfile.COMPONENTS.index("biogenic_co2_uptake")

ExchangeKind = Literal["direct", "purchased", "secondary"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One of a product's own contributions (its site, a purchased input, a secondary input)."""

    kind: ExchangeKind
    label: str
    quantity: float
    values: FloatArray = field(repr=False)


def exchange_values(
    profile: EmissionProfile, *, primary_share: float, quality: DataQuality | None
) -> FloatArray:
    """A row of `COLUMNS` for ``profile`` (already scaled to the quantity used).

    ``primary_share`` is the fraction (0…1) of it that is primary data.
    """
    row = np.zeros(len(COLUMNS))
    row[:_N_COMPONENTS] = profile.as_array()
    pcf = profile.pcf_excluding_biogenic_uptake
    row[_PRIMARY] = pcf * primary_share
    if quality is not None:
        weight = abs(pcf)
        row[_WEIGHT] = weight
        row[_WEIGHT + 1 :] = weight * quality.as_array()
    return row


@dataclass(frozen=True)
class ProductSystem:
    """Products indexed 0…n−1, the matrix A and each product's own contributions.

    ``technosphere[i, j]`` is the quantity of product i (declared units) per declared unit of
    product j; ``direct[j]`` the row of `COLUMNS` that product j carries itself. ``exchanges``
    itemises ``direct`` per product for contribution trees; a store that hands over arrays may
    leave it empty, and each product's own part then shows as one node.
    """

    products: tuple[Product, ...]
    technosphere: sp.csr_array
    direct: FloatArray
    exchanges: tuple[tuple[Exchange, ...], ...] = ()
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        for position, product in enumerate(self.products):
            if product.key in index:
                raise DuplicateProductError(
                    "two products share this key", record=product.key, hint="keys must be unique"
                )
            index[product.key] = position
        object.__setattr__(self, "index", index)
        n = len(self.products)
        if self.technosphere.shape != (n, n) or self.direct.shape != (n, len(COLUMNS)):
            raise InputError(
                f"{n} products need a {n} × {n} technosphere and {n} × {len(COLUMNS)} direct "
                f"rows, not {self.technosphere.shape} and {self.direct.shape}",
                hint="build the system with ProductSystem.build, or check the array shapes",
            )
        if self.exchanges and len(self.exchanges) != n:
            raise InputError(f"exchanges are listed for {len(self.exchanges)} of {n} products")

    @classmethod
    def build(
        cls,
        products: Sequence[Product],
        boms: Iterable[BillOfMaterials],
        direct: Mapping[str, DirectEmissions] | None = None,
    ) -> ProductSystem:
        """The system of ``products`` with their ``boms`` and own site emissions ``direct``."""
        keys = [product.key for product in products]
        position = {key: i for i, key in enumerate(keys)}
        if len(position) != len(keys):
            duplicate = next(k for k, count in Counter(keys).items() if count > 1)
            raise DuplicateProductError(
                "two products share this key", record=duplicate, hint="keys must be unique"
            )
        own: list[list[Exchange]] = [[] for _ in keys]
        rows: list[int] = []
        cols: list[int] = []
        amounts: list[float] = []
        for key, emissions in (direct or {}).items():
            j = _lookup(position, key, "direct emissions")
            own[j].append(
                Exchange(
                    "direct",
                    emissions.rule or "own site emissions",
                    1.0,
                    exchange_values(
                        emissions.profile,
                        primary_share=1.0 if emissions.primary else 0.0,
                        quality=emissions.quality,
                    ),
                )
            )
        seen_boms: set[str] = set()
        for bom in boms:
            j = _lookup(position, bom.product, "bill of materials")
            if bom.product in seen_boms:
                raise DuplicateProductError(
                    "two bills of materials for one product",
                    record=bom.product,
                    hint="merge them into one list of inputs",
                )
            seen_boms.add(bom.product)
            for line in bom.inputs:
                if isinstance(line, OwnInput):
                    rows.append(_lookup(position, line.product, f"BOM of {bom.product}"))
                    cols.append(j)
                    amounts.append(line.quantity)
                elif isinstance(line, PurchasedInput):
                    supplier = line.footprint
                    own[j].append(
                        Exchange(
                            "purchased",
                            f"{supplier.supplier}: {supplier.reference}",
                            line.quantity,
                            exchange_values(
                                supplier.per_unit.scaled(line.quantity),
                                primary_share=supplier.primary_data_share / 100.0,
                                quality=supplier.quality,
                            ),
                        )
                    )
                elif isinstance(line, SecondaryInput):
                    factor = line.factor
                    cited = " ".join(part for part in (factor.source, factor.version) if part)
                    own[j].append(
                        Exchange(
                            "secondary",
                            f"{factor.name} ({cited})",
                            line.quantity,
                            exchange_values(
                                factor.profile.scaled(line.quantity),
                                primary_share=0.0,
                                quality=factor.quality,
                            ),
                        )
                    )
        n = len(keys)
        d = np.zeros((n, len(COLUMNS)))
        for j, items in enumerate(own):
            for item in items:
                d[j] += item.values
        technosphere = sp.csr_array(
            (np.asarray(amounts, dtype=np.float64), (np.asarray(rows), np.asarray(cols))),
            shape=(n, n),
        )
        technosphere.sum_duplicates()
        return cls(tuple(products), technosphere, d, tuple(tuple(items) for items in own))

    def solve(self, solver: TopologicalSolver | None = None) -> FootprintResult:
        """Every product's cradle-to-gate footprint (one sparse solve for all)."""
        engine = solver or TopologicalSolver()
        totals, stats = engine.solve(
            self.technosphere, self.direct, keys=tuple(p.key for p in self.products)
        )
        return FootprintResult(self, totals, stats)


@dataclass(frozen=True, slots=True)
class ProductFootprintResult:
    """One product's cradle-to-gate footprint per declared unit, as PACT reports it.

    ``primary_data_share`` is in percent (None where the PCF is 0); ``quality`` is the
    contribution-weighted average rating (None where no contribution was rated).
    """

    product: Product
    profile: EmissionProfile
    primary_data_share: float | None
    quality: DataQuality | None

    @property
    def pcf_excluding_biogenic_uptake(self) -> float:
        """kg CO2e per declared unit, excluding biogenic CO2 uptake."""
        return self.profile.pcf_excluding_biogenic_uptake

    @property
    def pcf_including_biogenic_uptake(self) -> float:
        """kg CO2e per declared unit, including biogenic CO2 uptake."""
        return self.profile.pcf_including_biogenic_uptake

    @property
    def fossil(self) -> float:
        """Fossil GHG emissions, kg CO2e per declared unit."""
        return self.profile.fossil


@dataclass(frozen=True, slots=True)
class Contribution:
    """A node of a contribution tree: what one input adds to the root product's footprint.

    ``quantity`` is how much of it one declared unit of the root takes (declared units for own
    products, the input's unit otherwise); ``pcf_excluding_biogenic_uptake`` is in kg CO2e per
    declared unit of the root. Children add up to their parent. ``kind`` "loop" marks a product
    already on the path above (a BOM cycle), not expanded again; "rest" gathers the children
    below the cut-off.
    """

    kind: Literal["product", "direct", "purchased", "secondary", "loop", "rest"]
    label: str
    quantity: float
    pcf_excluding_biogenic_uptake: float
    children: tuple[Contribution, ...] = ()


@dataclass(frozen=True)
class FootprintResult:
    """Solved footprints of every product of a `ProductSystem` (rows of `COLUMNS`)."""

    system: ProductSystem
    totals: FloatArray
    statistics: SolveStatistics

    @property
    def pcf_excluding_biogenic_uptake(self) -> FloatArray:
        """Per product (system order), kg CO2e per declared unit."""
        return self.totals[:, :_UPTAKE].sum(axis=1)

    @property
    def pcf_including_biogenic_uptake(self) -> FloatArray:
        """Per product (system order), kg CO2e per declared unit."""
        return self.totals[:, :_N_COMPONENTS].sum(axis=1)

    def footprint(self, key: str) -> ProductFootprintResult:
        """The footprint of product ``key``."""
        j = _lookup(self.system.index, key, "footprint request")
        row = self.totals[j]
        profile = EmissionProfile.from_array(row[:_N_COMPONENTS])
        pcf = profile.pcf_excluding_biogenic_uptake
        share = None
        if abs(pcf) > 1e-15:
            share = float(np.clip(100.0 * row[_PRIMARY] / pcf, 0.0, 100.0))
        quality = None
        if row[_WEIGHT] > 0:
            ratings = np.clip(row[_WEIGHT + 1 :] / row[_WEIGHT], 1.0, 5.0)
            quality = DataQuality(*(float(r) for r in ratings))
        return ProductFootprintResult(self.system.products[j], profile, share, quality)

    def contributions(self, key: str, *, max_depth: int = 6, cutoff: float = 0.0) -> Contribution:
        """The contribution tree of product ``key``: which input contributes what.

        Each own-product input is expanded into its own inputs, down to ``max_depth`` levels;
        children smaller than ``cutoff`` × |root PCF| are gathered into one "rest" node. A
        product met again on its own path (a scrap loop) is shown with its full footprint as a
        "loop" node and not expanded further, so every node still adds up to its parent.
        """
        root = _lookup(self.system.index, key, "contribution request")
        pcf = self.pcf_excluding_biogenic_uptake
        threshold = cutoff * abs(pcf[root])
        usage = sp.csc_array(self.system.technosphere)

        def expand(j: int, scale: float, path: frozenset[int], depth: int) -> Contribution:
            product = self.system.products[j]
            total = scale * float(pcf[j])
            if depth >= max_depth:
                return Contribution("product", product.key, scale, total)
            children: list[Contribution] = []
            if self.system.exchanges:
                for item in self.system.exchanges[j]:
                    value = scale * float(item.values[:_UPTAKE].sum())
                    children.append(
                        Contribution(item.kind, item.label, scale * item.quantity, value)
                    )
            elif self.system.direct[j, :_N_COMPONENTS].any():
                own = scale * float(self.system.direct[j, :_UPTAKE].sum())
                children.append(Contribution("direct", "own contributions", scale, own))
            start, end = usage.indptr[j], usage.indptr[j + 1]
            for i, amount in zip(usage.indices[start:end], usage.data[start:end], strict=True):
                child_scale = scale * float(amount)
                if int(i) in path:
                    children.append(
                        Contribution(
                            "loop",
                            self.system.products[i].key,
                            child_scale,
                            child_scale * float(pcf[i]),
                        )
                    )
                else:
                    children.append(expand(int(i), child_scale, path | {int(i)}, depth + 1))
            kept = [c for c in children if abs(c.pcf_excluding_biogenic_uptake) >= threshold]
            dropped = [c for c in children if abs(c.pcf_excluding_biogenic_uptake) < threshold]
            if dropped:
                kept.append(
                    Contribution(
                        "rest",
                        f"{len(dropped)} smaller inputs",
                        0.0,
                        sum(c.pcf_excluding_biogenic_uptake for c in dropped),
                    )
                )
            kept.sort(key=lambda c: -abs(c.pcf_excluding_biogenic_uptake))
            return Contribution("product", product.key, scale, total, tuple(kept))

        return expand(root, 1.0, frozenset({root}), 0)


def _lookup(index: Mapping[str, int], key: str, where: str) -> int:
    try:
        return index[key]
    except KeyError:
        raise UnknownProductError(
            f"{where} names product {key!r}, which is not in the product system",
            record=key,
            hint="add the product, or fix the key",
        ) from None
