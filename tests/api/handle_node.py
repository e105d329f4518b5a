"""A small Handle REST node for tests, run as a process of its own: ``python handle_node.py PORT``.

It keeps handles in memory and answers ``PUT /api/handles/{handle}`` (values as the Handle
REST API writes them; HTTP Basic authentication as ``300:88.123.4567/admin`` with password
``node-secret``, as Handle servers name their admin handles) and ``GET /api/handles/{handle}``.
It serves the registration tests as a stand-in for a secondary node.
"""

from __future__ import annotations

import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

USER, PASSWORD = "300:88.123.4567/admin", "node-secret"
HANDLES: dict[str, list[dict[str, object]]] = {}


class Node(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> str:
        return unquote(urlsplit(self.path).path.removeprefix("/api/handles/"))

    def do_GET(self) -> None:
        handle = self._handle()
        if handle not in HANDLES:
            self._answer(404, {"responseCode": 100, "handle": handle})
            return
        self._answer(200, {"responseCode": 1, "handle": handle, "values": HANDLES[handle]})

    def do_PUT(self) -> None:
        handle = self._handle()
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._answer(401, {"responseCode": 402, "handle": handle, "message": "Unauthorized"})
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        created = handle not in HANDLES
        HANDLES[handle] = body["values"]
        self._answer(201 if created else 200, {"responseCode": 1, "handle": handle})

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Node)
    print("ready", flush=True)
    server.serve_forever()
