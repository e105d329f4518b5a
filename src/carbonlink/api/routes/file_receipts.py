"""The receipt page of a report file: the ledger entry, the inclusion proof, the signed
checkpoint and what the server checked, with the same check to run in the browser.

The page carries the entry's canonical bytes, the proof hashes, the checkpoint note and the
log's public key; `static/receipt.js` hashes the downloaded file (WebCrypto SHA-256),
recomputes the Merkle root (RFC 9162 §2.1.3.2) and verifies the checkpoint's Ed25519 signature
(WebCrypto Ed25519), so a reader who compares the key with the one the organization publishes
need not trust the server for the result.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carbonlink.api.deps import Context
from carbonlink.api.routes.pages import _page_caller, _render, report_file_path

router = APIRouter(include_in_schema=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/files/{label}/receipt")
def file_receipt(label: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    path = report_file_path(ctx, caller, label)
    check = ctx.file_checks.check(path, ctx.engine, ctx.settings.workspace)
    file_url = f"/files/{quote(label, safe='')}"
    browser = None
    if check.entry is not None and check.checkpoint_note is not None and check.vkey is not None:
        browser = {
            "file_url": file_url,
            "name": check.name,
            "index": check.index,
            "size": check.checkpoint_size,
            "entry": _b64(check.entry),
            "proof": [_b64(h) for h in check.proof],
            "note": check.checkpoint_note.decode("utf-8"),
            "vkey": check.vkey.vkey(),
        }
    return _render(
        request,
        ctx,
        "file_receipt.html",
        caller,
        nav="overview",
        label=label,
        file_url=file_url,
        check=check,
        proof=[_b64(h) for h in check.proof],
        entry_json=(
            json.dumps(check.content, ensure_ascii=False, indent=2) if check.content else None
        ),
        browser_json=json.dumps(browser, ensure_ascii=False) if browser else None,
    )
