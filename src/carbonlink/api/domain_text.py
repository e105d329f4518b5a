"""Domain texts on the pages in the reader's language: methods, scopes, reasons, citations, files.

The accounting engine, the ingest checks and the demo write these texts in English, and they are
stored that way (in runs, plans, the quarantine). The pages translate them here, at display:
codes through a table (method ``combustion``, tier ``national_default``, subject ``coke``) and
sentences through the patterns the domain writes them with (``vintage 2013, the latest not after
2025``), each pattern an English message of the catalogue with named fields. A saved run thus
reads in Chinese without being recomputed; a text no pattern knows is shown as it was written.

Every English message here is a msgid of the Chinese catalogue (``zh17.po``); the dashboard's
language test checks that, and the page crawl fails on any of these texts left in English.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

Gettext = Callable[[str], str]

METHODS = {
    "combustion": "Fuel combustion",
    "carbonate": "Carbonate decomposition (fluxes)",
    "process": "Process emissions",
    "carbon_fixed": "Carbon fixed in products",
    "mass_balance": "Carbon mass balance",
    "electricity": "Purchased or exported electricity",
    "heat": "Purchased or exported heat",
    "fugitive": "Fugitive emissions (refrigerants)",
    "generic": "Activity data × emission factor",
}
SCOPES = {
    "1": "Scope 1",
    "2_location": "Scope 2 (location-based)",
    "2_market": "Scope 2 (market-based)",
    "3": "Scope 3",
    "exported": "Exported",
    "biogenic": "Biogenic CO2 (reported separately)",
}
TIERS = {
    "ipcc default": "IPCC default",
    "national default": "national default",
    "supplier specific": "supplier specific",
    "measured": "measured",
}
PARAMETERS = {
    "ef": "Emission factor",
    "ncv": "Net calorific value",
    "carbon_content": "Carbon content per unit heat",
    "oxidation": "Oxidation rate",
    "ef_co2": "CO2 emission factor",
    "ef_ch4": "CH4 emission factor",
    "ef_n2o": "N2O emission factor",
    "ef_grid": "Grid emission factor",
    "ef_instrument": "Emission factor of the instrument",
    "ef_residual": "Residual mix emission factor",
    "ef_heat": "Heat emission factor",
    "carbon_fraction": "Carbon content (mass fraction)",
}
INSTRUMENTS = {
    "green_certificate": "green electricity certificate",
    "i_rec": "I-REC certificate",
    "go": "guarantee of origin",
    "ppa": "power purchase agreement",
    "supplier_rate": "supplier-specific rate",
}
# Documents of the shipped factor files, each with its official title in the catalogue.
DOCUMENTS = (
    "Guidelines for GHG accounting and reporting of China iron and steel enterprises (trial), "
    "NDRC 2013",
    "GB/T 32150-2015 General guideline of GHG emissions accounting and reporting for industrial "
    "enterprises",
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 Energy",
    "2006 IPCC Guidelines, Vol. 2",
    "2006 IPCC Guidelines, Vol. 3 IPPU",
    "MEE/NBS announcement 2024 No. 12 (2021 data; 12 Apr 2024)",
    "MEE/NBS announcement of 20 Dec 2024 (2022 data)",
    "MEE/NBS announcement of January 2026 (2023 data)",
    "MEE General Office letter 环办气候函〔2023〕43号 (7 Feb 2023)",
    "US EPA GHG Emission Factors Hub 2024",
    "IPCC AR5 WG1 (2013)",
    "IPCC AR6 WG1 (2021)",
    "IPCC AR4 WG1 (2007)",
)
TABLES = (
    "Table 1.2",
    "Table 1.3",
    "Table 1.4",
    "Table 2.3 (manufacturing industries and construction)",
    "Section 1.4.2.1 (oxidation factor 1 by default)",
    "Appendix 2",
    "Appendix A Table A.1",
    "Appendix 2 (process)",
    "Section on purchased heat",
    "Table 2.1 (stoichiometric)",
    "Table 4.3 (carbon contents for iron and steel)",
    "national/regional/provincial average factors",
    "national grid average for power-sector ETS reporting",
    "Table 1 Stationary Combustion (heat content)",
    "Table 1 Stationary Combustion",
    "Table 8.A.1 (without climate-carbon feedback)",
)
LICENCES = (
    "IPCC guideline figures cited as facts",
    "PRC official document (Copyright Law Art. 5); figures cited as facts",
    "national standard, copyright SAC / Standards Press of China; figures cited as facts",
    "IPCC guideline figures cited as facts; values follow from molar masses",
    "US Government work (public domain)",
    "supplied by the reporting organization",
)
# Names of files the monitoring step lists (the demo's and `carbonlink monitor`'s labels).
FILE_LABELS = (
    "inventory file",
    "inventory result",
    "metered inventory file",
    "metered inventory result",
    "uncertainty",
    "monitoring",
    "monitoring plan",
    "supply chain summary",
    "GHG inventory",
    "China guideline report",
    "reconciliation",
)


@dataclass(frozen=True)
class Pattern:
    """A sentence the domain writes, as a regular expression and its catalogue message."""

    regex: re.Pattern[str]
    message: str
    fields: dict[str, Callable[[str, Gettext], str]]

    def render(self, match: re.Match[str], gettext: Gettext) -> str:
        values = {
            name: self.fields.get(name, _keep)(text or "", gettext)
            for name, text in match.groupdict().items()
        }
        return gettext(self.message) % values


def _keep(text: str, gettext: Gettext) -> str:
    return text


def _tier(text: str, gettext: Gettext) -> str:
    return gettext(TIERS.get(text, text))


def _instrument(text: str, gettext: Gettext) -> str:
    return gettext(INSTRUMENTS[text]) if text in INSTRUMENTS else text


def _pattern(regex: str, message: str, **fields: Callable[[str, Gettext], str]) -> Pattern:
    return Pattern(re.compile(regex), message, fields)


TIER_WORDS = "|".join(TIERS)
# One part of a factor-selection reason (the engine joins the parts with "; ").
REASON_PATTERNS = (
    _pattern(rf"^(?P<tier>{TIER_WORDS})$", "%(tier)s", tier=_tier),
    _pattern(rf"^(?P<tier>{TIER_WORDS}) value$", "%(tier)s value", tier=_tier),
    _pattern(r"^grid region (?P<region>\S+)$", "grid region %(region)s"),
    _pattern(r"^international default$", "international default"),
    _pattern(r"^jurisdiction (?P<place>\S+)$", "jurisdiction %(place)s"),
    _pattern(
        r"^no (?P<region>\S+) value of a usable vintage$",
        "no %(region)s value of a usable vintage",
    ),
    _pattern(
        r"^vintage (?P<year>\d+), the latest not after the pinned (?P<pinned>\d+)$",
        "vintage %(year)s, the latest not after the pinned %(pinned)s",
    ),
    _pattern(
        r"^vintage (?P<year>\d+), the latest not after (?P<period>\d+)$",
        "vintage %(year)s, the latest not after %(period)s",
    ),
    _pattern(
        r"^preferred over (?P<ids>.+) and (?P<more>\d+) more$",
        "preferred over %(ids)s and %(more)s more",
    ),
    _pattern(r"^preferred over (?P<ids>.+)$", "preferred over %(ids)s"),
    _pattern(r"^pinned by the source \((?P<id>.+)\)$", "pinned by the source (%(id)s)"),
    _pattern(r"^wins over default (?P<id>.+)$", "wins over default %(id)s"),
    _pattern(
        r"^no residual mix published for this place$", "no residual mix published for this place"
    ),
    _pattern(
        r"^grid average used \(GHG Protocol Scope 2 Guidance, Table 6\.3\)$",
        "grid average used (GHG Protocol Scope 2 Guidance, Table 6.3)",
    ),
    _pattern(r"^factor stated by instrument (?P<name>.+)$", "factor stated by instrument %(name)s"),
    _pattern(
        r"^(?P<kind>[a-z_]+) (?P<name>\S+): renewable attribute, 0 kg CO2/kWh$",
        "%(kind)s %(name)s: renewable attribute, 0 kg CO2/kWh",
        kind=_instrument,
    ),
    _pattern(
        r"^(?P<gas>\S+) is (?P<share>\d+%) of (?P<blend>\S+) by mass$",
        "%(gas)s is %(share)s of %(blend)s by mass",
    ),
)
# Why a received record was held back (``carbonlink.ingest``): the frequent sentences.
QUARANTINE_PATTERNS = (
    _pattern(
        r"^unknown meter (?P<meter>'[^']*'): register it first.*$",
        "unknown meter %(meter)s: register it first, then re-process",
    ),
    _pattern(
        r"^meter (?P<meter>'[^']*') not found in your organization$",
        "meter %(meter)s not found in your organization",
    ),
    _pattern(
        r"^value (?P<value>\S+) (?P<unit>\S+) is outside the plausible range "
        r"\[(?P<low>[^,]+), (?P<high>[^\]]+)\] \S+ of meter (?P<meter>\S+)$",
        "value %(value)s %(unit)s is outside the plausible range [%(low)s, %(high)s] of meter "
        "%(meter)s",
    ),
    _pattern(
        r"^value (?P<value>.+) is not a number$",
        "value %(value)s is not a number",
    ),
    _pattern(
        r"^unit (?P<unit>\S+) does not fit meter (?P<meter>\S+) \((?P<meter_unit>[^)]+)\)(?::.*)?$",
        "unit %(unit)s does not fit meter %(meter)s (%(meter_unit)s)",
    ),
    _pattern(
        r"^timestamp (?P<ts>\S+) is outside the plausible window (?P<window>.+? UTC).*$",
        "timestamp %(ts)s is outside the plausible window %(window)s; check the source's clock",
    ),
    _pattern(
        r"^timestamp has no UTC offset; add 'Z' or '\+08:00'$",
        "timestamp has no UTC offset; add 'Z' or '+08:00'",
    ),
    _pattern(
        r"^row has (?P<n>\d+) fields, the header has (?P<width>\d+)$",
        "row has %(n)s fields, the header has %(width)s",
    ),
    _pattern(
        r"^(?P<value>-\S+) (?P<unit>\S+) on consumption register (?P<meter>\S+): "
        r"a consumption cannot be negative$",
        "%(value)s %(unit)s on consumption register %(meter)s: a consumption cannot be negative",
    ),
)
ALLOCATION_RULES = {
    "mass allocation (physical relationship: mass of co-products)": (
        "mass allocation (physical relationship: mass of co-products)"
    ),
    "economic allocation (revenue of co-products)": "economic allocation (revenue of co-products)",
}


def _allocation_rule(text: str, gettext: Gettext) -> str:
    if text in ALLOCATION_RULES:
        return gettext(ALLOCATION_RULES[text])
    basis = text.removeprefix("physical allocation by ")
    return gettext("physical allocation by %(basis)s") % {"basis": basis}


ALLOCATION_PATTERNS = (
    _pattern(
        r"^(?P<standard>ISO 14067:2018 §6\.4\.6 / GB/T 24067-2024) (?P<rule>.+); "
        r"shares: (?P<shares>.*)$",
        "%(standard)s %(rule)s; shares: %(shares)s",
        rule=_allocation_rule,
    ),
)
# What the account forms refuse (`carbonlink.api.security`), message and hint apart.
ACCOUNT_PATTERNS = (
    _pattern(
        r"^password shorter than (?P<n>\d+) characters$",
        "password shorter than %(n)s characters",
    ),
    _pattern(
        r"^password too easy to guess: (?P<why>.+)$",
        "password too easy to guess: %(why)s",
    ),
    _pattern(r"^wait (?P<s>\d+) s and try again$", "wait %(s)s s and try again"),
)
ACCOUNT_TEXTS = (
    "password contains your name or e-mail address",
    "the current password is wrong",
    "the new password is the current one",
    "the two new passwords differ",
    "this password reset link is unknown, used or expired",
    "this account is disabled",
    "this password reset link has been used",
    "too many attempts",
    "choose a longer password, e.g. a few unrelated words",
    "choose a password that has nothing to do with you",
    "avoid common passwords, your name and your e-mail; a few unrelated words work",
    "type the password you logged in with",
    "choose a password you have not used",
    "type the same password twice",
    "ask an administrator of your organization for a new one",
    "ask an administrator",
)
# Citations of values given for one source (``carbonlink.domain.factors.measured_factor``).
CITATION_PATTERNS = (
    _pattern(r"^instrument (?P<name>\S+)$", "instrument %(name)s"),
    _pattern(r"^value given for source (?P<source>\S+)$", "value given for source %(source)s"),
    _pattern(
        r"^PACT footprint (?P<id>\S+) of (?P<supplier>.+), SHA-256 (?P<sha>[0-9a-f]+)$",
        "PACT footprint %(id)s of %(supplier)s, SHA-256 %(sha)s",
    ),
)
FILE_PATTERNS = (
    _pattern(
        r"^(?P<what>.+) \((?P<format>JSON|XLSX|PDF|HTML|CSV)\)$",
        "%(what)s (%(format)s)",
        what=lambda text, gettext: file_label(text, gettext),
    ),
    _pattern(r"^PACT footprint (?P<product>.+)$", "PACT footprint %(product)s"),
    _pattern(r"^supplier footprint (?P<subject>.+)$", "supplier footprint %(subject)s"),
    _pattern(r"^receipt (?P<name>.+)$", "receipt %(name)s"),
)


def _translate(text: str, patterns: tuple[Pattern, ...], gettext: Gettext) -> str | None:
    for pattern in patterns:
        match = pattern.regex.match(text)
        if match:
            return pattern.render(match, gettext)
    return None


def method_name(code: str, gettext: Gettext) -> str:
    """The calculation method's name (``combustion`` → Fuel combustion / 化石燃料燃烧)."""
    return gettext(METHODS[code]) if code in METHODS else code


