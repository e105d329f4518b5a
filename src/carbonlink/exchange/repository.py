"""The PACT exchange's records: partners and their grants, tokens, footprints and events.

A partner is a company that authenticates at our PACT host with OAuth2 client credentials (its
client id and a secret stored as HMAC-SHA-256 under the service key; a secret stored before the
key was used is an argon2id hash, replaced on its next use). It sees a published footprint only
when one of its grants names that footprint's id or one of the footprint's company ids.
Footprints are stored as the exact JSON published; filtering follows PACT v3.0.3
``ListFootprints`` (OR within one criterion, AND across criteria, case-insensitive matching of
URNs, geography and status).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, and_, delete, false, insert, or_, select, update

from carbonlink.errors import InputError
from carbonlink.exchange.pact import REQUEST_CREATED, ProductFootprint, parse_product_footprint
from carbonlink.exchange.schema import (
    pact_events,
    pact_footprint_keys,
    pact_footprints,
    pact_grants,
    pact_partners,
    pact_received_footprints,
    pact_tokens,
)
from carbonlink.service_key import KEYED_PREFIX, ServiceKey

Clock = Callable[[], datetime]
VALIDITY_YEARS = 3
"""A footprint without a validity period is valid for 3 years after its reference period end."""

_HASHER = PasswordHasher()


def utc_now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time as an aware UTC datetime (naive values are read as UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise InputError(
            f"{text!r} is not an RFC 3339 date-time", hint="write e.g. 2025-04-01T00:00:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def validity_period(footprint: ProductFootprint) -> tuple[datetime, datetime]:
    """Start and end of a footprint's validity (PACT v3 ``validityPeriodStart``/``End``).

    Without a stated period, the footprint is valid from its reference period end for 3 years.
    """
    reference_end = parse_instant(footprint.pcf.reference_period_end)
    start = (
        parse_instant(footprint.validity_period_start)
        if footprint.validity_period_start
        else reference_end
    )
    if footprint.validity_period_end:
        return start, parse_instant(footprint.validity_period_end)
    try:
        end = reference_end.replace(year=reference_end.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        end = reference_end.replace(year=reference_end.year + VALIDITY_YEARS, day=28)
    return start, end


def geography_of(footprint: ProductFootprint) -> list[str]:
    """The footprint's geography values (region, country, subdivision) as stated."""
    pcf = footprint.pcf
    values = [
        pcf.geography_region_or_subregion,
        pcf.geography_country,
        pcf.geography_country_subdivision,
    ]
    return [value for value in values if value]


DEFAULT_OWNER = "default"
"""The organization a stand-alone PACT host serves, and the owner of rows made before owners."""


@dataclass(frozen=True, slots=True)
class Partner:
    """A company with credentials at our PACT host."""

    client_id: str
    name: str
    organization: str
    company_ids: tuple[str, ...]
    events_url: str | None
    active: bool = True
    owner: str = DEFAULT_OWNER
    """The organization at our service whose partner this is."""


