"""The ledger's signing key, kept in the workspace's ``keys`` folder, outside the database.

Someone able to rewrite the database must not also be able to sign for it, so the private key
lives in a file (mode 0600) next to, never inside, the embedded database; the public key is
published as a vkey for auditors.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from carbonlink.errors import ConfigError
from carbonlink.ledger.note import COSIGNATURE_V1, Signer, Verifier

PRIVATE_KEY_FILE = "ledger.key"
PUBLIC_KEY_FILE = "ledger.vkey"
WITNESS_PRIVATE_KEY_FILE = "witness.key"
WITNESS_PUBLIC_KEY_FILE = "witness.vkey"


def key_folder(workspace: Path) -> Path:
    return workspace / "keys"


def default_origin(workspace: Path) -> str:
    """A log name unique to this workspace, in schema-less URL form."""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in workspace.resolve().name)
    return f"carbonlink.local/{name or 'ledger'}-{secrets.token_hex(4)}"


def generate_ledger_key(workspace: Path, origin: str | None = None) -> Verifier:
    """Create the ledger's Ed25519 key in ``<workspace>/keys`` and return its public key.

    Refuses to replace an existing key: checkpoints signed with it could no longer be checked.
    """
    folder = key_folder(workspace)
    private_path = folder / PRIVATE_KEY_FILE
    if private_path.exists():
        raise ConfigError(
            "the ledger already has a signing key",
            file=str(private_path),
            hint="keep it; a new key cannot vouch for checkpoints signed with the old one",
        )
    folder.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(origin or default_origin(workspace))
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(signer.private_key() + "\n")
    verifier = signer.verifier()
    (folder / PUBLIC_KEY_FILE).write_text(verifier.vkey() + "\n", encoding="ascii")
    return verifier


def load_ledger_signer(workspace: Path) -> Signer:
    """The ledger's private key from the workspace."""
    path = key_folder(workspace) / PRIVATE_KEY_FILE
    if not path.exists():
        raise ConfigError(
            "the ledger has no signing key",
            file=str(path),
            hint="run 'carbonlink init' (or 'carbonlink ledger keygen') first",
        )
    return Signer.from_private_key(path.read_text(encoding="ascii"))


def load_ledger_verifier(workspace: Path) -> Verifier:
    """The ledger's public key from the workspace."""
    path = key_folder(workspace) / PUBLIC_KEY_FILE
    if not path.exists():
        raise ConfigError(
            "the ledger has no public key file",
            file=str(path),
            hint="run 'carbonlink init' (or 'carbonlink ledger keygen') first",
        )
    return read_vkey(path.read_text(encoding="ascii"))


def read_vkey(text_or_path: str) -> Verifier:
    """A verifier key given inline (``name+id+key``) or as the path of a .vkey file."""
    candidate = Path(text_or_path)
    if "+" not in text_or_path or candidate.is_file():
        try:
            text_or_path = candidate.read_text(encoding="ascii")
        except OSError as exc:
            raise ConfigError(f"cannot read verifier key file: {exc}", file=str(candidate)) from exc
    return Verifier.from_vkey(text_or_path)


def ensure_ledger_key(workspace: Path, origin: str | None = None) -> Verifier:
    """The ledger's public key, generating the key pair first if the workspace has none.

    Safe to call on every ``carbonlink init``: an existing key is kept as it is.
    """
    if (key_folder(workspace) / PRIVATE_KEY_FILE).exists():
        return load_ledger_signer(workspace).verifier()
    return generate_ledger_key(workspace, origin)


def ensure_witness_key(workspace: Path, name: str | None = None) -> Verifier:
    """The workspace's witness key (cosignature/v1, type 0x04), made on first use.

    Kept beside the ledger key, in its own files: a witness key cosigns partners' logs and
    must never be the key that signs this workspace's own checkpoints.
    """
    folder = key_folder(workspace)
    private_path = folder / WITNESS_PRIVATE_KEY_FILE
    if private_path.exists():
        verifier = load_witness_signer(workspace).verifier()
        if name is not None and name != verifier.name:
            raise ConfigError(
                f"the workspace's witness key is named {verifier.name!r}, not {name!r}",
                file=str(private_path),
                hint="a witness keeps its key: partners have its vkey; omit --name",
            )
        return verifier
    folder.mkdir(parents=True, exist_ok=True)
    if name is None:
        name = default_origin(workspace).replace("carbonlink.local/", "carbonlink.local/witness-")
    signer = Signer.generate(name, key_type=COSIGNATURE_V1)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(signer.private_key() + "\n")
    verifier = signer.verifier()
    (folder / WITNESS_PUBLIC_KEY_FILE).write_text(verifier.vkey() + "\n", encoding="ascii")
    return verifier


def load_witness_signer(workspace: Path) -> Signer:
    """The workspace's witness (cosigning) private key."""
    path = key_folder(workspace) / WITNESS_PRIVATE_KEY_FILE
    if not path.exists():
        raise ConfigError(
            "this workspace has no witness key",
            file=str(path),
            hint="run 'carbonlink witness key' to make one",
        )
    signer = Signer.from_private_key(path.read_text(encoding="ascii"))
    if signer.key_type != COSIGNATURE_V1:
        raise ConfigError("the witness key file does not hold a cosignature/v1 key", file=str(path))
    return signer
