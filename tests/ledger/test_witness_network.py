"""Two workspaces witness each other's logs over HTTP, and a checkpoint is anchored on a chain.

Workspace A (a supplier) and workspace B (its customer) each run ``carbonlink serve`` as their
own process on a loopback port. Each is told to witness the other's log; each asks the other to
cosign its checkpoints. A receipt from A then passes ``carbonlink verify --witnesses 1`` with
B's witness key, and fails without the cosignature line or with another key. B's witness is
also sent rollbacks, forks and forgeries over HTTP and answers with the status codes of
c2sp.org/tlog-witness. The chain is ``chain_server.py``, a third process that appends anchors
to a file and answers lookups from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.ledger.keys import load_ledger_signer
from carbonlink.ledger.note import Checkpoint, Signer, parse_note, sign_note
from carbonlink.ledger.schema import ledger_witness
from carbonlink.store import create_store_engine

CARBONLINK = str(Path(sys.executable).with_name("carbonlink"))
CHAIN_SERVER = Path(__file__).with_name("chain_server.py")


@dataclass
class Workspace:
    folder: Path
    url: str = ""
    log_vkey: str = ""
    witness_vkey: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {"CARBONLINK_WORKSPACE": str(self.folder), "CARBONLINK_DATABASE_URL": ""}

    @property
    def origin(self) -> str:
        return self.log_vkey.split("+", 1)[0]

    @property
    def witness_name(self) -> str:
        return self.witness_vkey.split("+", 1)[0]

    def cli(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    """The real ``carbonlink verify`` command, in its own process."""
    return subprocess.run(
        [CARBONLINK, "verify", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "CARBONLINK_DATABASE_URL": ""},
    )


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(server: subprocess.Popen[str], url: str) -> float:
    started = time.monotonic()
    while True:
        try:
            httpx.get(url, timeout=5)
            return time.monotonic() - started
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() - started > 120:
            server.terminate()
            output, _ = server.communicate(timeout=30)
            pytest.fail(f"server did not start:\n{output}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def partners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Workspace]]:
    """Two initialised workspaces, each serving on its own port, each witnessing the other.

    Started once for the module (a server takes seconds to start on a busy machine): each
    test reads the sizes it starts from rather than assuming an empty log.
    """
    tmp_path = tmp_path_factory.mktemp("partners")
    a, b = Workspace(tmp_path / "supplier"), Workspace(tmp_path / "customer")
    for one in (a, b):
        one.cli("init", str(one.folder))
        one.log_vkey = (one.folder / "keys" / "ledger.vkey").read_text().strip()
        one.witness_vkey = one.cli("witness", "key").strip()
    a.cli("witness", "add-log", b.origin, b.log_vkey)
    b.cli("witness", "add-log", a.origin, str(a.folder / "keys" / "ledger.vkey"))
    servers = []
    try:
        for one in (a, b):
            port = _free_port()
            command = [CARBONLINK, "serve", "--workspace", str(one.folder), "--port", str(port)]
            servers.append(_start(command, one.env))
            one.url = f"http://127.0.0.1:{port}/witness"
        for one, server in zip((a, b), servers, strict=True):
            seconds = _wait_until_up(server, f"{one.url}/{'0' * 64}/checkpoint")
            print(f"carbonlink serve answered after {seconds:.1f} s")
        a.cli("ledger", "add-witness", b.url, b.witness_vkey)
        b.cli("ledger", "add-witness", a.url, a.witness_vkey)
        yield a, b
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)


def _report(workspace: Workspace, name: str) -> int:
    """Record a report in the workspace's ledger (signing a checkpoint); its entry index."""
    folder = workspace.folder / "reports" / name
    folder.mkdir(parents=True)
    path = folder / f"{name}.pdf"
    path.write_bytes(b"%PDF-1.7\n" + name.encode() + b"\n%%EOF\n")
    out = workspace.cli("ledger", "append-report", name, str(path))
    return int(out.split("entry ", 1)[1].split(";")[0])


def _without_line(receipt: Path, name: str) -> Path:
    lines = receipt.read_bytes().split(b"\n")
    kept = [line for line in lines if not line.startswith(f"— {name} ".encode())]
    assert len(kept) == len(lines) - 1
    stripped = receipt.with_name("stripped-" + receipt.name)
    stripped.write_bytes(b"\n".join(kept))
    for pdf in receipt.parent.glob("*.pdf"):
        (stripped.parent / pdf.name).write_bytes(pdf.read_bytes())
    return stripped


