import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from carbonlink.monitor.notify import (
    SIGNATURE_HEADER,
    EmailChannel,
    NotificationError,
    Webhook,
    sign,
    verify_signature,
)
from carbonlink.monitor.rules import AlertEvent

SECRET = b"s3cret-for-tests"
EVENT = AlertEvent(
    rule_id="hot",
    meter_id="furnace-1",
    action="opened",
    ts=np.datetime64("2025-03-03T08:15", "ns"),
    value=1234.5,
    severity="critical",
    message="furnace-1: value 1234.5 outside [None, 1000.0]",
)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str, bool]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        header = self.headers[SIGNATURE_HEADER]
        ok = verify_signature(SECRET, body, header)
        self.received.append((body, header, ok))
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_delivery_is_signed_and_verifiable(receiver: str) -> None:
    Webhook(receiver, SECRET).send(EVENT)
    [(body, header, ok)] = _Receiver.received
    assert ok
    assert b'"meter_id":"furnace-1"' in body
    assert header.startswith("t=")


def test_receiver_refusing_the_signature_is_an_error(receiver: str) -> None:
    with pytest.raises(NotificationError, match="webhook delivery"):
        Webhook(receiver, b"wrong secret").send(EVENT)


def test_signature_rejects_tampering_and_replay() -> None:
    body = b'{"a":1}'
    header = sign(SECRET, body, 1_700_000_000)
    assert verify_signature(SECRET, body, header, now=1_700_000_100)
    assert not verify_signature(SECRET, b'{"a":2}', header, now=1_700_000_100)
    assert not verify_signature(SECRET, body, header, now=1_700_001_000)
    assert not verify_signature(SECRET, body, "garbage", now=1_700_000_100)


class _Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def handle_message(self, message: object) -> None:
        self.messages.append(message)


def test_email_reaches_a_local_smtp_server() -> None:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = EmailChannel(
            host="127.0.0.1",
            port=port,
            sender="alerts@plant.example",
            recipients=("energy@plant.example",),
        )
        channel.send(EVENT)
    finally:
        controller.stop()
    [message] = inbox.messages
    assert "furnace-1" in message["Subject"]  # type: ignore[index]
    assert "critical" in message["Subject"]  # type: ignore[index]


def test_unreachable_smtp_server_is_an_error() -> None:
    channel = EmailChannel("127.0.0.1", 1, "a@b.example", ("c@d.example",))
    with pytest.raises(NotificationError, match="e-mail"):
        channel.send(EVENT)
