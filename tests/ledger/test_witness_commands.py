"""`carbonlink witness …` and the witness and anchor commands of `carbonlink ledger`: setup and
mistakes, without a server (tests/ledger/test_witness_network.py runs them against real ones)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.errors import CarbonlinkError
from carbonlink.ledger.note import COSIGNATURE_V1, Signer


class Shell:
    def __init__(self, workspace: Path) -> None:
        self.env = {"CARBONLINK_WORKSPACE": str(workspace), "CARBONLINK_DATABASE_URL": ""}

    def ok(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    def refused(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert isinstance(result.exception, CarbonlinkError), (args, result.output)
        return str(result.exception)


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    found = Shell(tmp_path / "ws")
    found.ok("init", str(tmp_path / "ws"))
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_witness_key_is_made_once_and_kept(shell: Shell, tmp_path: Path) -> None:
    vkey = shell.ok("witness", "key", "--name", "witness.example/w1").strip()
    assert vkey.startswith("witness.example/w1+")
    assert shell.ok("witness", "key").strip() == vkey
    assert "not 'witness.example/other'" in shell.refused(
        "witness", "key", "--name", "witness.example/other"
    )
    private = tmp_path / "ws" / "keys" / "witness.key"
    assert private.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ws" / "keys" / "witness.vkey").read_text().strip() == vkey
    # Not the ledger key: a witness never signs its own workspace's checkpoints.
    assert (tmp_path / "ws" / "keys" / "ledger.vkey").read_text().strip() != vkey


def test_logs_to_witness_are_added_with_their_log_key(shell: Shell) -> None:
    log = Signer.generate("supplier.example/ledger").verifier()
    assert "no logs witnessed" in shell.ok("witness", "logs")
    assert "witnessing supplier.example/ledger (cosigned size 0)" in shell.ok(
        "witness", "add-log", log.name, log.vkey()
    )
    shell.ok("witness", "add-log", log.name, log.vkey())  # again: no change
    assert "supplier.example/ledger  size 0  cosigned never" in shell.ok("witness", "logs")
    witness_key = Signer.generate("w.example/w", key_type=COSIGNATURE_V1).verifier().vkey()
    assert "not a log signing key" in shell.refused(
        "witness", "add-log", "x.example/l", witness_key
    )
    other = Signer.generate(log.name).verifier().vkey()
    assert "other keys" in shell.refused("witness", "add-log", log.name, other)


def test_witnesses_to_ask_are_configured_and_a_silent_one_is_reported(shell: Shell) -> None:
    witness = Signer.generate("customer.example/w", key_type=COSIGNATURE_V1).verifier()
    log_key = Signer.generate("x.example/log").verifier().vkey()
    assert "not a witness key" in shell.refused(
        "ledger", "add-witness", "http://127.0.0.1:1/witness", log_key
    )
    assert "not http(s)" in shell.refused("ledger", "add-witness", "ftp://x/w", witness.vkey())
    assert "no signed checkpoint" in shell.refused("ledger", "witness")
    assert "no witnesses" in shell.ok("ledger", "witnesses")

    url = f"http://127.0.0.1:{_closed_port()}/witness"
    shell.ok("ledger", "add-witness", url + "/", witness.vkey())
    listed = shell.ok("ledger", "witnesses")
    assert f"customer.example/w  {url}  cosigned size 0" in listed and witness.vkey() in listed
    shell.ok("ledger", "checkpoint")
    out = shell.ok("ledger", "witness", code=1)
    assert "customer.example/w: size 0 NOT cosigned (not reached" in out
    assert "removed witness customer.example/w" in shell.ok(
        "ledger", "remove-witness", "customer.example/w"
    )
    assert "no witness named" in shell.refused("ledger", "remove-witness", "customer.example/w")
    assert "no witnesses" in shell.ok("ledger", "witness")


def test_anchor_targets_need_an_http_url(shell: Shell) -> None:
    assert "not http(s)" in shell.refused("ledger", "add-anchor", "chain", "file:///tmp/x")
    shell.ok("ledger", "checkpoint")
    assert "checkpoint 0 is not anchored anywhere" in shell.ok("ledger", "anchors")
    # A chain that cannot be reached: the checkpoint is signed, the anchor fails loudly.
    shell.ok("ledger", "add-anchor", "chain", f"http://127.0.0.1:{_closed_port()}")
    assert "not reached" in shell.refused("ledger", "checkpoint")
    assert "checkpoint 0 is not anchored anywhere" in shell.ok("ledger", "anchors", "0")
