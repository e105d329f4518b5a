"""KPI packs for sustainability-linked loans: the KPIs, how each is computed, the targets.

Three KPIs, each over the loan's reporting period (the inventory's):

- ``ghgIntensity`` = (Scope 1 + Scope 2 market-based) / product output, t CO2e per t;
- ``renewableElectricityShare`` = MWh covered by renewable instruments (green certificates,
  PPAs, supplier renewable tariffs) / MWh of purchased electricity × 100, %;
- ``verifiedScope12`` = Scope 1 + Scope 2 market-based, t CO2e, taken from a report recorded
  in the ledger (its receipt travels in the pack, so the lender can check it offline).

Each sustainability performance target (SPT) is a bound on one KPI (``at_most`` or
``at_least``); the pack states the KPI's value, the target and whether it is met. Values are
written as decimal strings (six decimals for t CO2e, four for ratios) so the signed form is
exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from carbonlink.credentials.errors import CredentialError

RENEWABLE_INSTRUMENTS = frozenset({"green_certificate", "ppa", "supplier_tariff", "rec", "go"})

KPI_UNITS = {
    "ghgIntensity": "t CO2e/t",
    "renewableElectricityShare": "%",
    "verifiedScope12": "t CO2e",
}


@dataclass(frozen=True, slots=True)
class KpiInputs:
    """The figures the KPIs are computed from, with where each comes from."""

    organization: str
    period_start: str
    period_end: str
    scope1_t: float
    scope2_market_t: float
    product: str
    production_t: float
    electricity_mwh: float
    renewable_mwh: float


@dataclass(frozen=True, slots=True)
class Target:
    """A sustainability performance target: a bound on one KPI."""

    kpi: str
    bound: Literal["at_most", "at_least"]
    value: float

    def met(self, actual: float) -> bool:
        return actual <= self.value if self.bound == "at_most" else actual >= self.value


@dataclass(frozen=True, slots=True)
class Evidence:
    """A report the pack rests on: its ledger entry and the receipt proving it is in the log."""

    report: str
    ledger_index: int
    receipt: str


def kpi_values(inputs: KpiInputs) -> dict[str, float]:
    """The three KPIs (see the module docstring for the formulas)."""
    if inputs.production_t <= 0:
        raise CredentialError(
            f"the output of {inputs.product} is {inputs.production_t} t",
            hint="a GHG intensity needs a positive output",
        )
    scope12 = inputs.scope1_t + inputs.scope2_market_t
    share = 100 * inputs.renewable_mwh / inputs.electricity_mwh if inputs.electricity_mwh else 0.0
    return {
        "ghgIntensity": scope12 / inputs.production_t,
        "renewableElectricityShare": share,
        "verifiedScope12": scope12,
    }


def _decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def inputs_from_inventory(inventory: Any, totals: Mapping[str, float], product: str) -> KpiInputs:
    """KPI inputs from a parsed inventory and its accounted totals (t CO2e per scope key).

    The product output is the sum of the ``production`` entries named ``product``; the
    electricity is every purchased ``electricity`` source's activity in MWh, the renewable part
    what its renewable instruments cover.
    """
    output = 0.0
    electricity = 0.0
    renewable = 0.0
    for facility in inventory.facilities:
        for line in facility.production:
            if line.product == product:
                if line.unit != "t":
                    raise CredentialError(
                        f"{product} is counted in {line.unit}", hint="the KPI needs tonnes"
                    )
                output += line.quantity
        for source in facility.sources:
            if source.method != "electricity" or source.direction != "purchased":
                continue
            activity = source.activity
            if activity is None or activity.quantity is None or activity.unit != "MWh":
                raise CredentialError(
                    "the KPI needs the purchased electricity in MWh",
                    record=f"{facility.id}/{source.id}",
                )
            electricity += activity.quantity
            for instrument in source.instruments:
                if instrument.type in RENEWABLE_INSTRUMENTS and instrument.unit == "MWh":
                    renewable += instrument.quantity or 0.0
    if output == 0:
        raise CredentialError(f"the inventory has no production of '{product}'", record=product)
    return KpiInputs(
        organization=inventory.organization,
        period_start=inventory.period.start.isoformat(),
        period_end=inventory.period.end.isoformat(),
        scope1_t=float(totals["scope1"]),
        scope2_market_t=float(totals["scope2_market"]),
        product=product,
        production_t=output,
        electricity_mwh=electricity,
        renewable_mwh=renewable,
    )


def kpi_pack_subject(
    inputs: KpiInputs,
    targets: Sequence[Target],
    evidence: Sequence[Evidence],
    *,
    borrower: str,
    lender: str,
    loan: str,
) -> dict[str, Any]:
    """The ``credentialSubject`` of a KPI pack credential."""
    values = kpi_values(inputs)
    unknown = [t.kpi for t in targets if t.kpi not in values]
    if unknown:
        raise CredentialError(
            f"no KPI named {', '.join(unknown)}", hint=f"targets name one of {', '.join(values)}"
        )
    places = {"ghgIntensity": 4, "renewableElectricityShare": 4, "verifiedScope12": 6}
    kpis = []
    for name, value in values.items():
        kpi: dict[str, Any] = {
            "type": "SustainabilityKpi",
            "name": name,
            "value": _decimal(value, places[name]),
            "unit": KPI_UNITS[name],
        }
        for target in (t for t in targets if t.kpi == name):
            kpi["target"] = {
                "bound": target.bound,
                "value": _decimal(target.value, places[name]),
                "met": target.met(value),
            }
        kpis.append(kpi)
    return {
        "id": borrower,
        "type": "SustainabilityLinkedLoanKpiPack",
        "loan": loan,
        "lender": lender,
        "organization": inputs.organization,
        "periodStart": inputs.period_start,
        "periodEnd": inputs.period_end,
        "inputs": {
            "scope1": _decimal(inputs.scope1_t, 6),
            "scope2MarketBased": _decimal(inputs.scope2_market_t, 6),
            "product": inputs.product,
            "productOutput": _decimal(inputs.production_t, 3),
            "electricityPurchased": _decimal(inputs.electricity_mwh, 3),
            "electricityRenewable": _decimal(inputs.renewable_mwh, 3),
        },
        "kpi": kpis,
        "evidence": [
            {
                "type": "LedgerReceipt",
                "report": item.report,
                "ledgerIndex": str(item.ledger_index),
                "receipt": item.receipt,
            }
            for item in evidence
        ],
    }
