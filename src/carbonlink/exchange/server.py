"""Running a PACT host over HTTPS with uvicorn: in the foreground, or in a thread on loopback.

The thread form serves tests and the demo (two hosts talking to each other in one process).
`HttpsOnly` keeps a host mounted in a service that also answers plain HTTP to HTTPS.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from carbonlink.errors import ExchangeError
from carbonlink.exchange.host import pact_error


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def https_config(
    app: Any, *, host: str, port: int, certfile: Path, keyfile: Path, **options: Any
) -> uvicorn.Config:
    """A uvicorn configuration serving ``app`` over TLS only."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(certfile),
        ssl_keyfile=str(keyfile),
        log_level=options.pop("log_level", "warning"),
        lifespan="on",
        **options,
    )


class BackgroundHost:
    """A uvicorn server in a daemon thread; a context manager that waits until it listens."""

    def __init__(
        self,
        app: Any,
        *,
        certfile: Path,
        keyfile: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(
            https_config(
                app,
                host=host,
                port=self.port,
                certfile=certfile,
                keyfile=keyfile,
                access_log=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="pact-host")

    @property
    def url(self) -> str:
        """The host's base URL (https://host:port)."""
        return f"https://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundHost:
        """Start serving and wait until the socket listens."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ExchangeError(
                    f"the PACT host on {self.url} did not start",
                    hint="is the port taken, or are the certificate files readable?",
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> BackgroundHost:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class HttpsOnly:
    """ASGI wrapper of a PACT host that refuses plain HTTP with a PACT ``AccessDenied`` error.

    PACT v3 requires HTTPS. A request counts as HTTPS when the server speaks TLS itself
    (the ASGI scheme is ``https``), or, with ``forwarded`` set, when a TLS-terminating proxy
    says so in ``X-Forwarded-Proto``; enable that only behind a proxy that sets the header.
    """

    def __init__(self, app: ASGIApp, *, forwarded: bool = False) -> None:
        self.app = app
        self.forwarded = forwarded

    def secure(self, scope: Scope) -> bool:
        """Whether the request reached us over HTTPS."""
        if scope.get("scheme") == "https":
            return True
        if not self.forwarded:
            return False
        headers = dict(scope.get("headers") or [])
        proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1")
        return proto.split(",")[0].strip().lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.secure(scope):
            response = pact_error(
                "AccessDenied",
                "PACT is served over HTTPS only: call this host with https://",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
