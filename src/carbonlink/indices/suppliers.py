"""The built-in supplier green-and-digital development index, from the PACT exchange records.

`supplier_indicators` turns what the exchange knows about each supplier (the footprints received
from it and its answers to our footprint requests) into one row of the indicator table as of a
date; `supplier_index` builds the shipped spec (``supplier_green_digital.yaml``) on it.

A supplier is a registered partner we sent a footprint request to, or one we received a
footprint from. A received footprint belongs to the partner that sent it (``source`` is its
client id, ``portal:<client id>`` for portal answers, or its host URL for pulls); failing that,
to the one partner whose company ids it names. Its *current* footprints are, per footprint id,
the last version received by the date, unless Deprecated, replaced by a later footprint
(``precedingPfIds``) or expired (validity end before the date).

Indicators (all missing when the supplier's records give nothing to compute them from):

- EMISSION_INTENSITY, % of peer median: PCFs are per declared unit of different products, so a
  footprint is compared only with footprints of the same product: its
  ``pcfExcludingBiogenicUptake / declaredUnitAmount`` as a percentage of the median over all
  suppliers' current footprints sharing its first product classification (that has peers) and
  its declared unit, when at least two suppliers have such footprints; the supplier's value is
  the mean over its compared footprints. Lower is better.
- RENEWABLE_SHARE, %: PACT v3 has no such property; it is read from the footprint extension
  ``urn:carbonlink:pact-extension:renewable-electricity:1`` (``data.renewableElectricityShare``,
  a percentage 0–100, as PACT's ``primaryDataShare``), mean over current footprints that carry it.
- PRIMARY_DATA_SHARE, %: mean of ``pcf.primaryDataShare`` over current footprints stating it.
- DATA_COMPLETENESS, %: fulfilled requests / requests due. A request sent by the date is due
  when it was answered by then or sent at least `ANSWER_WITHIN` (30 days) before the date;
  rejected and unanswered due requests count as not answered.
- REPORTING_TIMELINESS, %: requests fulfilled within `ANSWER_WITHIN` of being sent / requests
  due; rejected and unanswered requests count as not timely.

The repository is handed in (anything with ``partners()``, ``received()`` and ``events()`` of
`carbonlink.exchange.repository.ExchangeRepository`); this module reads nothing else.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from carbonlink.exchange.pact import (
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    InvalidPactDocumentError,
    ProductFootprint,
    parse_decimal,
    parse_product_footprint,
)
from carbonlink.exchange.repository import validity_period
from carbonlink.indices.data import NAME_COL, UNIT_COL, IndicatorData
from carbonlink.indices.errors import IndexDataError
from carbonlink.indices.examples import example_path
from carbonlink.indices.pipeline import IndexResult, build
from carbonlink.indices.spec import IndexSpec, load_spec

__all__ = [
    "ANSWER_WITHIN",
    "INDICATORS",
    "RENEWABLE_EXTENSION",
    "SPEC_FILE",
    "IndicatorScore",
    "NoSupplierDataError",
    "SupplierData",
    "SupplierScore",
    "collect_suppliers",
    "index_of",
    "supplier_index",
    "supplier_indicators",
    "supplier_scores",
    "supplier_spec",
]

SPEC_FILE = "supplier_green_digital.yaml"
ANSWER_WITHIN = timedelta(days=30)
RENEWABLE_EXTENSION = "urn:carbonlink:pact-extension:renewable-electricity:1"
INDICATORS = (
    "EMISSION_INTENSITY",
    "RENEWABLE_SHARE",
    "PRIMARY_DATA_SHARE",
    "DATA_COMPLETENESS",
    "REPORTING_TIMELINESS",
)
DETAIL_COLUMNS = ("footprints", "requests_sent", "requests_due", "median_answer_days")
STRENGTH, WEAKNESS = 75.0, 25.0
"""Normalised scores (0–100) from which a measured indicator counts as strength or weakness."""


class SupplierPartner(Protocol):
    """What the index reads of a registered partner."""

    @property
    def client_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def company_ids(self) -> tuple[str, ...]: ...
    @property
    def events_url(self) -> str | None: ...


class ExchangeRecords(Protocol):
    """The methods of the exchange repository the index reads."""

    def partners(self) -> Sequence[SupplierPartner]: ...
    def received(self, pf_id: str | None = None) -> list[dict[str, Any]]: ...
    def events(
        self,
        *,
        partner: str | None = None,
        direction: str | None = None,
        type: str | None = None,
        request_event_id: str | None = None,
    ) -> list[dict[str, Any]]: ...


class NoSupplierDataError(IndexDataError):
    """No supplier has answered a request or sent a footprint yet: there is nothing to rank."""


@dataclass(frozen=True)
class SupplierData:
    """The indicator table (one row per supplier, details beside the indicators) and notes.

    Notes name records that could not be used (unattributed footprints, bad extension values).
    """

    indicators: IndicatorData
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Footprint:
    supplier: str
    pf_id: str
    per_unit: float
    unit: str
    classifications: tuple[str, ...]
    primary_share: float | None
    renewable_share: float | None


def collect_suppliers(repository: ExchangeRecords, *, as_of: datetime) -> SupplierData:
    """The indicator table of every supplier as of ``as_of`` (an aware datetime)."""
    if as_of.tzinfo is None:
        raise IndexDataError(
            f"as_of {as_of.isoformat()} has no time zone", hint="give an aware datetime (UTC)"
        )
    notes: list[str] = []
    partners = {p.client_id: p for p in repository.partners()}
    requests = _requests(repository, as_of)
    footprints = _current_footprints(repository, partners, as_of, notes)
    # Requests name partners by client id; one no longer registered is not ranked.
    suppliers = sorted(
        (set(requests) & partners.keys()) | {f.supplier for f in footprints},
        key=lambda s: (partners[s].name.lower(), s),
    )
    ratios = _peer_ratios(footprints)
    rows = []
    for supplier in suppliers:
        mine = [f for f in footprints if f.supplier == supplier]
        asked = requests.get(supplier, [])
        due = [r for r in asked if r.answered_at is not None or r.sent_at <= as_of - ANSWER_WITHIN]
        fulfilled = [r for r in due if r.fulfilled]
        timely = [r for r in fulfilled if r.within(ANSWER_WITHIN)]
        days = [r.answer_days for r in fulfilled if r.answer_days is not None]
        rows.append(
            {
                UNIT_COL: supplier,
                NAME_COL: partners[supplier].name,
                "EMISSION_INTENSITY": _mean(ratios[f.pf_id] for f in mine if f.pf_id in ratios),
                "RENEWABLE_SHARE": _mean(f.renewable_share for f in mine),
                "PRIMARY_DATA_SHARE": _mean(f.primary_share for f in mine),
                "DATA_COMPLETENESS": 100.0 * len(fulfilled) / len(due) if due else np.nan,
                "REPORTING_TIMELINESS": 100.0 * len(timely) / len(due) if due else np.nan,
                "footprints": len(mine),
                "requests_sent": len(asked),
                "requests_due": len(due),
                "median_answer_days": statistics.median(days) if days else np.nan,
            }
        )
    columns = [UNIT_COL, NAME_COL, *INDICATORS, *DETAIL_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    frame[list(INDICATORS)] = frame[list(INDICATORS)].astype(float)
    return SupplierData(IndicatorData(frame, source="PACT exchange records"), tuple(notes))


def supplier_indicators(repository: ExchangeRecords, *, as_of: datetime) -> IndicatorData:
    """One row per supplier: the five indicators (see the module docstring) and details."""
    return collect_suppliers(repository, as_of=as_of).indicators


def supplier_spec() -> IndexSpec:
    """The shipped spec of the supplier index."""
    return load_spec(example_path(SPEC_FILE))


def supplier_index(
    repository: ExchangeRecords, *, as_of: datetime, spec: IndexSpec | None = None
) -> IndexResult:
    """Build the supplier index (the shipped spec unless ``spec``); its hash is in the result.

    Raises `NoSupplierDataError` when no supplier has any indicator yet.
    """
    return index_of(collect_suppliers(repository, as_of=as_of), spec)


def index_of(collected: SupplierData, spec: IndexSpec | None = None) -> IndexResult:
    """Build the supplier index on collected supplier data (see `supplier_index`)."""
    frame = collected.indicators.frame
    if frame.empty or frame[list(INDICATORS)].isna().all(axis=None):
        raise NoSupplierDataError(
            "no supplier has answered a footprint request or sent a footprint yet",
            hint="register suppliers and send them footprint requests (PACT or the portal)",
        )
    result = build(spec or supplier_spec(), collected.indicators)
    result.notes.extend(collected.notes)
    return result


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    """One indicator of one supplier: measured value (None if imputed), value used, score."""

    code: str
    measured: float | None
    used: float | None
    score: float | None


@dataclass(frozen=True, slots=True)
class SupplierScore:
    """A ranked supplier with its dimension scores and indicator profile."""

    code: str
    name: str
    score: float
    rank: int
    dimensions: dict[str, float | None]
    indicators: tuple[IndicatorScore, ...]
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    details: dict[str, float | None] = field(default_factory=dict)

    @property
    def available(self) -> int:
        """How many indicators were measured (not imputed)."""
        return sum(1 for i in self.indicators if i.measured is not None)


def supplier_scores(result: IndexResult, data: IndicatorData) -> list[SupplierScore]:
    """The ranked suppliers of a built index, best first.

    Strengths are measured indicators scoring at least 75 of 100 after normalisation,
    weaknesses those scoring 25 or less, best and worst first; imputed values are neither.
    """
    fw = result.framework
    raw = result.datasets["Raw"]
    used = result.datasets.get("Imputed", raw)
    normalised = result.datasets["Normalised"]
    details = data.frame.set_index(UNIT_COL)
    dims = [c for lv in range(2, fw.n_levels) for c in fw.codes[lv]]
    out = []
    for unit, row in result.index_table().iterrows():
        code = str(unit)
        scores = []
        for ind in fw.indicators:
            measured = _number(raw.at[code, ind])
            scores.append(
                IndicatorScore(
                    ind, measured, _number(used.at[code, ind]), _number(normalised.at[code, ind])
                )
            )
        ranked = sorted(
            (s for s in scores if s.measured is not None and s.score is not None),
            key=lambda s: -(s.score or 0.0),
        )
        out.append(
            SupplierScore(
                code=code,
                name=str(row["uName"]),
                score=float(row["score"]),
                rank=int(row["rank"]),
                dimensions={d: _number(result.scores.at[code, d]) for d in dims},
                indicators=tuple(scores),
                strengths=tuple(s.code for s in ranked if (s.score or 0.0) >= STRENGTH),
                weaknesses=tuple(s.code for s in reversed(ranked) if (s.score or 0.0) <= WEAKNESS),
                details={c: _number(details.at[code, c]) for c in DETAIL_COLUMNS},
            )
        )
    return out


# --- reading the records ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Request:
    sent_at: datetime
    answered_at: datetime | None
    fulfilled: bool

    def within(self, delay: timedelta) -> bool:
        return self.answered_at is not None and self.answered_at - self.sent_at <= delay

    @property
    def answer_days(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.sent_at).total_seconds() / 86400.0


def _requests(repository: ExchangeRecords, as_of: datetime) -> dict[str, list[_Request]]:
    """Requests sent per supplier by ``as_of``, each with its answer if one came by then."""
    answers: dict[str, tuple[datetime, bool]] = {}
    for kind in (REQUEST_FULFILLED, REQUEST_REJECTED):
        for row in repository.events(direction="received", type=kind):
            request_id = row["request_event_id"]
            if request_id is None or row["created_at"] > as_of:
                continue
            known = answers.get(request_id)
            if known is None or row["created_at"] < known[0]:
                answers[request_id] = (row["created_at"], kind == REQUEST_FULFILLED)
    out: dict[str, list[_Request]] = defaultdict(list)
    for row in repository.events(direction="sent", type=REQUEST_CREATED):
        if row["created_at"] > as_of:
            continue
        answer = answers.get(row["event_id"])
        out[row["partner"]].append(
            _Request(
                sent_at=row["created_at"],
                answered_at=answer[0] if answer else None,
                fulfilled=bool(answer and answer[1]),
            )
        )
    return dict(out)


def _attribute(
    row: dict[str, Any],
    footprint: ProductFootprint,
    partners: dict[str, SupplierPartner],
) -> str | None:
    """The client id of the partner a received footprint came from, or None."""
    source = str(row["source"])
    if source in partners:
        return source
    if source.startswith("portal:") and source[7:] in partners:
        return source[7:]
    by_host = [
        p.client_id
        for p in partners.values()
        if p.events_url and p.events_url.rstrip("/") == source.rstrip("/")
    ]
    if len(by_host) == 1:
        return by_host[0]
    named = {c.lower() for c in footprint.company_ids}
    by_company = [
        p.client_id for p in partners.values() if named & {c.lower() for c in p.company_ids}
    ]
    return by_company[0] if len(by_company) == 1 else None


def _current_footprints(
    repository: ExchangeRecords,
    partners: dict[str, SupplierPartner],
    as_of: datetime,
    notes: list[str],
) -> list[_Footprint]:
    latest: dict[str, tuple[str, ProductFootprint]] = {}
    for row in repository.received():
        if row["received_at"] > as_of:
            continue
        try:
            footprint = parse_product_footprint(row["document"])
        except InvalidPactDocumentError as exc:
            notes.append(f"received footprint {row['pf_id']} is not valid PACT v3: {exc.message}")
            continue
        supplier = _attribute(row, footprint, partners)
        if supplier is None:
            notes.append(
                f"footprint {footprint.id} from {row['source']} matches no single supplier; "
                "register the supplier with the company ids it uses"
            )
            continue
        latest[footprint.id.lower()] = (supplier, footprint)  # rows come oldest first
    replaced = {
        p.lower() for _, f in latest.values() for p in (f.preceding_pf_ids or []) if p is not None
    }
    out = []
    for pf_id, (supplier, footprint) in latest.items():
        if footprint.status != "Active" or pf_id in replaced:
            continue
        if validity_period(footprint)[1] < as_of:
            continue
        pcf = footprint.pcf
        out.append(
            _Footprint(
                supplier=supplier,
                pf_id=pf_id,
                per_unit=parse_decimal(pcf.pcf_excluding_biogenic_uptake)
                / parse_decimal(pcf.declared_unit_amount),
                unit=pcf.declared_unit_of_measurement,
                classifications=tuple(c.lower() for c in footprint.product_classifications or []),
                primary_share=(
                    parse_decimal(pcf.primary_data_share)
                    if pcf.primary_data_share is not None
                    else None
                ),
                renewable_share=_renewable_share(footprint, notes),
            )
        )
    return out


def _renewable_share(footprint: ProductFootprint, notes: list[str]) -> float | None:
    """``data.renewableElectricityShare`` of the renewable-electricity extension, if any."""
    for extension in footprint.extensions or []:
        if extension.data_schema != RENEWABLE_EXTENSION:
            continue
        value = extension.data.get("renewableElectricityShare")
        try:
            share = float(value) if isinstance(value, (int, float)) else parse_decimal(str(value))
        except (ArithmeticError, ValueError):
            share = float("nan")
        if not 0.0 <= share <= 100.0:
            notes.append(
                f"footprint {footprint.id}: renewableElectricityShare {value!r} is not a "
                "percentage from 0 to 100; ignored — ask the supplier to correct it"
            )
            return None
        return share
    return None


def _peer_ratios(footprints: list[_Footprint]) -> dict[str, float]:
    """Per footprint id: 100 × its PCF per declared unit / the median of its peer group.

    The peer group is (classification, declared unit); a footprint uses its first listed
    classification whose group holds footprints of at least two suppliers.
    """
    groups: dict[tuple[str, str], list[_Footprint]] = defaultdict(list)
    for f in footprints:
        for c in f.classifications:
            groups[(c, f.unit)].append(f)
    out = {}
    for f in footprints:
        for c in f.classifications:
            peers = groups[(c, f.unit)]
            if len({p.supplier for p in peers}) < 2:
                continue
            median = statistics.median(p.per_unit for p in peers)
            if median > 0:
                out[f.pf_id] = 100.0 * f.per_unit / median
            break
    return out


def _mean(values: Iterable[float | None]) -> float:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else np.nan


def _number(value: Any) -> float | None:
    return None if value is None or bool(pd.isna(value)) else float(value)