@dataclass(frozen=True, slots=True)
class FootprintFilter:
    """The eight ``ListFootprints`` criteria; empty tuples and None mean "any"."""

    product_id: tuple[str, ...] = ()
    company_id: tuple[str, ...] = ()
    geography: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    valid_on: datetime | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    status: str | None = None

    @classmethod
    def from_criteria(cls, criteria: dict[str, Any]) -> FootprintFilter:
        """A filter from PACT's criteria object (a RequestCreatedEvent's ``data``)."""

        def many(key: str) -> tuple[str, ...]:
            value = criteria.get(key)
            if value is None:
                return ()
            return tuple(value) if isinstance(value, list) else (str(value),)

        def instant(key: str) -> datetime | None:
            value = criteria.get(key)
            return parse_instant(value) if value else None

        products = many("productId")
        legacy = criteria.get("pf")
        if not products and isinstance(legacy, dict) and isinstance(legacy.get("productIds"), list):
            # PACT v2 requests name the products as data.pf.productIds.
            products = tuple(str(p) for p in legacy["productIds"])
        return cls(
            product_id=products,
            company_id=many("companyId"),
            geography=many("geography"),
            classification=many("classification"),
            valid_on=instant("validOn"),
            valid_after=instant("validAfter"),
            valid_before=instant("validBefore"),
            status=criteria.get("status"),
        )


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The outcome of looking up a bearer token."""

    partner: Partner | None
    expired: bool = False


@dataclass(slots=True)
class ExchangeRepository:
    """Reads and writes one organization's exchange through one SQLAlchemy engine.

    Every query is scoped to ``organization_id``. Only the credential checks (`authenticate`,
    `check_token`) look across organizations: a client id is unique in the service, and the
    partner they return names its owner, for which `for_owner` gives the scoped repository.
    """

    engine: Engine
    clock: Clock = field(default=utc_now)
    organization_id: str = field(default=DEFAULT_OWNER, kw_only=True)
    secret_key: bytes | None = field(default=None, kw_only=True, repr=False)
    """The service's secret key: client secrets are stored as HMAC-SHA-256 under it. Without
    one (a repository outside the service) new secrets get argon2id hashes, as before."""

    def for_owner(self, organization_id: str) -> ExchangeRepository:
        """The same store scoped to another organization's exchange."""
        return ExchangeRepository(
            self.engine, self.clock, organization_id=organization_id, secret_key=self.secret_key
        )

    def _secret_hash(self, secret: str) -> str:
        if self.secret_key is None:
            return _HASHER.hash(secret)
        return ServiceKey(self.secret_key).digest(secret)

    def owners(self) -> list[str]:
        """Organizations with partners or events in this store (for a worker serving all)."""
        query = select(pact_partners.c.organization_id).union(select(pact_events.c.organization_id))
        with self.engine.connect() as connection:
            return sorted(connection.execute(query).scalars())

    # -- partners and credentials ---------------------------------------------------------
    def add_partner(
        self,
        client_id: str,
        secret: str,
        *,
        name: str,
        organization: str,
        company_ids: Sequence[str] = (),
        events_url: str | None = None,
        grant_companies: Sequence[str] = (),
        grant_footprints: Sequence[str] = (),
    ) -> Partner:
        """Register a partner with its client credentials (the secret is stored hashed).

        Its first grants are stored in the same transaction: the partner exists with all of
        them or not at all.
        """
        if len(secret) < 16:
            raise InputError(
                "a PACT client secret needs at least 16 characters",
                record=client_id,
                hint="use `secrets.token_urlsafe(32)` or let the CLI make one",
            )
        if events_url is not None and not events_url.lower().startswith("https://"):
            raise InputError(
                f"the host URL of PACT partner {client_id!r} is not an HTTPS URL: {events_url}",
                record=client_id,
                hint="PACT hosts are reached over HTTPS only: give https://host/base",
            )
        with self.engine.begin() as connection:
            # Client ids are unique across the service: a token names exactly one partner.
            exists = connection.execute(
                select(pact_partners.c.client_id).where(pact_partners.c.client_id == client_id)
            ).first()
            if exists:
                raise InputError(
                    f"a PACT partner with client id {client_id!r} exists already",
                    record=client_id,
                    hint="choose another client id or remove the partner first",
                )
            connection.execute(
                insert(pact_partners).values(
                    client_id=client_id,
                    secret_hash=self._secret_hash(secret),
                    name=name,
                    organization=organization,
                    company_ids=json.dumps(list(company_ids)),
                    events_url=events_url,
                    active=True,
                    created_at=self.clock(),
                    organization_id=self.organization_id,
                )
            )
            grants = _grant_rows(client_id, grant_footprints, grant_companies)
            if grants:
                connection.execute(insert(pact_grants), grants)
        return Partner(
            client_id,
            name,
            organization,
            tuple(company_ids),
            events_url,
            owner=self.organization_id,
        )

    def partner(self, client_id: str) -> Partner | None:
        """This organization's partner with this client id, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(pact_partners).where(
                    pact_partners.c.client_id == client_id,
                    pact_partners.c.organization_id == self.organization_id,
                )
            ).first()
        return None if row is None else _partner(row)

    def partners(self) -> list[Partner]:
        """Every partner of this organization, by client id."""
        query = (
            select(pact_partners)
            .where(pact_partners.c.organization_id == self.organization_id)
            .order_by(pact_partners.c.client_id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query)
            return [_partner(row) for row in rows]

    def grant(
        self, client_id: str, *, footprints: Sequence[str] = (), companies: Sequence[str] = ()
    ) -> None:
        """Let a partner see footprints by id, or every footprint of the given company URNs."""
        if self.partner(client_id) is None:
            raise InputError(f"no PACT partner {client_id!r}", hint="add the partner first")
        rows = _grant_rows(client_id, footprints, companies)
        with self.engine.begin() as connection:
            existing = {
                (row.kind, row.value)
                for row in connection.execute(
                    select(pact_grants).where(pact_grants.c.client_id == client_id)
                )
            }
            fresh = [row for row in rows if (row["kind"], row["value"]) not in existing]
            if fresh:
                connection.execute(insert(pact_grants), fresh)

    def grants(self, client_id: str) -> dict[str, list[str]]:
        """A partner's grants: footprint ids and company URNs (lower case), sorted."""
        found: dict[str, list[str]] = {"footprint": [], "company": []}
        if self.partner(client_id) is None:
            return found
        query = (
            select(pact_grants.c.kind, pact_grants.c.value)
            .where(pact_grants.c.client_id == client_id)
            .order_by(pact_grants.c.kind, pact_grants.c.value)
        )
        with self.engine.connect() as connection:
            for kind, value in connection.execute(query):
                found[kind].append(value)
        return found

    def set_partner_active(self, client_id: str, active: bool) -> Partner:
        """Deactivate (its tokens are revoked at once) or reactivate one of our partners."""
        return self._change_partner(client_id, active=active)

    def rotate_secret(self, client_id: str, secret: str) -> Partner:
        """Give a partner a new client secret; the old one and its tokens stop working."""
        if len(secret) < 16:
            raise InputError("a PACT client secret needs at least 16 characters", record=client_id)
        return self._change_partner(client_id, secret_hash=self._secret_hash(secret))

    def _change_partner(self, client_id: str, **values: Any) -> Partner:
        mine = and_(
            pact_partners.c.client_id == client_id,
            pact_partners.c.organization_id == self.organization_id,
        )
        with self.engine.begin() as connection:
            done = connection.execute(update(pact_partners).where(mine).values(**values))
            if done.rowcount != 1:
                raise InputError(
                    f"no PACT partner {client_id!r} in this organization",
                    record=client_id,
                    hint="list the partners to find its client id",
                )
            connection.execute(delete(pact_tokens).where(pact_tokens.c.client_id == client_id))
            row = connection.execute(select(pact_partners).where(mine)).one()
        return _partner(row)

    def published(self) -> list[dict[str, Any]]:
        """This organization's published footprints (id, status, time, document), in order."""
        f = pact_footprints
        query = (
            select(f.c.pf_id, f.c.status, f.c.published_at, f.c.document)
            .where(f.c.organization_id == self.organization_id)
            .order_by(f.c.published_at, f.c.pf_id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def authenticate(self, client_id: str, secret: str) -> Partner | None:
        """The partner when ``secret`` is its client secret; None otherwise.

        Secrets stored under the service key are checked with one HMAC, unknown client ids
        included, so a flood of token requests costs next to nothing. A secret still stored as
        an argon2id hash (made before the key was used) is checked that once more and then
        stored under the key.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(pact_partners).where(pact_partners.c.client_id == client_id)
            ).first()
        key = ServiceKey(self.secret_key) if self.secret_key is not None else None
        if row is None or not row.active:
            if key is not None:
                key.matches(KEYED_PREFIX, secret)  # the same work as a known id
            return None
        stored = str(row.secret_hash)
        if stored.startswith(KEYED_PREFIX):
            return _partner(row) if key is not None and key.matches(stored, secret) else None
        try:
            _HASHER.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return None
        if key is not None:
            with self.engine.begin() as connection:
                connection.execute(
                    update(pact_partners)
                    .where(
                        pact_partners.c.client_id == client_id,
                        pact_partners.c.secret_hash == stored,
                    )
                    .values(secret_hash=key.digest(secret))
                )
        return _partner(row)

    def issue_token(self, client_id: str, lifetime: timedelta) -> str:
        """A new opaque bearer token for the partner, valid for ``lifetime``."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(delete(pact_tokens).where(pact_tokens.c.expires_at < now))
            connection.execute(
                insert(pact_tokens).values(
                    token_hash=_sha256(token), client_id=client_id, expires_at=now + lifetime
                )
            )
        return token

    def check_token(self, token: str) -> TokenCheck:
        """The partner a bearer token belongs to, or why there is none."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(pact_tokens, pact_partners)
                .join(pact_partners, pact_partners.c.client_id == pact_tokens.c.client_id)
                .where(pact_tokens.c.token_hash == _sha256(token))
            ).first()
        if row is None or not row.active:
            return TokenCheck(None)
        if row.expires_at <= self.clock():
            return TokenCheck(None, expired=True)
        return TokenCheck(_partner(row))

    # -- published footprints -------------------------------------------------------------
    def publish(self, footprint: ProductFootprint | dict[str, Any] | str) -> str:
        """Store a footprint for the host to serve; returns its id. Re-publishing replaces it."""
        if isinstance(footprint, ProductFootprint):
            document = json.dumps(footprint.to_json(), ensure_ascii=False)
            model = footprint
        else:
            document = footprint if isinstance(footprint, str) else json.dumps(footprint)
            model = parse_product_footprint(document)
        start, end = validity_period(model)
        values = {
            "document": document,
            "product_ids": json.dumps([u.lower() for u in model.product_ids]),
            "company_ids": json.dumps([u.lower() for u in model.company_ids]),
            "classifications": json.dumps([u.lower() for u in model.product_classifications or []]),
            "geography": json.dumps(geography_of(model)),
            "valid_from": start,
            "valid_to": end,
            "status": model.status,
            "published_at": self.clock(),
        }
        pf_id = model.id.lower()
        keys = _footprint_keys(model)
        with self.engine.begin() as connection:
            owner = connection.execute(
                select(pact_footprints.c.organization_id).where(pact_footprints.c.pf_id == pf_id)
            ).scalar()
            if owner is not None and owner != self.organization_id:
                raise InputError(
                    f"footprint {pf_id} is published by another organization",
                    record=pf_id,
                    hint="give the footprint a new id (a fresh UUID)",
                )
            done = connection.execute(
                update(pact_footprints).where(pact_footprints.c.pf_id == pf_id).values(**values)
            )
            if done.rowcount == 0:
                connection.execute(
                    insert(pact_footprints).values(
                        pf_id=pf_id, organization_id=self.organization_id, **values
                    )
                )
            connection.execute(
                delete(pact_footprint_keys).where(pact_footprint_keys.c.pf_id == pf_id)
            )
            connection.execute(
                insert(pact_footprint_keys),
                [{"pf_id": pf_id, "kind": kind, "value": value} for kind, value in keys],
            )
        return pf_id

    def footprint_document(self, pf_id: str) -> tuple[str, bool] | None:
        """The stored JSON of a footprint and whether it exists; None when unknown."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(pact_footprints.c.document).where(
                    pact_footprints.c.pf_id == pf_id.lower(),
                    pact_footprints.c.organization_id == self.organization_id,
                )
            ).first()
        return None if row is None else (row.document, True)

    def may_see(self, partner: Partner, pf_id: str) -> bool:
        """Whether a partner's grants cover a footprint."""
        return bool(self.visible(partner, FootprintFilter(), pf_ids=(pf_id.lower(),)))

    def visible(
        self,
        partner: Partner,
        criteria: FootprintFilter,
        *,
        pf_ids: Sequence[str] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[str]:
        """JSON documents the partner may see and that meet ``criteria``, in publication order.

        One SQL query: access (a grant of the footprint's id or of one of its company ids),
        each list criterion as an EXISTS over the footprint's keys (OR within, AND across),
        validity and status on the footprint row; ``offset``/``limit`` page the result.
        """
        f = pact_footprints
        grants = select(pact_grants.c.value).where(pact_grants.c.client_id == partner.client_id)
        by_id = f.c.pf_id.in_(grants.where(pact_grants.c.kind == "footprint"))
        by_company = _has_key("company", grants.where(pact_grants.c.kind == "company"))
        query = select(f.c.document).where(
            f.c.organization_id == self.organization_id, or_(by_id, by_company)
        )
        if pf_ids:
            query = query.where(f.c.pf_id.in_([pf.lower() for pf in pf_ids]))
        for kind, values in (
            ("product", criteria.product_id),
            ("company", criteria.company_id),
            ("classification", criteria.classification),
            ("geography", criteria.geography),
        ):
            if values:
                query = query.where(_has_key(kind, [v.lower() for v in values]))
        if criteria.valid_on is not None:
            query = query.where(f.c.valid_from <= criteria.valid_on)
            query = query.where(f.c.valid_to >= criteria.valid_on)
        if criteria.valid_after is not None:
            query = query.where(f.c.valid_from > criteria.valid_after)
        if criteria.valid_before is not None:
            query = query.where(f.c.valid_to < criteria.valid_before)
        if criteria.status is not None:
            status = {"active": "Active", "deprecated": "Deprecated"}.get(criteria.status.lower())
            query = query.where(f.c.status == status if status else false())
        query = query.order_by(f.c.published_at, f.c.pf_id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    # -- received footprints --------------------------------------------------------------
    def store_received(self, document: str | bytes, *, source: str, via: str) -> ProductFootprint:
        """Keep a footprint received from a partner with its provenance; returns it parsed."""
        raw = document.encode() if isinstance(document, str) else document
        footprint = parse_product_footprint(raw)
        digest = hashlib.sha256(raw).hexdigest()
        with self.engine.begin() as connection:
            seen = connection.execute(
                select(pact_received_footprints.c.id).where(
                    and_(
                        pact_received_footprints.c.organization_id == self.organization_id,
                        pact_received_footprints.c.pf_id == footprint.id.lower(),
                        pact_received_footprints.c.sha256 == digest,
                    )
                )
            ).first()
            if seen is None:
                connection.execute(
                    insert(pact_received_footprints).values(
                        pf_id=footprint.id.lower(),
                        source=source,
                        received_at=self.clock(),
                        sha256=digest,
                        document=raw.decode(),
                        via=via,
                        organization_id=self.organization_id,
                    )
                )
        return footprint

    def received(self, pf_id: str | None = None) -> list[dict[str, Any]]:
        """Received footprints with provenance (source, time, SHA-256), oldest first."""
        query = (
            select(pact_received_footprints)
            .where(pact_received_footprints.c.organization_id == self.organization_id)
            .order_by(pact_received_footprints.c.id)
        )
        if pf_id is not None:
            query = query.where(pact_received_footprints.c.pf_id == pf_id.lower())
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    # -- events ---------------------------------------------------------------------------
    def record_event(
        self,
        document: dict[str, Any],
        *,
        direction: str,
        partner: str,
        status: str,
        request_event_id: str | None = None,
        target_url: str | None = None,
    ) -> bool:
        """Keep an event; False when the same event from/to the same partner is known already."""
        now = self.clock()
        with self.engine.begin() as connection:
            known = connection.execute(
                select(pact_events.c.id).where(
                    and_(
                        pact_events.c.direction == direction,
                        pact_events.c.partner == partner,
                        pact_events.c.event_id == str(document["id"]),
                    )
                )
            ).first()
            if known is not None:
                return False
            connection.execute(
                insert(pact_events).values(
                    event_id=str(document["id"]),
                    direction=direction,
                    partner=partner,
                    type=str(document["type"]),
                    request_event_id=request_event_id,
                    target_url=target_url,
                    status=status,
                    attempts=0,
                    next_attempt_at=now if direction == "sent" else None,
                    document=json.dumps(document, ensure_ascii=False),
                    created_at=now,
                    updated_at=now,
                    organization_id=self.organization_id,
                )
            )
        return True

    def events(
        self,
        *,
        partner: str | None = None,
        direction: str | None = None,
        type: str | None = None,
        request_event_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Recorded events, oldest first, narrowed by the given fields."""
        query = (
            select(pact_events)
            .where(pact_events.c.organization_id == self.organization_id)
            .order_by(pact_events.c.id)
        )
        for column, value in (
            (pact_events.c.partner, partner),
            (pact_events.c.direction, direction),
            (pact_events.c.type, type),
            (pact_events.c.request_event_id, request_event_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def claim(self, row_id: int, expected: str, new: str) -> bool:
        """Move an event from status ``expected`` to ``new``; False if someone else did first."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(pact_events)
                .where(
                    and_(
                        pact_events.c.id == row_id,
                        pact_events.c.status == expected,
                        pact_events.c.organization_id == self.organization_id,
                    )
                )
                .values(status=new, updated_at=self.clock())
            )
        return done.rowcount == 1

    def set_event_status(
        self, row_id: int, status: str, *, expected: str | None = None, **values: Any
    ) -> bool:
        """Update an event's status and delivery fields (only from ``expected``, when given)."""
        query = update(pact_events).where(
            pact_events.c.id == row_id, pact_events.c.organization_id == self.organization_id
        )
        if expected is not None:
            query = query.where(pact_events.c.status == expected)
        with self.engine.begin() as connection:
            done = connection.execute(
                query.values(status=status, updated_at=self.clock(), **values)
            )
        return done.rowcount == 1

    def due(self, limit: int = 100) -> list[dict[str, Any]]:
        """Sent events waiting for (another) delivery attempt whose time has come."""
        now = self.clock()
        query = (
            select(pact_events)
            .where(
                and_(
                    pact_events.c.organization_id == self.organization_id,
                    pact_events.c.direction == "sent",
                    pact_events.c.status == "pending",
                    or_(
                        pact_events.c.next_attempt_at.is_(None),
                        pact_events.c.next_attempt_at <= now,
                    ),
                )
            )
            .order_by(pact_events.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def open_requests(self) -> list[dict[str, Any]]:
        """Received RequestCreated events not answered yet."""
        query = (
            select(pact_events)
            .where(
                and_(
                    pact_events.c.organization_id == self.organization_id,
                    pact_events.c.direction == "received",
                    pact_events.c.type == REQUEST_CREATED,
                    pact_events.c.status == "received",
                )
            )
            .order_by(pact_events.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def _grant_rows(
    client_id: str, footprints: Sequence[str], companies: Sequence[str]
) -> list[dict[str, str]]:
    """Grant rows, each (kind, value) once: values are matched case-insensitively, so a grant
    listed twice, or in two spellings, is one grant."""
    keys = {("footprint", pf.lower()): None for pf in footprints}
    keys |= {("company", c.lower()): None for c in companies}
    return [{"client_id": client_id, "kind": kind, "value": value} for kind, value in keys]


def _footprint_keys(footprint: ProductFootprint) -> set[tuple[str, str]]:
    """The lower-cased values a footprint is found by; a subdivision also gives its country."""
    keys = {("product", u.lower()) for u in footprint.product_ids}
    keys |= {("company", u.lower()) for u in footprint.company_ids}
    keys |= {("classification", u.lower()) for u in footprint.product_classifications or []}
    for value in geography_of(footprint):
        keys.add(("geography", value.lower()))
        country, dash, _ = value.partition("-")
        if dash and len(country) == 2:
            keys.add(("geography", country.lower()))
    return keys


def _has_key(kind: str, values: Any) -> Any:
    """EXISTS a key of ``kind`` of the current footprint among ``values``."""
    k = pact_footprint_keys
    return (
        select(k.c.pf_id)
        .where(k.c.pf_id == pact_footprints.c.pf_id, k.c.kind == kind, k.c.value.in_(values))
        .exists()
    )


def _partner(row: Any) -> Partner:
    return Partner(
        client_id=row.client_id,
        name=row.name,
        organization=row.organization,
        company_ids=tuple(json.loads(row.company_ids)),
        events_url=row.events_url,
        active=bool(row.active),
        owner=row.organization_id,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
