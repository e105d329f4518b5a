"""A PACT v3 client: discovery, token, listing with pagination, single footprints, events.

Pulled footprints are kept with their provenance (host, time, SHA-256 of the raw JSON) in the
store; `supplier_footprint` turns any of them into a purchased input of a bill of materials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from carbonlink.errors import ExchangeError
from carbonlink.exchange.pact import ProductFootprint, parse_product_footprint
from carbonlink.exchange.repository import ExchangeRepository

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=UTF-8"
_LINK = re.compile(r'<([^>]*)>\s*;\s*(?:[^,]*;\s*)*rel="?next"?', re.IGNORECASE)


class PactClientError(ExchangeError):
    """A PACT host refused a request or answered with something that is not PACT."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        self.status = status
        self.code = code
        super().__init__(message, hint="check the host URL, the credentials and the request")


def fetch_token(client: httpx.Client, base_url: str, client_id: str, secret: str) -> str:
    """An access token from a host (discovery first, then ``POST {token_endpoint}``)."""
    endpoint = discover_token_endpoint(client, base_url)
    response = client.post(
        endpoint,
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        raise PactClientError(
            f"{endpoint} refused the credentials of {client_id!r}: "
            f"HTTP {response.status_code} {response.text[:200]}",
            status=response.status_code,
            code=_json_field(response, "error"),
        )
    token = _json_field(response, "access_token")
    if not token:
        raise PactClientError(f"{endpoint} answered without an access_token")
    return token


def discover_token_endpoint(client: httpx.Client, base_url: str) -> str:
    """The token endpoint named by ``/.well-known/openid-configuration``, else ``/auth/token``."""
    base = base_url.rstrip("/")
    try:
        response = client.get(f"{base}/.well-known/openid-configuration")
    except httpx.HTTPError as exc:
        raise PactClientError(f"cannot reach {base}: {exc}") from exc
    if response.status_code == 200:
        endpoint = _json_field(response, "token_endpoint")
        if endpoint:
            return str(endpoint)
    return f"{base}/auth/token"


def _json_field(response: httpx.Response, name: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def next_link(header: str | None) -> str | None:
    """The target of ``rel="next"`` in an RFC 8288 ``Link`` header, or None."""
    if not header:
        return None
    match = _LINK.search(header)
    return match.group(1) if match else None


@dataclass(slots=True)
class PactClient:
    """A session with one PACT host, authenticated with our client credentials."""

    base_url: str
    client_id: str
    client_secret: str
    verify: Any = True
    """True, the path of a CA/self-signed certificate to trust, or an ``ssl.SSLContext``."""
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    _http: httpx.Client | None = field(default=None, init=False)
    _token: str | None = field(default=None, init=False)

    def __enter__(self) -> PactClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def http(self) -> httpx.Client:
        """The underlying httpx client (made on first use)."""
        if self._http is None:
            self._http = httpx.Client(
                verify=self.verify, timeout=self.timeout, transport=self.transport
            )
        return self._http

    def close(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def token(self, *, renew: bool = False) -> str:
        """The access token, fetched on first use (or again when ``renew``)."""
        if self._token is None or renew:
            self._token = fetch_token(self.http, self.base_url, self.client_id, self.client_secret)
        return self._token

    def _get(self, url: str, params: Any = None) -> httpx.Response:
        response = self.http.get(url, params=params, headers=self._headers())
        if response.status_code == 401:  # expired: one fresh token, one retry
            self.token(renew=True)
            response = self.http.get(url, params=params, headers=self._headers())
        return response

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}

    def pages(self, *, limit: int | None = None, **filters: Any) -> Iterator[list[dict[str, Any]]]:
        """Each page of ``GET /3/footprints``, following ``Link: rel="next"`` to the end.

        ``filters`` are the PACT criteria by their wire names (``productId=[…]``, ``status=…``).
        """
        params: list[tuple[str, str]] = []
        for name, value in filters.items():
            if value is None:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            params += [(name, str(v)) for v in values]
        if limit is not None:
            params.append(("limit", str(limit)))
        url: str | None = f"{self.base_url.rstrip('/')}/3/footprints"
        query: Any = params
        seen: set[str] = set()
        while url is not None:
            response = self._get(url, query)
            self._raise_for(response, url)
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise PactClientError(f"{url} did not answer with {{'data': [...]}}")
            yield body["data"]
            url = next_link(response.headers.get("link"))
            query = None
            if url is not None:
                if url in seen:
                    raise PactClientError(f"the host links back to a page seen before: {url}")
                seen.add(url)

    def list_footprints(self, *, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Every footprint the host lists for us (all pages), as JSON objects."""
        return [pf for page in self.pages(limit=limit, **filters) for pf in page]

    def get_footprint(self, pf_id: str) -> dict[str, Any]:
        """One footprint by id (``GET /3/footprints/{id}``)."""
        url = f"{self.base_url.rstrip('/')}/3/footprints/{pf_id}"
        response = self._get(url)
        self._raise_for(response, url)
        return dict(response.json()["data"])

    def send_event(self, event: dict[str, Any]) -> None:
        """POST a CloudEvent to the host's ``/3/events``."""
        url = f"{self.base_url.rstrip('/')}/3/events"
        content = json.dumps(event).encode()
        headers = {**self._headers(), "Content-Type": CLOUDEVENTS_JSON}
        response = self.http.post(url, content=content, headers=headers)
        if response.status_code == 401:
            self.token(renew=True)
            headers = {**self._headers(), "Content-Type": CLOUDEVENTS_JSON}
            response = self.http.post(url, content=content, headers=headers)
        self._raise_for(response, url)

    def pull(
        self, repository: ExchangeRepository, *, limit: int | None = None, **filters: Any
    ) -> list[ProductFootprint]:
        """List every footprint and keep each with its provenance; returns them validated."""
        pulled = []
        for page in self.pages(limit=limit, **filters):
            for document in page:
                raw = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                parse_product_footprint(raw)
                pulled.append(repository.store_received(raw, source=self.base_url, via="pull"))
        return pulled

    @staticmethod
    def _raise_for(response: httpx.Response, url: str) -> None:
        if response.status_code == 200:
            return
        raise PactClientError(
            f"{url}: HTTP {response.status_code} {response.text[:300]}",
            status=response.status_code,
            code=_json_field(response, "code"),
        )
