"""A tiny stand-in for a chain behind the anchor adapter contract (carbonlink.ledger.anchor).

Run as its own process: ``python chain_server.py LEDGER_FILE``. It listens on a free loopback
port (printed as ``listening <port>`` on the first line of its output), appends each anchor to
LEDGER_FILE as one JSON line, and answers lookups from that file, so what it answers is what it
wrote. Each record's reference is the SHA-256 of the previous reference and the record, like
a transaction id in a hash chain. It is a test double of a chain, not part of carbonlink.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_HEX64 = re.compile(r"[0-9a-f]{64}")


class Chain:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        path.touch()

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line]

    def append(self, origin: str, size: int, digest: str) -> dict[str, object]:
        with self.lock:
            chain = self.records()
            previous = str(chain[-1]["reference"]) if chain else "0" * 64
            body = {"origin": origin, "size": size, "checkpoint_sha256": digest}
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
            record = {
                "reference": hashlib.sha256((previous + canonical).encode()).hexdigest(),
                **body,
                "previous": previous,
                "height": len(chain),
                "recorded_at": datetime.now(UTC).isoformat(),
            }
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(record) + "\n")
            return record


def handler(chain: Chain) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path != "/anchors":
                self._answer(404, {"error": "no such path"})
                return
            try:
                sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                origin, size, digest = sent["origin"], sent["size"], sent["checkpoint_sha256"]
                valid = isinstance(origin, str) and isinstance(size, int) and size >= 0
                if not valid or not _HEX64.fullmatch(digest):
                    raise ValueError(sent)
            except (ValueError, KeyError, TypeError) as exc:
                self._answer(400, {"error": f"bad anchor: {exc}"})
                return
            record = chain.append(origin, size, digest)
            self._answer(201, {"reference": record["reference"]})

        def do_GET(self) -> None:
            reference = self.path.removeprefix("/anchors/")
            for record in chain.records():
                if record["reference"] == reference:
                    self._answer(200, record)
                    return
            self._answer(404, {"error": f"no anchor {reference}"})

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    chain = Chain(Path(sys.argv[1]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(chain))
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
