"""The authorised CBAM declarant's annual declaration: emissions, adjustments, certificates, cost.

Rules, with the article they come from (Regulation (EU) 2023/956 as amended by Regulation
(EU) 2025/2083 unless said otherwise; figures marked [check] were seen in secondary sources only,
see the ``source`` column of each data file):

- **Scope** (Art. 2(3a), Annex VII point 1): an importer whose Annex I goods, electricity and
  hydrogen excepted, do not exceed 50 t net mass in a calendar year is exempt. ``≤ 50 t`` exempt.
- **Embedded emissions** (Art. 7, Annex IV): actual values from the installation's communication
  where the line is matched to one, else the default value for the country of origin and CN code
  (Implementing Regulation (EU) 2025/2621) with the mark-up of the year of import:
  ``E = m × SEE`` with ``SEE_default = SEE_base × (1 + mark-up)``. For iron and steel, aluminium
  and hydrogen only direct emissions count (Annex II); cement and fertilisers add indirect.
- **Free allocation adjustment** (Art. 31; Implementing Regulation (EU) 2025/2620):
  ``FAA = m × BM × CBAM factor(year) × CSCF``, the CBAM factor from Directive 2003/87/EC
  Art. 10a(1a) (97.5 % in 2026), the benchmark of the CN code and production route.
- **Carbon price paid** (Art. 9): the carbon price effectively paid in the country of origin
  reduces the certificates by ``price paid (EUR/t CO2e) × E / reference certificate price``,
  never below zero for the line. The reference price here is the average of the year's prices
  in the price table [check: the implementing act on Art. 9 was not read].
- **Certificates to surrender** (Art. 22(1), by 30 September of the following year):
  ``N = Σ max(E − FAA, 0) − deductions``, rounded up to a whole certificate because a fraction
  cannot be surrendered and the obligation must be covered [check: no rounding rule was found
  in the texts read].
- **Quarterly holding** (Art. 22(2), from 2027): at the end of each quarter at least 50 % of the
  certificates corresponding to the goods imported since the start of the year (after the free
  allocation adjustment), rounded up.
- **Price** (Art. 21; Implementing Regulation (EU) 2025/2548): in 2026 the quarterly average of
  EU ETS auction clearing prices, published in the first week after the quarter; from 2027 the
  weekly average. Cost here values each quarter's obligation at that quarter's price where one
  is entered, and the whole under a price the user sets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from carbonlink.cbam_import.lines import CustomsLine
from carbonlink.cbam_import.reference import (
    benchmark_for,
    cbam_factor,
    default_value,
    import_parameter,
    markup_for,
    parameter_source,
)
from carbonlink.errors import InputError

__all__ = [
    "Communication",
    "Declaration",
    "GoodLine",
    "Match",
    "PriceEntry",
    "QuarterHolding",
    "communication_from_json",
    "declare",
    "match_line",
    "prices_with_shipped",
]

Basis = Literal["actual", "default"]
_FERTILISER_PREFIXES = ("2808", "2814", "2834", "3102", "3105")
_CHARGED_INDIRECT_PREFIXES = ("2507", "2523", *_FERTILISER_PREFIXES)
_OUT_OF_THRESHOLD_PREFIXES = ("2716", "280410")
"""Electricity (2716) and hydrogen (2804 10 00) do not count towards the 50 t threshold."""


@dataclass(frozen=True)
class CommunicatedGood:
    """A good of a supplier's communication: its SEE and any carbon price paid for it."""

    cn_code: str
    see_direct: float
    see_indirect: float
    route: str = ""
    carbon_price_eur_per_t: float = 0.0
    carbon_price_evidence: str = ""


@dataclass(frozen=True)
class Communication:
    """What carbonlink keeps of an installation's CBAM communication for matching lines."""

    installation_id: str
    installation_name: str
    country: str
    period_start: date
    period_end: date
    goods: tuple[CommunicatedGood, ...]
    verified: bool = False


@dataclass(frozen=True)
class PriceEntry:
    """A certificate price for a quarter, with its publication date (None: a user estimate)."""

    year: int
    quarter: int
    price_eur: float
    published: date | None = None
    source: str = ""