def test_two_workspaces_witness_each_other(partners: tuple[Workspace, Workspace]) -> None:
    a, b = partners
    index = _report(a, "q1")
    out = a.cli("ledger", "witness")
    assert f"{b.witness_name}: size {index + 1} cosigned" in out
    receipt = a.folder / "reports" / "q1" / "q1.tlog-proof"
    a.cli("ledger", "receipt", str(index), "--out", str(receipt))
    note = receipt.read_bytes().partition(b"\n\n")[2]
    assert f"— {b.witness_name} ".encode() in note

    a_key = str(a.folder / "keys" / "ledger.vkey")
    done = _verify(
        str(receipt), "--key", a_key, "--witnesses", "1", "--witness-key", b.witness_vkey
    )
    assert done.returncode == 0, done.stderr
    assert f"cosigned by {b.witness_name}" in done.stdout
    assert "witnesses: 1 of 1 cosigned (1 required)" in done.stdout

    stripped = _without_line(receipt, b.witness_name)
    done = _verify(
        str(stripped), "--key", a_key, "--witnesses", "1", "--witness-key", b.witness_vkey
    )
    assert done.returncode == 2
    assert "cosigned by 0 of the 1 witness keys given, 1 required" in done.stderr
    # Without a witness requirement the stripped receipt is still a valid receipt.
    assert _verify(str(stripped), "--key", a_key).returncode == 0

    for wrong in (a.witness_vkey, b.log_vkey):  # A's own witness key; a log key
        done = _verify(str(receipt), "--key", a_key, "--witnesses", "1", "--witness-key", wrong)
        assert done.returncode == 2, wrong
    done = _verify(
        str(receipt), "--key", a_key, "--witnesses", "2", "--witness-key", b.witness_vkey
    )
    assert done.returncode == 2 and "only 1 witness keys were given" in done.stderr
    done = _verify(str(receipt), "--key", a_key, "--witnesses", "one")
    assert done.returncode == 2 and "not a whole number" in done.stderr

    # The other way round: B's log is cosigned by A's witness.
    b_index = _report(b, "po-7")
    assert f"{a.witness_name}: size {b_index + 1} cosigned" in b.cli("ledger", "witness")
    b_receipt = b.folder / "reports" / "po-7" / "po-7.tlog-proof"
    b.cli("ledger", "receipt", str(b_index), "--out", str(b_receipt))
    b_key = str(b.folder / "keys" / "ledger.vkey")
    done = _verify(
        str(b_receipt), "--key", b_key, "--witnesses", "1", "--witness-key", a.witness_vkey
    )
    assert done.returncode == 0, done.stderr
    assert f"{a.origin}  size {b_index + 1}" in b.cli("witness", "logs")
    assert f"{b.origin}  size {index + 1}" in a.cli("witness", "logs")


def _body(old: int, proof: list[bytes], note: bytes) -> bytes:
    lines = [f"old {old}\n".encode()] + [base64.b64encode(h) + b"\n" for h in proof]
    return b"".join(lines) + b"\n" + note