def scope_label(scope: str, gettext: Gettext) -> str:
    """A line's scope key as a label (``2_location`` → Scope 2 (location-based))."""
    key = str(scope)
    return gettext(SCOPES[key]) if key in SCOPES else key


def parameter_name(name: str, gettext: Gettext) -> str:
    """A formula parameter's name (``ncv`` → Net calorific value / 低位发热量)."""
    return gettext(PARAMETERS[name]) if name in PARAMETERS else name


def factor_reason(reason: str, gettext: Gettext) -> str:
    """Why a factor won resolution, part by part; an unknown part is kept as written."""
    parts = [_translate(p, REASON_PATTERNS, gettext) or p for p in reason.split("; ")]
    return gettext("; ").join(parts)


def citation(text: str, gettext: Gettext) -> str:
    """A factor's citation with the document's official title and the table in the language.

    Several citations joined with "; " (a source priced by more than one factor) are
    translated one by one where the whole is not one citation.
    """
    whole = _citation(text, gettext)
    if whole is not None:
        return whole
    if "; " in text:
        parts = text.split("; ")
        return gettext("; ").join(_citation(part, gettext) or part for part in parts)
    return text


def _citation(text: str, gettext: Gettext) -> str | None:
    for document in DOCUMENTS:
        if text == document:
            return gettext(document)
        if text.startswith(document + ", ") and text[len(document) + 2 :] in TABLES:
            return gettext("%(document)s, %(table)s") % {
                "document": gettext(document),
                "table": gettext(text[len(document) + 2 :]),
            }
    return _translate(text, CITATION_PATTERNS, gettext)