@dataclass(frozen=True)
class GoodLine:
    """One declared line: the customs line, its basis and every number derived from it."""

    line: CustomsLine
    basis: Basis
    reason: str
    see: float
    see_base: float
    markup: float
    embedded_t: float
    benchmark: float
    free_allocation_t: float
    carbon_price_eur_per_t: float
    carbon_price_evidence: str
    deduction_certificates: float
    obligation_t: float
    match: Match | None = None
    default_row: str = ""
    """The default-value row used (country and CN code of the annex), empty for actual values."""


@dataclass(frozen=True)
class QuarterHolding:
    """The certificates to hold at a quarter's end and the quarter's cost at its price."""

    quarter: int
    embedded_t: float
    obligation_t: float
    cumulative_obligation_t: float
    certificates_to_hold: int
    price_eur: float | None
    price_published: date | None
    cost_eur: float | None


@dataclass(frozen=True)
class Declaration:
    """The annual CBAM declaration of one year."""

    year: int
    exempt: bool
    total_mass_t: float
    threshold_t: float
    lines: tuple[GoodLine, ...]
    embedded_t: float
    actual_share: float
    free_allocation_t: float
    deduction_certificates: float
    obligation_t: float
    certificates: int
    quarters: tuple[QuarterHolding, ...]
    reference_price_eur: float | None
    cost_published_eur: float | None
    cost_complete: bool
    projected_price_eur: float | None
    projected_cost_eur: float | None
    due_date: date
    cbam_factor: float
    cbam_factor_source: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "year": self.year,
            "exempt": self.exempt,
            "total_mass_t": round(self.total_mass_t, 6),
            "threshold_t": self.threshold_t,
            "due_date": self.due_date.isoformat(),
            "embedded_emissions_t": round(self.embedded_t, 6),
            "actual_share": round(self.actual_share, 6),
            "free_allocation_adjustment_t": round(self.free_allocation_t, 6),
            "carbon_price_deduction_certificates": round(self.deduction_certificates, 6),
            "obligation_t": round(self.obligation_t, 6),
            "certificates_to_surrender": self.certificates,
            "cbam_factor": self.cbam_factor,
            "cbam_factor_source": self.cbam_factor_source,
            "reference_price_eur": self.reference_price_eur,
            "cost_at_published_prices_eur": _round(self.cost_published_eur, 2),
            "cost_complete": self.cost_complete,
            "projected_price_eur": self.projected_price_eur,
            "projected_cost_eur": _round(self.projected_cost_eur, 2),
            "quarters": [
                {
                    "quarter": q.quarter,
                    "embedded_t": round(q.embedded_t, 6),
                    "obligation_t": round(q.obligation_t, 6),
                    "cumulative_obligation_t": round(q.cumulative_obligation_t, 6),
                    "certificates_to_hold": q.certificates_to_hold,
                    "price_eur": q.price_eur,
                    "price_published": q.price_published.isoformat() if q.price_published else None,
                    "cost_eur": _round(q.cost_eur, 2),
                }
                for q in self.quarters
            ],
            "lines": [
                {
                    "key": g.line.key,
                    "date": g.line.released.isoformat(),
                    "cn_code": g.line.cn_code,
                    "country": g.line.country,
                    "installation_id": g.line.installation_id,
                    "supplier": g.line.supplier,
                    "net_mass_t": g.line.net_mass_t,
                    "basis": g.basis,
                    "reason": g.reason,
                    "see_t_per_t": round(g.see, 6),
                    "see_base_t_per_t": round(g.see_base, 6),
                    "markup": g.markup,
                    "embedded_t": round(g.embedded_t, 6),
                    "benchmark_t_per_t": g.benchmark,
                    "free_allocation_adjustment_t": round(g.free_allocation_t, 6),
                    "carbon_price_eur_per_t": g.carbon_price_eur_per_t,
                    "carbon_price_evidence": g.carbon_price_evidence,
                    "deduction_certificates": round(g.deduction_certificates, 6),
                    "obligation_t": round(g.obligation_t, 6),
                }
                for g in self.lines
            ],
            "notes": list(self.notes),
            "rules": {
                "threshold": parameter_source("mass_threshold_t"),
                "quarterly_holding": parameter_source("quarterly_holding_share"),
                "cross_sectoral_correction_factor": parameter_source(
                    "cross_sectoral_correction_factor"
                ),
            },
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _number(value: object, what: str, record: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} {value!r} is not a number", record=record) from None
    if not math.isfinite(number) or number < 0:
        raise InputError(f"{what} {value!r} must be a non-negative number", record=record)
    return number


