"""The communication as a Catena-X CBAM aspect (``urn:samm:io.catenax.cbam:1.0.0#Cbam``).

One ``good`` per CN code, each with the operator, its installation and one emissions record:
production method, activity data (net mass produced for the market in the period), direct and
indirect specific embedded emissions, the attestation of conformance (the verifier's report, only
when the emissions are verified) and the carbon price paid. Code values follow the model's
descriptions: instrument type ``04`` National Emissions Trading System, source of the emission
factor ``01`` Other / ``02`` Commission based on IEA data, source of electricity ``SOE03`` grid.
Countries are ISO 3166-1 alpha-3 (from Babel's territory table). The carbon price's
``amountOfCarbonPricePaid`` is per tonne of the good, in EUR; the full position travels in
carbonlink's own ``carbon_price_paid`` block of the communication.
"""

from __future__ import annotations

import functools
from typing import Any

ASPECT = "urn:samm:io.catenax.cbam:1.0.0#Cbam"
MEDIA_TYPE = "application/json"


@functools.cache
def _alpha3() -> dict[str, str]:
    from babel.core import get_global

    aliases = get_global("territory_aliases")
    candidates: dict[str, list[str]] = {}
    for code, targets in aliases.items():
        alpha = len(code) == 3 and code.isalpha() and code.isupper()
        if alpha and len(targets) == 1 and not _user_assigned(targets[0]):
            candidates.setdefault(targets[0], []).append(code)
    # CLDR also maps withdrawn codes (DDR → DE, FXX → FR, BUR → MM, ZAR → CD, TMP → TL,
    # YMD → YE); the current code is the one spelled like the alpha-2 code (DEU, FRA, MMR…).
    return {
        two: min(codes, key=lambda three: (not _spelled_like(two, three), three))
        for two, codes in candidates.items()
    }


def _spelled_like(two: str, three: str) -> bool:
    return three[0] == two[0] and two[1] in three[1:]


def _user_assigned(code: str) -> bool:
    """ISO 3166-1 user-assigned alpha-2 codes (AA, QM–QZ, XA–XZ, ZZ): no country."""
    return code in ("AA", "ZZ") or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")


def alpha3(country: str) -> str:
    """ISO 3166-1 alpha-3 code of an alpha-2 code ("CN" → "CHN")."""
    from carbonlink.errors import InputError

    try:
        return _alpha3()[country.upper()]
    except KeyError:
        raise InputError(
            f"country {country!r} has no ISO 3166-1 alpha-3 code",
            hint="give the installation's country as an ISO 3166-1 alpha-2 code",
        ) from None


def _instant(day: str, end: bool = False) -> str:
    return f"{day}T23:59:59Z" if end else f"{day}T00:00:00Z"


def _ef_source(code: str) -> str:
    # D.4(a)/(b): the Commission's default factors from IEA data; anything else is "Other".
    return "02" if code in ("D.4(a)", "D.4(b)") else "01"