def account_error(text: str, gettext: Gettext) -> str:
    """A refused password or reset as the form shows it (``record: message — hint``)."""
    main, _, hint = text.partition(" — ")
    record, found, message = main.partition(": ")
    known = message in ACCOUNT_TEXTS or _translate(message, ACCOUNT_PATTERNS, gettext)
    if not (found and known):
        record, message = "", main

    def one(part: str) -> str:
        if part in ACCOUNT_TEXTS:
            return gettext(part)
        return _translate(part, ACCOUNT_PATTERNS, gettext) or part

    shown = one(message)
    if record:
        shown = gettext("%(record)s: %(message)s") % {"record": record, "message": shown}
    if hint:
        shown += gettext("(%(hint)s)") % {"hint": one(hint)}
    return shown


def licence(text: str, gettext: Gettext) -> str:
    return gettext(text) if text in LICENCES else text


def file_label(label: str, gettext: Gettext) -> str:
    """What a written file is (``GHG inventory (PDF)`` → 温室气体排放清单 (PDF))."""
    if label in FILE_LABELS:
        return gettext(label)
    return _translate(label, FILE_PATTERNS, gettext) or label


def quarantine_reason(reason: str, gettext: Gettext) -> str:
    """Why a record was held back, in the language where the sentence is known."""
    return _translate(reason, QUARANTINE_PATTERNS, gettext) or reason


