"""The exporter's side of CBAM's definitive period: verified emissions and carbon price paid.

From 2026 the embedded emissions an EU importer declares from actual values must be verified by
an accredited verifier (Regulation (EU) 2023/956, Art. 8(1); verification principles in its
Annex VI; their application in Implementing Regulation (EU) 2025/2546), and the importer may
claim a reduction for a carbon price effectively paid in the country of origin (Art. 9). This
module holds the plain data an installation operator hands over for both, and the arithmetic of
the carbon price paid per tonne of each good.

Carbon price paid under an emissions trading system with free allocation (China's national ETS)::

    N   = Q_bought × P_bought − R                 (amount actually paid, local currency)
    p   = N / E                                   (effective price per t CO2e of the covered
                                                   emissions E; free allowances cost nothing)
    p€  = p / X                                   (X: local currency per EUR at the stated date)
    c_g = SEE_g × p€                              (EUR per tonne of good g)

Art. 9(1): only a price *actually paid* counts, less any rebate or compensation (R). Free
allocation is therefore not a price paid: of the E allowances surrendered only the Q_bought that
were bought (at P_bought) carry a price. SEE_g is the good's specific embedded emissions of the
kind the scheme covers (direct for China's steel sector). Art. 9(2): the evidence that the price
was paid, and the rules of the scheme, are certified by a person independent of the declarant and
of the country's authorities, whose name and contact the evidence shows; Art. 9(3): the declarant
keeps it until the end of the fourth year after the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from carbonlink.errors import InputError

Opinion = Literal[
    "verified as satisfactory", "verified with comments", "not verified", "not yet verified"
]
SiteVisit = Literal["physical", "virtual", "waived", "none"]
VERIFIED_OPINIONS = ("verified as satisfactory", "verified with comments")


@dataclass(frozen=True)
class Accreditation:
    """Who accredited the verifier (Reg. 2023/956 Art. 18: a national accreditation body, on
    the conditions of Delegated Regulation (EU) 2025/2551)."""

    body: str
    number: str
    state: str = ""


@dataclass(frozen=True)
class MonitoringMethodology:
    """The installation's monitoring methodology documentation, by reference.

    The operator keeps it and the verifier checks the reported data against it (Annex VI point 2
    of Reg. 2023/956: the verification report states the embedded emissions established under
    the Annex IV methods; Implementing Regulation (EU) 2025/2547 sets those methods for the
    definitive period). carbonlink records which version the data were monitored under, its
    sections and the SHA-256 of the document file.
    """

    reference: str
    version: str
    valid_from: date
    sections: tuple[str, ...] = ()
    document_sha256: str = ""


@dataclass(frozen=True)
class SampledDatum:
    """One figure the verifier sampled and traced back to its source."""

    item: str
    reported: float
    unit: str
    source: str
    checked: float | None = None
    """The verifier's own figure; ``None`` while not yet checked."""

    @property
    def deviation(self) -> float | None:
        """Relative difference (checked − reported) / reported; None when not checked."""
        if self.checked is None or self.reported == 0:
            return None
        return (self.checked - self.reported) / self.reported


@dataclass(frozen=True)
class VerificationStatement:
    """The verifier's report on the installation's embedded emissions for one period.

    ``materiality`` is the level the verifier applied (a fraction of the total embedded
    emissions); Annex VI point 1(d) of Reg. 2023/956 leaves its value to the implementing act
    (2025/2546), so the statement records what the verifier used rather than carbonlink
    assuming one. ``site_visit``: Annex VI point 1(c) makes a visit mandatory unless the waiver
    criteria are met; 2025/2546 (recital 3) requires a physical visit in the first year
    verified and allows a virtual visit or a waiver in a second consecutive year.
    """

    verifier: str
    accreditation: Accreditation
    report_reference: str
    report_date: date
    opinion: Opinion
    site_visit: SiteVisit
    assurance: str = "reasonable"
    materiality: float | None = None
    site_visit_date: date | None = None
    methodology: MonitoringMethodology | None = None
    sampled: tuple[SampledDatum, ...] = ()
    findings: tuple[str, ...] = ()
    demo: bool = False
    """True for the demo's made-up verifier: never presented as a real verification."""

    @property
    def verified(self) -> bool:
        """Whether the emissions count as verified (a positive opinion, Annex VI point 1(b))."""
        return self.opinion in VERIFIED_OPINIONS