def test_the_witness_refuses_rollbacks_forks_and_forgeries_over_http(
    partners: tuple[Workspace, Workspace],
) -> None:
    a, b = partners
    size = _report(a, "r1") + 1
    a.cli("ledger", "witness")
    first = a.cli("ledger", "show").split(f"checkpoint  size {size}\n", 1)[1].encode()
    for name in ("r2", "r3"):
        _report(a, name)
    signer = load_ledger_signer(a.folder)
    add = f"{b.url}/add-checkpoint"
    latest = a.cli("ledger", "checkpoint").encode()
    assert latest.startswith(f"{a.origin}\n{size + 2}\n".encode())

    # The log lost track of the witness: 409 with the size it knows, as text/x.tlog.size.
    conflict = httpx.post(add, content=_body(0, [], latest))
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "text/x.tlog.size"
    assert conflict.text == f"{size}\n"
    # carbonlink's client recovers: forget the size, ask again, it retries from the 409.
    engine = create_store_engine(f"sqlite:///{a.folder / 'carbonlink.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(update(ledger_witness).values(size=0))
    finally:
        engine.dispose()
    assert f"{b.witness_name}: size {size + 2} cosigned" in a.cli("ledger", "witness")
    origin_hash = hashlib.sha256(a.origin.encode()).hexdigest()
    monitored = httpx.get(f"{b.url}/{origin_hash}/checkpoint")
    assert monitored.status_code == 200
    seen = parse_note(monitored.content)
    assert seen.text == latest.partition(b"\n\n")[0].decode() + "\n"
    assert {s.name for s in seen.signatures} == {a.origin, b.witness_name}

    # Rollback to the earlier checkpoint: a bad request from a larger old size, else 409.
    assert httpx.post(add, content=_body(size + 2, [], first)).status_code == 400
    assert httpx.post(add, content=_body(size, [], first)).text == f"{size + 2}\n"
    # A fork: another root for the same size, signed with A's own key.
    forked = Checkpoint(a.origin, size + 2, hashlib.sha256(b"fork").digest())
    fork_note = sign_note(forked.text(), signer).to_bytes()
    fork = httpx.post(add, content=_body(size + 2, [], fork_note))
    assert fork.status_code == 422 and "not consistent" in fork.text
    evidence = b.cli("witness", "evidence", a.origin)
    assert f"{a.origin}  old {size + 2} → size {size + 2}: checkpoint" in evidence
    # A forgery: A's name, another key.
    forged = sign_note(forked.text(), Signer.generate(a.origin)).to_bytes()
    assert httpx.post(add, content=_body(size + 2, [], forged)).status_code == 403
    # An unknown log, and a malformed body.
    stranger = Signer.generate("example.com/unknown-log")
    empty = Checkpoint(stranger.name, 0, hashlib.sha256(b"").digest())
    unknown = _body(0, [], sign_note(empty.text(), stranger).to_bytes())
    assert httpx.post(add, content=unknown).status_code == 404
    assert httpx.post(add, content=b"old x\n\n").status_code == 400
    assert httpx.get(f"{b.url}/{'0' * 64}/checkpoint").status_code == 404
    # After all that, the witness still holds A's checkpoint.
    held = parse_note(httpx.get(f"{b.url}/{origin_hash}/checkpoint").content)
    assert held.text.startswith(f"{a.origin}\n{size + 2}\n")


def test_a_checkpoint_is_anchored_on_a_chain_in_another_process(
    partners: tuple[Workspace, Workspace], tmp_path: Path
) -> None:
    # B anchors: the chain is gone after this test, and only this test signs B's checkpoints
    # with 'ledger checkpoint', which posts to every anchor configured.
    a, b = partners
    chain_file = tmp_path / "chain.jsonl"
    chain = subprocess.Popen(
        [sys.executable, str(CHAIN_SERVER), str(chain_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert chain.stdout is not None
        chain_url = f"http://127.0.0.1:{chain.stdout.readline().split()[1]}"
        b.cli("ledger", "add-anchor", "test-chain", chain_url)
        index = _report(b, "a1")
        signed = b.cli("ledger", "checkpoint").encode()
        reference = b.cli("ledger", "anchors").split("test-chain  ", 1)[1].split()[0]
        (record,) = [json.loads(line) for line in chain_file.read_text().splitlines()]
        assert record["reference"] == reference
        assert record["checkpoint_sha256"] == hashlib.sha256(signed).hexdigest()
        assert (record["origin"], record["size"]) == (b.origin, index + 1)
        assert f"test-chain  {reference}" in b.cli("ledger", "anchors")

        # Cosigned afterwards: the receipt's note has one more line, the anchor still checks.
        b.cli("ledger", "witness")
        receipt = b.folder / "reports" / "a1" / "a1.tlog-proof"
        b.cli("ledger", "receipt", str(index), "--out", str(receipt))
        b_key = str(b.folder / "keys" / "ledger.vkey")
        anchored = ("--anchor-url", chain_url, "--anchor-ref", reference)
        done = _verify(str(receipt), "--key", b_key, "--witness-key", a.witness_vkey, *anchored)
        assert done.returncode == 0, done.stderr
        assert f"anchored: {reference} on {chain_url}" in done.stdout

        # Another checkpoint's anchor does not vouch for this one.
        _report(b, "a2")
        b.cli("ledger", "checkpoint")
        other = b.cli("ledger", "anchors").split("test-chain  ", 1)[1].split()[0]
        assert other != reference
        assert len(chain_file.read_text().splitlines()) == 2
        done = _verify(
            str(receipt), "--key", b_key, "--anchor-url", chain_url, "--anchor-ref", other
        )
        assert done.returncode == 2 and "does not hold this checkpoint" in done.stderr
        done = _verify(str(receipt), "--key", b_key, "--anchor-url", chain_url, "--anchor-ref", "0")
        assert done.returncode == 2 and "knows no anchor" in done.stderr
    finally:
        chain.terminate()
        chain.communicate(timeout=30)