def allocation(text: str, gettext: Gettext) -> str:
    """How a footprint was split over co-products (ISO 14067 §6.4.6), in the language."""
    return _translate(text, ALLOCATION_PATTERNS, gettext) or text


@lru_cache(maxsize=1)
def template_source_names() -> dict[str, tuple[str, str]]:
    """Source id of the shipped industry templates → (English name, Chinese name)."""
    from carbonlink.monitor.plan import TEMPLATE_IDS, load_template

    names: dict[str, tuple[str, str]] = {}
    for template_id in TEMPLATE_IDS:
        template = load_template(template_id)
        names.setdefault(template.id, (template.name.en, template.name.zh))
        for source in template.sources:
            names.setdefault(source.id, (source.name.en, source.name.zh))
    return names


def template_name(code: str, lang: str) -> str:
    """An industry template's or template source's name in ``lang`` (the code when unknown)."""
    found = template_source_names().get(code)
    if found is None:
        return code
    return found[1] if lang == "zh" else found[0]


def plan_text(text: str, gettext: Gettext) -> str:
    """A monitoring-plan template's code or sentence, in the language."""
    return gettext(text) if text in plan_texts() else text


def plan_text_source(shown: str, stored: str, gettext: Gettext) -> str:
    """The stored text a form sent back unchanged in translation (``shown``), else ``shown``."""
    return stored if shown == plan_text(stored, gettext) else shown


