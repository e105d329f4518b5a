"""Static files: hashed URLs, compressed and cached; the API page's security schemes."""

from __future__ import annotations

import gzip
import re
from typing import TYPE_CHECKING

import brotli
import pytest

if TYPE_CHECKING:
    from conftest import Service

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _asset_url(html: str, name: str) -> str:
    match = re.search(rf'"(/static/{re.escape(name)}\.[0-9a-f]{{12}}\.(?:css|js))"', html)
    assert match, f"no hashed URL of {name} in the page"
    return match.group(1)


@SQLITE
def test_hashed_urls_are_immutable_and_compressed(service: Service) -> None:
    client, _ = service.login(service.users["viewer"])
    page = client.get("/alerts").text
    url = _asset_url(page, "app")
    raw = client.get("/static/app.css", headers={"accept-encoding": "identity"})
    assert raw.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in raw.headers

    hashed = client.get(url, headers={"accept-encoding": "gzip, deflate, br"})
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert hashed.headers["content-encoding"] == "br"
    assert hashed.headers["vary"] == "accept-encoding"
    assert hashed.content == raw.content  # httpx decodes brotli
    assert hashed.headers["content-type"].startswith("text/css")

    zipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    again = client.get(url, headers={"if-none-match": hashed.headers["etag"]})
    assert again.status_code == 304

    # outdated digits still serve the file, without the year-long promise
    stale = client.get("/static/app.000000000000.css")
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "no-cache"


@SQLITE
def test_compressed_bodies_decode_to_the_file(service: Service) -> None:
    """Checked on the raw bytes, independently of the client's own decoding."""
    from carbonlink.api.assets import StaticAssets

    assets: StaticAssets = next(
        r.app for r in service.app.routes if getattr(r, "path", "") == "/static"
    )  # type: ignore[attr-defined]
    path = assets.root / "app.js"
    asset = assets._load(path)
    assert asset is not None
    assert brotli.decompress(assets._encode(asset, "br")) == path.read_bytes()
    assert gzip.decompress(assets._encode(asset, "gzip")) == path.read_bytes()
    assert len(assets._encode(asset, "br")) < len(path.read_bytes()) / 2


@SQLITE
@pytest.mark.parametrize("path", ["/static/../app.py", "/static/.hidden", "/static/nothing.js"])
def test_only_the_folder_is_served(service: Service, path: str) -> None:
    assert service.client().get(path).status_code == 404


@SQLITE
def test_charts_load_echarts_and_other_pages_do_not(service: Service) -> None:
    client, _ = service.login(service.users["viewer"])
    assert "echarts" in client.get("/").text
    for path in ("/alerts", "/quality", "/factors", "/account"):
        assert "echarts" not in client.get(path).text, path


@SQLITE
def test_openapi_declares_how_to_authenticate(service: Service) -> None:
    document = service.client().get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "apiKey", "oauth2", "session"}
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/oauth/token"
    assert schemes["session"] == schemes["session"] | {"in": "cookie", "name": "carbonlink_session"}
    paths = document["paths"]
    assert {"bearer": []} in paths["/api/v1/me"]["get"]["security"]
    assert "security" not in paths["/api/v1/oauth/token"]["post"]


@SQLITE
def test_docs_page_carries_the_sessions_csrf_token(service: Service) -> None:
    anonymous = service.client().get("/api/docs").text
    assert '<html lang="en">' in anonymous
    assert '<meta name="csrf-token" content="">' in anonymous
    client, token = service.login(service.users["editor"])
    page = client.get("/api/docs").text
    assert f'<meta name="csrf-token" content="{token}">' in page
    # CSRF stays required for the cookie session, and not for a key sent in a header
    refused = client.put("/api/v1/alert-rules", json={})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    key = service.app.state.ctx.accounts.create_api_key("org-demo-steel", "docs", "editor")
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        answered = client.put("/api/v1/alert-rules", json={}, headers=headers)
        assert answered.status_code == 422, answered.text  # past authentication, body checked
