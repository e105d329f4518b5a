"""JSON-LD contexts from local copies, and a document loader that refuses every other URL.

The W3C contexts are copied from the ``@digitalbazaar/credentials-context`` npm package into
``contexts/`` by ``make`` (W3C Software and Document License; the notice travels with them in
``contexts/LICENSE.md``). Verification therefore never touches the network: a credential that
names any other context fails with a message that names the URL.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from carbonlink.credentials.errors import CredentialError

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
UNDEFINED_TERMS_V2 = "https://www.w3.org/ns/credentials/undefined-terms/v2"

LOCAL_CONTEXTS = {
    CREDENTIALS_V2: "v2.jsonld",
    UNDEFINED_TERMS_V2: "undefined-terms-v2.jsonld",
}

ISSUER_TERMS = "https://www.w3.org/ns/credentials/issuer-dependent#"

CARBONLINK_CONTEXT: dict[str, Any] = {
    "@vocab": ISSUER_TERMS,
    "productFootprint": {"@id": ISSUER_TERMS + "productFootprint", "@type": "@json"},
    "communication": {"@id": ISSUER_TERMS + "communication", "@type": "@json"},
}
"""Our own terms, inline: the PACT footprint and the CBAM communication travel as JSON literals
(so their ``id`` fields and decimals are signed exactly as written); every other claim name
maps to the W3C issuer-dependent vocabulary."""

CONTEXT = [CREDENTIALS_V2, CARBONLINK_CONTEXT]


@cache
def local_context(url: str) -> dict[str, Any]:
    """The parsed local copy of a known context."""
    name = LOCAL_CONTEXTS.get(url)
    if name is None:
        raise CredentialError(
            f"the JSON-LD context {url} is not one carbonlink knows",
            hint=f"credentials may use only {', '.join(LOCAL_CONTEXTS)} and inline contexts",
        )
    path = files("carbonlink.credentials") / "contexts" / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialError(
            f"the local copy of {url} is missing",
            file=str(path),
            hint="run 'make .venv/.installed', which copies it from the npm package",
        ) from exc
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def document_loader(url: str, options: object = None) -> dict[str, Any]:
    """A pyld document loader serving only the local contexts."""
    return {"contextUrl": None, "documentUrl": url, "document": local_context(url)}
