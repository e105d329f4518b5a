"""The witness endpoints of c2sp.org/tlog-witness, under the ``witness_prefix`` setting.

``POST <prefix>/add-checkpoint`` cosigns a partner log's checkpoint once it has shown that the
log only grew; ``GET <prefix>/<origin hash>/checkpoint`` serves the latest checkpoint cosigned
for a log, to monitors. The protocol has no authentication beyond the log's signature on the
checkpoint, so these routes need no login; answers are plain text with the status codes the
specification gives (see `carbonlink.ledger.witness`).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from carbonlink.api.deps import ServiceContext
from carbonlink.errors import ConfigError
from carbonlink.ledger.keys import load_witness_signer
from carbonlink.ledger.witness import (
    SIZE_CONTENT_TYPE,
    SizeConflict,
    UnknownLog,
    Witness,
    WitnessRefusal,
)

TEXT = "text/plain; charset=utf-8"
_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")
_REQUEST_EXAMPLE = (
    "old 8\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "\n"
    "carbonlink.local/supplier-ledger-2a1fdb31\n"
    "11\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— carbonlink.local/supplier-ledger-2a1fdb31 Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeO"
    "oRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def _text(description: str, example: str, media: str = "text/plain") -> dict[str, Any]:
    return {"description": description, "content": {media: {"example": example}}}


_REFUSED: dict[int | str, dict[str, Any]] = {
    400: _text("malformed body, or old size above the checkpoint size", "first line …\n"),
    403: _text("no valid signature by the log's trusted key", "checkpoint … not signed\n"),
    404: _text("the checkpoint's origin is not a log this witness witnesses", "…\n"),
    409: _text(
        "old size is not the size last cosigned: the body is that size", "8\n", SIZE_CONTENT_TYPE
    ),
    422: _text("not consistent with what the witness cosigned (bad proof, fork)", "…\n"),
}


def _witness(ctx: ServiceContext) -> Witness:
    try:
        signer = load_witness_signer(ctx.settings.workspace)
    except ConfigError as exc:
        raise UnknownLog(
            "this service witnesses no logs (it has no witness key)",
            hint="its operator makes one with 'carbonlink witness key'",
        ) from exc
    return Witness(ctx.engine, signer)


def _refusal(exc: WitnessRefusal) -> Response:
    if isinstance(exc, SizeConflict):
        # Exactly this content type, without the charset Starlette adds to text/* types.
        return Response(
            f"{exc.known_size}\n", status_code=409, headers={"Content-Type": SIZE_CONTENT_TYPE}
        )
    return PlainTextResponse(f"{exc}\n", status_code=exc.status)


def router_for(prefix: str) -> APIRouter:
    """The witness routes mounted at ``prefix`` (the ``witness_prefix`` setting)."""
    router = APIRouter(prefix=prefix, tags=["witness"])

    @router.post(
        "/add-checkpoint",
        response_class=PlainTextResponse,
        responses={
            200: _text("the witness's cosignature line(s)", "— witness.example/w1 jWbP…\n"),
            **_REFUSED,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"example": _REQUEST_EXAMPLE}},
            }
        },
    )
    async def add_checkpoint(request: Request) -> Response:
        """Cosign a log's checkpoint, given a consistency proof from the size last cosigned.

        The body: ``old <size>``, one base64 proof hash a line, a blank line, the signed
        checkpoint (c2sp.org/tlog-witness). The answer: cosignature/v1 note signature lines.
        """
        ctx: ServiceContext = request.app.state.ctx
        body = await request.body()

        def cosign() -> bytes:
            return _witness(ctx).add_checkpoint(body)

        try:
            lines = await run_in_threadpool(cosign)
        except WitnessRefusal as exc:
            return _refusal(exc)
        return Response(lines, media_type=TEXT)

    @router.get(
        "/{origin_hash}/checkpoint",
        response_class=PlainTextResponse,
        responses={
            200: _text("the checkpoint with the log's signature and this witness's", "…\n"),
            404: _REFUSED[404],
        },
    )
    def latest_checkpoint(origin_hash: str, request: Request) -> Response:
        """The latest checkpoint this witness cosigned for the log whose origin has this hash.

        ``origin_hash`` is the lowercase hex SHA-256 of the log's origin line.
        """
        ctx: ServiceContext = request.app.state.ctx
        try:
            if not _ORIGIN_HASH.fullmatch(origin_hash):
                raise UnknownLog("the origin hash is not 64 lowercase hex digits")
            log = _witness(ctx).log_by_hash(origin_hash)
            if log.note is None:
                raise UnknownLog(f"this witness has not cosigned a checkpoint of {log.origin} yet")
        except WitnessRefusal as exc:
            return _refusal(exc)
        return Response(log.note, media_type=TEXT)

    return router