@dataclass(frozen=True)
class ExchangeRate:
    """Local currency per euro, with the date and the source the figure was taken from."""

    currency_per_eur: float
    on: date
    source: str


@dataclass(frozen=True)
class IndependentPerson:
    """The person certifying the carbon price evidence (Reg. 2023/956 Art. 9(2))."""

    name: str
    contact: str
    identifier: str = ""


@dataclass(frozen=True)
class CetsPosition:
    """The installation's compliance position under an ETS for one year (t CO2e, local price).

    ``surrendered_t`` allowances were surrendered for ``verified_emissions_t``; of them
    ``bought_t`` were bought at an average ``bought_price`` (local currency per allowance), the
    rest came from the free allocation. ``rebates`` is any refund or compensation received
    (Art. 9(1)).
    """

    scheme: str
    legal_act: str
    country: str
    year: int
    currency: str
    verified_emissions_t: float
    free_allocation_t: float
    surrendered_t: float
    bought_t: float
    bought_price: float
    rebates: float = 0.0
    covers: Literal["direct", "direct+indirect"] = "direct"
    allocation_basis: str = "stated by the operator"
    """How the free allocation was found (the allocation rule and its sources, or stated)."""


@dataclass(frozen=True)
class GoodPricePaid:
    """The carbon price paid per tonne of one good."""

    cn_code: str
    see_covered: float
    """t CO2e per t of good that the scheme's price covers (direct SEE for steel)."""
    local_per_t_good: float
    eur_per_t_good: float


@dataclass(frozen=True)
class CarbonPricePaid:
    """The carbon price effectively paid, overall and per tonne of each good."""

    position: CetsPosition
    rate: ExchangeRate
    amount_paid: float
    """N = Q_bought × P_bought − R, local currency."""
    local_per_t_co2e: float
    eur_per_t_co2e: float
    goods: tuple[GoodPricePaid, ...]
    evidence: tuple[str, ...] = ()
    independent_person: IndependentPerson | None = None


def carbon_price_paid(
    position: CetsPosition,
    rate: ExchangeRate,
    see: dict[str, tuple[float, float]],
    *,
    evidence: tuple[str, ...] = (),
    independent_person: IndependentPerson | None = None,
) -> CarbonPricePaid:
    """The carbon price paid per t CO2e and per tonne of each good (formulas in the module doc).

    ``see`` maps each CN code to its (direct, indirect) SEE in t CO2e/t; the scheme's ``covers``
    says which of them the price applies to.
    """
    where = f"carbon price paid {position.year}"
    if position.verified_emissions_t <= 0:
        raise InputError(
            f"{where}: verified emissions must be positive",
            hint="enter the emissions the ETS verified for the year",
        )
    if min(position.bought_t, position.bought_price, position.free_allocation_t) < 0:
        raise InputError(f"{where}: allowances, prices and allocation must not be negative")
    if position.bought_t > position.surrendered_t:
        raise InputError(
            f"{where}: {position.bought_t:g} allowances bought exceed the "
            f"{position.surrendered_t:g} surrendered",
            hint="count only the bought allowances surrendered for this year",
        )
    from_free = position.surrendered_t - position.bought_t
    if from_free > position.free_allocation_t + 1e-9:
        raise InputError(
            f"{where}: {from_free:g} surrendered allowances were not bought, but the free "
            f"allocation is only {position.free_allocation_t:g}",
            hint="the surrendered allowances are either bought or freely allocated",
        )
    if rate.currency_per_eur <= 0:
        raise InputError(f"{where}: the exchange rate must be positive")
    amount = position.bought_t * position.bought_price - position.rebates
    if amount < 0:
        raise InputError(f"{where}: rebates exceed the price paid")
    per_t = amount / position.verified_emissions_t
    per_t_eur = per_t / rate.currency_per_eur
    codes = sorted(see)
    values = np.array([see[c] for c in codes], dtype=np.float64).reshape(-1, 2)
    covered = values[:, 0] if position.covers == "direct" else values.sum(axis=1)
    goods = tuple(
        GoodPricePaid(code, float(s), float(s * per_t), float(s * per_t_eur))
        for code, s in zip(codes, covered, strict=True)
    )
    return CarbonPricePaid(
        position=position,
        rate=rate,
        amount_paid=amount,
        local_per_t_co2e=per_t,
        eur_per_t_co2e=per_t_eur,
        goods=goods,
        evidence=evidence,
        independent_person=independent_person,
    )