def _carbon_prices(block: object, record: str) -> dict[str, tuple[float, str]]:
    """``carbon_price_paid``: a list of {cn_code, amount_eur_per_t_co2e, evidence}."""
    if block is None:
        return {}
    if not isinstance(block, list):
        raise InputError(
            "carbon_price_paid must be a list of goods",
            record=record,
            hint="write [{cn_code: '72083900', amount_eur_per_t_co2e: 9.5, evidence: '…'}]",
        )
    prices: dict[str, tuple[float, str]] = {}
    for entry in block:
        if not isinstance(entry, Mapping) or "cn_code" not in entry:
            raise InputError("each carbon_price_paid entry needs a cn_code", record=record)
        amount = _number(
            entry.get("amount_eur_per_t_co2e"), "amount_eur_per_t_co2e", f"{record} carbon price"
        )
        prices[str(entry["cn_code"])] = (amount, str(entry.get("evidence") or ""))
    return prices


def communication_from_json(
    document: Mapping[str, Any],
    installation_id: str,
    carbon_price_paid: object = None,
) -> Communication:
    """Read carbonlink's CBAM communication JSON (``reports.cbam``) into what matching needs.

    ``carbon_price_paid`` (or the same key inside the document) adds, per good, the carbon
    price effectively paid in EUR per t CO2e with its evidence reference.
    """
    record = f"communication {installation_id}"
    try:
        site = document["installation"]
        period = document["reporting_period"]
        goods_in = document["goods"]
    except (KeyError, TypeError):
        raise InputError(
            "not a carbonlink CBAM communication (installation, reporting_period, goods)",
            record=record,
            hint="give the JSON that `carbonlink report cbam` or the demo wrote",
        ) from None
    block = (
        carbon_price_paid if carbon_price_paid is not None else document.get("carbon_price_paid")
    )
    prices = _carbon_prices(block, record)
    goods = []
    for good in goods_in:
        cn_code = str(good["cn_code"])
        price, evidence = prices.get(cn_code, (0.0, ""))
        nested = good.get("carbon_price_paid")
        if cn_code not in prices and isinstance(nested, Mapping):
            # The block may also sit inside the good, as {amount_eur_per_t_co2e, evidence}.
            price = _number(
                nested.get("amount_eur_per_t_co2e"), "amount_eur_per_t_co2e", f"{record} {cn_code}"
            )
            evidence = str(nested.get("evidence") or "")
        goods.append(
            CommunicatedGood(
                cn_code,
                _number(good["see_direct"], "see_direct", record),
                _number(good.get("see_indirect") or 0.0, "see_indirect", record),
                str(good.get("route") or ""),
                price,
                evidence,
            )
        )
    verifier = document.get("verifier")
    return Communication(
        installation_id=installation_id,
        installation_name=str(site.get("name", "")),
        country=str(site.get("address", {}).get("country", "")),
        period_start=date.fromisoformat(period["start"]),
        period_end=date.fromisoformat(period["end"]),
        goods=tuple(goods),
        verified=bool(verifier),
    )


def _charges_indirect(cn_code: str) -> bool:
    return cn_code.startswith(_CHARGED_INDIRECT_PREFIXES)


def _sector(cn_code: str) -> str:
    return "fertilisers" if cn_code.startswith(_FERTILISER_PREFIXES) else "other"


@dataclass(frozen=True)
class Match:
    """How a line was matched: its basis, the reason in words and as a code for the pages.

    ``code`` is ``actual``, ``no_communication``, ``no_cn_code`` or ``period_after_import``;
    ``installation`` names the communication's installation (or the line's id without one).
    """

    basis: Basis
    reason: str
    good: CommunicatedGood | None
    code: str
    installation: str
    verified: bool = False


