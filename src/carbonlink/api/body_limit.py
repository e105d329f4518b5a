"""Request bodies refused past a size before the application reads them (413).

Three caps: the credential endpoints (the token endpoints, log-in and password forms) take
16 KiB, any other HTML form (``application/x-www-form-urlencoded``) 1 MiB, and everything else
(uploads, API batches) the configured ``max_body_mb``. A declared ``Content-Length`` past the cap
is refused at once; a body sent without one (chunked) is read up to the cap and refused as soon
as it passes it, so no more than the cap is ever held.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonlink.api.problems import Problem

CREDENTIAL_BYTES = 16 * 1024
FORM_BYTES = 1024 * 1024
CREDENTIAL_PATHS = frozenset(
    {
        "/pact/auth/token",
        "/api/v1/oauth/token",
        "/login",
        "/account/password",
        "/api/v1/me/password",
        "/api/v1/password-reset",
        "/password-reset",
    }
)


class BodyLimit:
    """ASGI middleware: 413 for a request body larger than its cap."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def cap(self, scope: Scope) -> int:
        """The largest body this request may carry."""
        if scope.get("path", "") in CREDENTIAL_PATHS:
            return CREDENTIAL_BYTES
        headers = dict(scope.get("headers") or [])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind == b"application/x-www-form-urlencoded":
            return min(FORM_BYTES, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > cap:
                await _refuse(send, cap)
                return
            # The server holds the client to its Content-Length; nothing more can arrive.
            await self.app(scope, receive, send)
            return
        # No length declared: read ahead up to the cap, then hand the body on.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > cap:
                await _refuse(send, cap)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, cap: int) -> None:
    body = (
        Problem(
            title="Content Too Large",
            status=413,
            detail=f"the request body is larger than {cap} bytes",
            hint="send a smaller body, or split the data into several requests",
        )
        .model_dump_json(exclude_none=True)
        .encode()
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