@lru_cache(maxsize=1)
def plan_texts() -> frozenset[str]:
    """The sampling and data-gap sentences a new monitoring plan starts from."""
    from carbonlink.monitor.plan import _DEFAULTS

    return frozenset(text for _, _, sampling, gap in _DEFAULTS.values() for text in (sampling, gap))


@lru_cache(maxsize=1)
def subject_names() -> dict[str, tuple[str, str]]:
    """Subject code → (English name, Chinese name) of fuels, materials and grid factors."""
    data = resources.files("carbonlink.data")
    names: dict[str, tuple[str, str]] = {}
    for row in csv.DictReader(data.joinpath("fuels.csv").read_text("utf-8").splitlines()):
        chinese = [a for a in row["aliases"].split(";") if a and not a.isascii()]
        names[row["fuel"]] = (row["name"], chinese[0] if chinese else row["name"])
    for row in csv.DictReader(data.joinpath("names_zh.csv").read_text("utf-8").splitlines()):
        names[row["subject"]] = (row["en"], row["zh"])
    return names


def subject_name(code: str, lang: str) -> str:
    """A fuel's, material's or grid factor's name in ``lang`` (the code when none is known)."""
    found = subject_names().get(code)
    if found is None:
        return code
    return found[1] if lang == "zh" else found[0]


def messages() -> set[str]:
    """Every English message this module translates through the catalogue."""
    out = {*METHODS.values(), *SCOPES.values(), *TIERS.values(), *PARAMETERS.values()}
    out |= {*INSTRUMENTS.values(), *DOCUMENTS, *TABLES, *LICENCES, *FILE_LABELS}
    out |= {*ALLOCATION_RULES.values(), "physical allocation by %(basis)s"}
    out |= {*ACCOUNT_TEXTS, "%(record)s: %(message)s", "(%(hint)s)"}
    patterns = (
        *REASON_PATTERNS,
        *QUARANTINE_PATTERNS,
        *FILE_PATTERNS,
        *ALLOCATION_PATTERNS,
        *CITATION_PATTERNS,
        *ACCOUNT_PATTERNS,
    )
    out |= {p.message for p in patterns}
    out |= plan_texts() | {"%(document)s, %(table)s", "; "}
    return out


def english_patterns() -> list[re.Pattern[str]]:
    """The domain's English sentences as patterns, for checking that a page left none."""
    patterns = (*REASON_PATTERNS, *QUARANTINE_PATTERNS, *ALLOCATION_PATTERNS, *CITATION_PATTERNS)
    return [p.regex for p in patterns]


def _filter(function: Callable[[str, Gettext], str]) -> Callable[[Context, Any], str]:
    @pass_context
    def apply(context: Context, value: Any) -> str:
        if value is None:
            return ""
        return function(str(value), context["_"])

    return apply


FILTERS: dict[str, Callable[..., str]] = {
    "method_name": _filter(method_name),
    "scope_label": _filter(scope_label),
    "parameter_name": _filter(parameter_name),
    "factor_reason": _filter(factor_reason),
    "citation": _filter(citation),
    "licence": _filter(licence),
    "file_label": _filter(file_label),
    "quarantine_reason": _filter(quarantine_reason),
    "plan_text": _filter(plan_text),
    "allocation": _filter(allocation),
    "account_error": _filter(account_error),
}


@pass_context
def _subject_filter(context: Context, value: Any) -> str:
    return subject_name(str(value), context.get("lang", "en"))


@pass_context
def _template_filter(context: Context, value: Any) -> str:
    return template_name(str(value), context.get("lang", "en"))


@pass_context
def _file_label_filter(context: Context, value: Any) -> str:
    label = str(value)
    prefix = "supplier footprint "
    if label.startswith(prefix):
        subject = subject_name(label[len(prefix) :], context.get("lang", "en"))
        return context["_"]("supplier footprint %(subject)s") % {"subject": subject}
    return file_label(label, context["_"])


FILTERS["subject_name"] = _subject_filter
FILTERS["file_label"] = _file_label_filter
FILTERS["template_name"] = _template_filter


def install_filters(filters: dict[str, Any]) -> None:
    """Register the translating filters on a Jinja environment's ``filters``."""
    filters.update(FILTERS)