def match_line(line: CustomsLine, communications: Mapping[str, Communication]) -> Match:
    """Actual values if the supplier's communication covers the installation and CN code."""
    communication = communications.get(line.installation_id)
    if communication is None:
        return Match(
            "default",
            f"no communication from installation {line.installation_id}",
            None,
            "no_communication",
            line.installation_id,
        )
    name = communication.installation_name
    for good in communication.goods:
        if good.cn_code == line.cn_code:
            if communication.period_start > line.released:
                return Match(
                    "default",
                    f"communication of {name} covers "
                    f"{communication.period_start}–{communication.period_end}, after the import",
                    None,
                    "period_after_import",
                    name,
                )
            state = "verified" if communication.verified else "not verified"
            return Match(
                "actual",
                f"communication of {name} ({communication.period_start.year}, {state})",
                good,
                "actual",
                name,
                communication.verified,
            )
    return Match(
        "default", f"communication of {name} has no CN {line.cn_code}", None, "no_cn_code", name
    )


def _prices_of(year: int, prices: Iterable[PriceEntry]) -> dict[int, PriceEntry]:
    chosen: dict[int, PriceEntry] = {}
    for price in prices:
        if price.year == year:
            chosen[price.quarter] = price
    return chosen


def declare(
    year: int,
    lines: Sequence[CustomsLine],
    communications: Mapping[str, Communication],
    prices: Iterable[PriceEntry] = (),
    *,
    projected_price_eur: float | None = None,
) -> Declaration:
    """The declaration of ``year`` from its customs lines (see the module docstring for rules)."""
    year_lines = sorted(
        (line for line in lines if line.year == year), key=lambda x: (x.released, x.key)
    )
    threshold = import_parameter("mass_threshold_t")
    counted = [ln for ln in year_lines if not ln.cn_code.startswith(_OUT_OF_THRESHOLD_PREFIXES)]
    total_mass = float(np.sum([ln.net_mass_t for ln in counted])) if counted else 0.0
    factor, factor_source = cbam_factor(year)
    cscf = import_parameter("cross_sectoral_correction_factor")
    year_prices = _prices_of(year, prices)
    published = [p.price_eur for p in year_prices.values()]
    reference_price = float(np.mean(published)) if published else projected_price_eur
    notes: list[str] = []

    bases: list[Basis] = []
    reasons: list[str] = []
    matches: list[Match] = []
    default_rows: list[str] = []
    see = np.zeros(len(year_lines))
    see_base = np.zeros(len(year_lines))
    markups = np.zeros(len(year_lines))
    bench = np.zeros(len(year_lines))
    carbon_price = np.zeros(len(year_lines))
    evidence: list[str] = []
    for i, line in enumerate(year_lines):
        match = match_line(line, communications)
        basis, reason, good = match.basis, match.reason, match.good
        matches.append(match)
        indirect = _charges_indirect(line.cn_code)
        route = line.route
        if good is not None:
            see_base[i] = good.see_direct + (good.see_indirect if indirect else 0.0)
            see[i] = see_base[i]
            carbon_price[i] = good.carbon_price_eur_per_t
            evidence.append(good.carbon_price_evidence)
            default_rows.append("")
            route = route or good.route
        else:
            value = default_value(line.cn_code, line.country, record=line.key)
            markup = markup_for(_sector(line.cn_code), year)
            see_base[i] = value.see_direct + (value.see_indirect if indirect else 0.0)
            markups[i] = markup.markup
            see[i] = see_base[i] * (1.0 + markup.markup)
            evidence.append("")
            default_rows.append(f"{value.country} CN {value.cn_prefix}")
            reason = f"{reason}; default {value.country} CN {value.cn_prefix} + {markup.markup:.0%}"
        route = _route_name(route)
        benchmark = benchmark_for(line.cn_code, route)
        if benchmark is None:
            notes.append(
                f"{line.key}: no CBAM benchmark ships for CN {line.cn_code} ({route}); "
                "no free allocation adjustment applied"
            )
        bench[i] = benchmark.value if benchmark else 0.0
        bases.append(basis)
        reasons.append(reason)

    mass = np.array([ln.net_mass_t for ln in year_lines], dtype=float)
    embedded = mass * see
    free_allocation = mass * bench * factor * cscf
    net = np.maximum(embedded - free_allocation, 0.0)
    if reference_price:
        deduction = np.minimum(carbon_price * embedded / reference_price, net)
    else:
        deduction = np.zeros(len(year_lines))
        if np.any(carbon_price > 0):
            notes.append(
                "carbon price paid not deducted: no certificate price entered for the year "
                "and no projected price given"
            )
    obligation = net - deduction
    exempt = total_mass <= threshold
    total_obligation = float(obligation.sum())
    certificates = 0 if exempt else math.ceil(round(total_obligation, 9))

    holding_share = import_parameter("quarterly_holding_share")
    holding_from = int(import_parameter("holding_from_year"))
    quarters_of = np.array([ln.quarter for ln in year_lines], dtype=int)
    quarters: list[QuarterHolding] = []
    cumulative = 0.0
    cost_total = 0.0
    complete = not exempt
    for quarter in range(1, 5):
        mask = quarters_of == quarter
        q_embedded = float(embedded[mask].sum())
        q_net = float(net[mask].sum())
        q_obligation = float(obligation[mask].sum())
        cumulative += q_net
        hold = (
            math.ceil(round(holding_share * cumulative, 9))
            if year >= holding_from and not exempt
            else 0
        )
        price = year_prices.get(quarter)
        cost = None if price is None or exempt else q_obligation * price.price_eur
        if cost is None and q_obligation > 0:
            complete = False
        cost_total += cost or 0.0
        quarters.append(
            QuarterHolding(
                quarter,
                q_embedded,
                q_obligation,
                cumulative,
                hold,
                price.price_eur if price else None,
                price.published if price else None,
                cost,
            )
        )
    if year < holding_from:
        notes.append(
            f"no quarterly holding requirement in {year}: it applies from {holding_from} "
            "(Art. 22(2) as amended by Regulation (EU) 2025/2083)"
        )
    if exempt:
        notes.append(
            f"{total_mass:.3f} t of CBAM goods in {year} does not exceed the {threshold:.0f} t "
            "threshold (Art. 2(3a)): no declaration and no certificates"
        )
    good_lines = tuple(
        GoodLine(
            line=line,
            basis=bases[i],
            reason=reasons[i],
            see=float(see[i]),
            see_base=float(see_base[i]),
            markup=float(markups[i]),
            embedded_t=float(embedded[i]),
            benchmark=float(bench[i]),
            free_allocation_t=float(free_allocation[i]),
            carbon_price_eur_per_t=float(carbon_price[i]),
            carbon_price_evidence=evidence[i],
            deduction_certificates=float(deduction[i]),
            obligation_t=float(obligation[i]),
            match=matches[i],
            default_row=default_rows[i],
        )
        for i, line in enumerate(year_lines)
    )
    embedded_total = float(embedded.sum())
    actual = float(embedded[[b == "actual" for b in bases]].sum()) if year_lines else 0.0
    return Declaration(
        year=year,
        exempt=exempt,
        total_mass_t=total_mass,
        threshold_t=threshold,
        lines=good_lines,
        embedded_t=embedded_total,
        actual_share=actual / embedded_total if embedded_total else 0.0,
        free_allocation_t=float(free_allocation.sum()),
        deduction_certificates=float(deduction.sum()),
        obligation_t=total_obligation,
        certificates=certificates,
        quarters=tuple(quarters),
        reference_price_eur=reference_price,
        cost_published_eur=None if exempt or not year_prices else cost_total,
        cost_complete=complete,
        projected_price_eur=projected_price_eur,
        projected_cost_eur=certificates * projected_price_eur
        if projected_price_eur is not None
        else None,
        due_date=date(year + 1, 9, 30),
        cbam_factor=factor,
        cbam_factor_source=factor_source,
        notes=tuple(notes),
    )


def _route_name(route: str) -> str:
    text = route.upper().replace(" ", "").replace("/", "-")
    if "SCRAP" in text:
        return "Scrap-EAF"
    if "DRI" in text:
        return "DRI-EAF"
    # Column B of the benchmark annex applies the BF-BOF value when nothing else is known.
    return "BF-BOF"


def prices_with_shipped(user: Iterable[PriceEntry]) -> list[PriceEntry]:
    """The shipped published prices, overridden by the user's entries for the same quarter."""
    from carbonlink.cbam_import.reference import published_prices

    chosen = {
        (p.year, p.quarter): PriceEntry(p.year, p.quarter, p.price_eur, p.published, p.source)
        for p in published_prices()
    }
    for entry in user:
        chosen[(entry.year, entry.quarter)] = entry
    return sorted(chosen.values(), key=lambda p: (p.year, p.quarter))
