"""PACT host benchmark: listing, paging, filtering, single reads and events over HTTPS.

A host on SQLite serves N published footprints to one partner over TLS on loopback (uvicorn in a
thread, one httpx client with keep-alive). Floor measured in the same run: the discovery document
(``/.well-known/openid-configuration``), a request with no token check and no store access, so
each ratio says what authentication, the store and the footprint JSON add to a bare HTTPS round
trip.

    .venv/bin/python benchmarks/bench_pact.py [--footprints 5000] [--page 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carbonlink.exchange.client import PactClient
from carbonlink.exchange.host import HostConfig, create_pact_app
from carbonlink.exchange.pact import REQUEST_CREATED, parse_product_footprint
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.server import BackgroundHost
from carbonlink.exchange.tls import make_dev_certificate, trust
from carbonlink.store import create_store_engine, upgrade

COMPANY = "urn:pact:steel.example.com:company-id:1"
SECRET = "benchmark-secret-0123456789"


def footprint(n: int) -> dict[str, Any]:
    """A schema-valid footprint of about 1.3 kB, numbered n."""
    value = f"{1 + (n % 997) / 1000:.3f}"
    return {
        "id": str(uuid.UUID(int=n + 1, version=4)),
        "specVersion": "3.0.3",
        "created": "2026-01-15T00:00:00Z",
        "status": "Active" if n % 10 else "Deprecated",
        "companyName": "Demo Steel",
        "companyIds": [COMPANY],
        "productDescription": f"steel product {n}",
        "productIds": [f"urn:pact:steel.example.com:product-id:P{n}"],
        "productClassifications": ["urn:pact:productclassification:hs:720839"],
        "productNameCompany": f"Product {n}",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "geographyCountry": ["CN", "DE", "FR", "KR"][n % 4],
            "pcfExcludingBiogenicUptake": value,
            "pcfIncludingBiogenicUptake": value,
            "fossilCarbonContent": "0",
            "fossilGhgEmissions": value,
            "landUseChangeGhgEmissions": "0",
            "landManagementBiogenicCO2Emissions": "0",
            "landManagementBiogenicCO2Removals": "0",
            "biogenicCO2Uptake": "0",
            "biogenicNonCO2Emissions": "0",
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
        },
    }


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall seconds of each of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--footprints", type=int, default=5000)
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args()
    n = args.footprints
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cert, key = make_dev_certificate(root / "tls")
        engine = create_store_engine(f"sqlite:///{root / 'host.db'}")
        upgrade(engine)
        repository = ExchangeRepository(engine)
        repository.add_partner("bench", SECRET, name="Bench", organization="Bench")
        repository.grant("bench", companies=[COMPANY])
        documents = [footprint(i) for i in range(n)]
        parse_product_footprint(documents[0])
        start = time.perf_counter()
        for document in documents:
            repository.publish(document)
        publish_s = time.perf_counter() - start
        app = create_pact_app(engine, HostConfig(worker_interval=None, max_page_size=1000))
        tls = trust(cert)
        with BackgroundHost(app, certfile=cert, keyfile=key) as host:
            client = PactClient(host.url, "bench", SECRET, verify=tls)
            token_s = timed(lambda: client.token(renew=True), 5)
            http = client.http
            headers = {"Authorization": f"Bearer {client.token()}"}
            url = host.url

            def discovery() -> None:
                http.get(f"{url}/.well-known/openid-configuration").raise_for_status()

            floor = timed(discovery, 200)

            def list_all() -> None:
                found = client.list_footprints(limit=args.page)
                assert len(found) == n, len(found)

            listing = timed(list_all, 3)

            def filtered() -> None:
                response = http.get(
                    f"{url}/3/footprints",
                    params={"productId": "urn:pact:steel.example.com:product-id:P7"},
                    headers=headers,
                )
                assert len(response.json()["data"]) == 1

            filtering = timed(filtered, 20)
            ids = [d["id"] for d in documents[: min(n, 200)]]
            reads = iter(ids * 2)

            def read_one() -> None:
                http.get(f"{url}/3/footprints/{next(reads)}", headers=headers).raise_for_status()

            single = timed(read_one, len(ids))

            def post_event() -> None:
                event = {
                    "type": REQUEST_CREATED,
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": "https://bench.example",
                    "time": "2026-06-01T00:00:00Z",
                    "data": {"productId": ["urn:pact:steel.example.com:product-id:P1"]},
                }
                response = http.post(
                    f"{url}/3/events",
                    content=json.dumps(event),
                    headers={**headers, "Content-Type": "application/cloudevents+json"},
                )
                assert response.status_code == 200, response.text

            events = timed(post_event, 200)
            client.close()
        engine.dispose()

    floor_s = statistics.median(floor)
    pages = -(-n // args.page)

    def line(label: str, seconds: float, extra: str = "") -> None:
        print(f"  {label:<44}: {seconds * 1000:9.2f} ms ({seconds / floor_s:7.1f} × floor){extra}")

    print(f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    print(f"PACT host over HTTPS on loopback, SQLite, {n:,} footprints, one partner")
    token_ms = statistics.median(token_s) * 1000
    publish_label = f"publish {n:,} footprints into the store"
    print(f"  {publish_label:<44}: {publish_s:9.3f} s")
    print(f"  {'token (argon2id verify + issue), median':<44}: {token_ms:9.2f} ms")
    line("floor: discovery document, median", floor_s)
    best = min(listing)
    line(
        f"list all, {pages} pages of {args.page} (best of 3)",
        best,
        f" = {n / best:,.0f} footprints/s, {best / pages * 1000:.1f} ms/page",
    )
    line("filtered list (one productId), median", statistics.median(filtering))
    line("GET /3/footprints/{id}, median", statistics.median(single))
    line("POST /3/events RequestCreated, median", statistics.median(events))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