def to_catenax(communication: dict[str, Any]) -> dict[str, Any]:
    """The Catena-X CBAM aspect of a (verified) communication."""
    c = communication
    site = c["installation"]
    period = c["reporting_period"]
    ids = c.get("catena_x") or {}
    processes = {p["id"]: p for p in c["processes"]}
    verification = c.get("verification") or {}
    price = c.get("carbon_price_paid")
    price_by_good = {g["cn_code"]: g for g in (price or {}).get("goods", [])}
    attestations = []
    if verification.get("status") == "verified":
        v, r = verification["verifier"], verification["report"]
        attestations.append(
            {
                "attestationType": "third-party verification"
                + (" (demo verifier, not accredited)" if verification.get("demo") else ""),
                "standardName": "Regulation (EU) 2023/956 Annex VI",
                "attestationStandard": "Implementing Regulation (EU) 2025/2546",
                "attestationOfConformanceId": r["reference"],
                "providerName": v["name"],
                "providerId": f"{v['accreditation']['body']} {v['accreditation']['number']}",
                "completedAt": _instant(r["date"]),
            }
        )
    goods = []
    for good in c["goods"]:
        process = processes[good["process_id"]]
        record: dict[str, Any] = {
            "productionMethod": {
                "methodId": good["route"] or good["goods_category"],
                "additionalInformation": f"{good['goods_category']}: {good['process_name']}",
            },
            "activityData": {
                "referencePeriodStart": _instant(period["start"]),
                "referencePeriodEnd": _instant(period["end"], end=True),
                "netMass": process["produced_for_market_t"],
            },
            "directEmissions": {
                "specificEmbeddedEmissionsDirect": good["see_direct"],
                "additionalInformation": f"t CO2e per t; share from default values "
                f"{good['default_share']:.4f}",
            },
            "indirectEmissions": {
                "sourceOfEmissionFactor": _ef_source(good["electricity_ef_source_code"]),
                "emissionFactorTonnesCo2PerMwh": good["embedded_electricity_ef_t_per_mwh"],
                "sourceOfEmissionFactorValue": good["electricity_ef_source"]
                or good["electricity_ef_source_code"]
                or "not stated",
                "specificEmbeddedEmissionsIndirect": good["see_indirect"],
                "electricityConsumedMwhPerTonnesGood": good["embedded_electricity_mwh_per_t"],
                "sourceOfElectricity": "SOE03",
            },
        }
        if attestations:
            record["attestationOfConformance"] = attestations
        paid = price_by_good.get(good["cn_code"])
        if price and paid:
            person = price.get("independent_person") or {}
            record["carbonPricePaid"] = [
                {
                    "typeOfInstrument": "04",
                    "independentPersonId": {
                        "key": person.get("name") or "not named",
                        "value": person.get("identifier") or person.get("contact") or "",
                    },
                    "descriptionAndIndicationOfLegalAct": price["legal_act"],
                    "amountOfCarbonPricePaid": paid["eur_per_t_good"],
                    "currency": "EUR",
                    "countryCode": alpha3(price["country"]),
                }
            ]
        operator_ids: dict[str, Any] = {}
        if ids.get("operator_bpnl"):
            operator_ids["operatorBpnl"] = ids["operator_bpnl"]
        if ids.get("operator_cbam_id"):
            operator_ids["operatorCbamId"] = ids["operator_cbam_id"]
        installation_ids = (
            {"installationCbamId": ids["installation_cbam_id"]}
            if ids.get("installation_cbam_id")
            else {}
        )
        goods.append(
            {
                "cnCode": good["cn_code"],
                "productDescription": good["name"],
                "businessTransactionDetails": {
                    "requestReferencePeriodStart": _instant(period["start"]),
                    "requestReferencePeriodEnd": _instant(period["end"], end=True),
                },
                "operator": [
                    {
                        "operatorIdentification": {
                            "operatorIsSupplier": True,
                            "operatorIds": operator_ids,
                            "operatorName": site["operator"],
                            "operatorContactEmailAddress": site["contact"]["email"],
                            "address": {
                                "street": site["address"]["street"],
                                "city": site["address"]["city"],
                                "countryCode": alpha3(site["address"]["country"]),
                            },
                        },
                        "installation": [
                            {
                                "installationIdentification": {
                                    "installationIds": installation_ids,
                                    "installationName": site["name"],
                                    "address": {
                                        "country": alpha3(site["address"]["country"]),
                                        "city": site["address"]["city"],
                                        "latitude": site["coordinates"]["latitude"],
                                        "longitude": site["coordinates"]["longitude"],
                                        "typeOfCoordinates": "01",
                                        "unLoCode": site["unlocode"],
                                    },
                                },
                                "emissionsRecords": [record],
                                "installationNetMass": process["produced_for_market_t"],
                            }
                        ],
                        "operatorNetMass": process["produced_for_market_t"],
                    }
                ],
            }
        )
    return {
        "good": goods,
        "companyIds": {
            "respondingCompanyIds": [{"key": "operatorName", "value": site["operator"]}],
        },
    }
