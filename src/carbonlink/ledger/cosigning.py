"""The log's side of c2sp.org/tlog-witness: ask the configured witnesses to cosign a checkpoint.

For each witness (its cosignature/v1 vkey and the submission prefix of its ``add-checkpoint``)
the log remembers the size the witness last cosigned and sends ``old <that size>`` with the
consistency proof from it. A witness that knows another size answers 409 with that size
(``text/x.tlog.size``); the log then sends the proof from the size the witness names, once.
The cosignature lines returned are verified with the witness's key and stored beside the
checkpoint (`Ledger.add_cosignatures`), so every receipt made afterwards carries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import delete, insert, select, update

from carbonlink.errors import InputError
from carbonlink.ledger.anchor import ChainAnchor
from carbonlink.ledger.errors import SignatureError
from carbonlink.ledger.log import Ledger, SignedCheckpoint
from carbonlink.ledger.note import COSIGNATURE_V1, Verifier, parse_note
from carbonlink.ledger.schema import ledger_anchor_target, ledger_witness
from carbonlink.ledger.witness import SIZE_CONTENT_TYPE

ADD_CHECKPOINT = "add-checkpoint"


@dataclass(frozen=True, slots=True)
class ConfiguredWitness:
    """A witness the log asks: its key, where its add-checkpoint is, what it last cosigned."""

    key: Verifier
    url: str
    size: int
    cosigned_at: datetime | None

    @property
    def name(self) -> str:
        return self.key.name


@dataclass(frozen=True, slots=True)
class CosigningOutcome:
    """What one witness answered for one checkpoint."""

    witness: str
    size: int
    cosigned: bool
    message: str


def add_witness(ledger: Ledger, url: str, vkey: Verifier) -> ConfiguredWitness:
    """Ask this witness from now on (idempotent; a new URL for the same key replaces the old)."""
    if vkey.key_type != COSIGNATURE_V1:
        raise InputError(
            f"key {vkey.name} is not a witness key (cosignature/v1, type 0x04)",
            hint="pass the witness's vkey, as 'carbonlink witness key' prints it",
        )
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"witness URL {url!r} is not http(s)",
            hint="give the witness's submission prefix, e.g. https://partner.example/witness",
        )
    url = url.rstrip("/")
    with ledger.engine.begin() as connection:
        row = connection.execute(
            select(ledger_witness).where(ledger_witness.c.name == vkey.name)
        ).one_or_none()
        if row is None:
            connection.execute(
                insert(ledger_witness).values(
                    name=vkey.name, vkey=vkey.vkey(), url=url, size=0, added_at=datetime.now(UTC)
                )
            )
        elif row.vkey != vkey.vkey():
            raise InputError(
                f"a witness named {vkey.name} is configured with another key",
                hint="remove it first ('carbonlink ledger remove-witness') if its key changed",
            )
        else:
            connection.execute(
                update(ledger_witness).where(ledger_witness.c.name == vkey.name).values(url=url)
            )
    return next(w for w in configured_witnesses(ledger) if w.name == vkey.name)


def remove_witness(ledger: Ledger, name: str) -> bool:
    """Stop asking a witness; its cosignatures already stored are kept."""
    with ledger.engine.begin() as connection:
        return bool(
            connection.execute(delete(ledger_witness).where(ledger_witness.c.name == name)).rowcount
        )


def configured_witnesses(ledger: Ledger) -> list[ConfiguredWitness]:
    """The witnesses this log asks, by name."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_witness).order_by(ledger_witness.c.name)).all()
    return [
        ConfiguredWitness(Verifier.from_vkey(row.vkey), row.url, int(row.size), row.cosigned_at)
        for row in rows
    ]


def request_cosignatures(
    ledger: Ledger,
    signed: SignedCheckpoint | None = None,
    *,
    witnesses: Sequence[ConfiguredWitness] | None = None,
    client: httpx.Client | None = None,
) -> list[CosigningOutcome]:
    """Send the checkpoint (default: the latest) to each witness; store what they cosign.

    A witness that refuses or cannot be reached is reported in its outcome, not raised: the
    others are still asked.
    """
    signed = signed or ledger.latest_checkpoint()
    if signed is None:
        raise InputError(
            "the ledger has no signed checkpoint to have cosigned",
            hint="sign one with 'carbonlink ledger checkpoint'",
        )
    targets = configured_witnesses(ledger) if witnesses is None else list(witnesses)
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        return [_ask(ledger, signed, witness, http) for witness in targets]
    finally:
        if own:
            http.close()


def _ask(
    ledger: Ledger, signed: SignedCheckpoint, witness: ConfiguredWitness, http: httpx.Client
) -> CosigningOutcome:
    old = witness.size
    for attempt in range(2):
        if old > signed.size:
            return CosigningOutcome(
                witness.name,
                signed.size,
                False,
                f"the witness has cosigned size {old}, larger than this checkpoint "
                f"({signed.size}): entries were lost or the log forked",
            )
        try:
            response = http.post(
                f"{witness.url}/{ADD_CHECKPOINT}",
                content=ledger.witness_request(old, signed),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            return CosigningOutcome(witness.name, signed.size, False, f"not reached: {exc}")
        if response.status_code == 409 and attempt == 0:
            known = _known_size(response)
            if known is None:
                return CosigningOutcome(
                    witness.name, signed.size, False, "409 without a tree size in its body"
                )
            old = known
            continue
        if response.status_code != 200:
            text = response.text.strip()[:300]
            return CosigningOutcome(
                witness.name, signed.size, False, f"refused with {response.status_code}: {text}"
            )
        return _store(ledger, signed, witness, response.content)
    return CosigningOutcome(witness.name, signed.size, False, "409 twice in a row")


def _known_size(response: httpx.Response) -> int | None:
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    text = response.text
    if kind != SIZE_CONTENT_TYPE or not text.endswith("\n") or not text[:-1].isdigit():
        return None
    return int(text[:-1])


def _store(
    ledger: Ledger, signed: SignedCheckpoint, witness: ConfiguredWitness, body: bytes
) -> CosigningOutcome:
    try:
        lines = parse_note(signed.checkpoint.text().encode() + b"\n" + body).signatures
        if not any(witness.key.matches(line) for line in lines):
            return CosigningOutcome(
                witness.name, signed.size, False, "answered without a cosignature by its key"
            )
        ledger.add_cosignatures(signed.size, body, [witness.key])
    except SignatureError as exc:
        return CosigningOutcome(witness.name, signed.size, False, exc.message)
    with ledger.engine.begin() as connection:
        connection.execute(
            update(ledger_witness)
            .where(ledger_witness.c.name == witness.name)
            .values(size=signed.size, cosigned_at=datetime.now(UTC))
        )
    return CosigningOutcome(witness.name, signed.size, True, "cosigned")


# -- anchor targets ----------------------------------------------------------------------------


def add_anchor_target(ledger: Ledger, name: str, url: str) -> None:
    """Post every new checkpoint's hash to this chain adapter from now on (idempotent)."""
    ChainAnchor(url, name)  # checks the URL
    with ledger.engine.begin() as connection:
        known = connection.execute(
            select(ledger_anchor_target.c.url).where(ledger_anchor_target.c.name == name)
        ).scalar_one_or_none()
        if known is None:
            connection.execute(
                insert(ledger_anchor_target).values(
                    name=name, url=url.rstrip("/"), added_at=datetime.now(UTC)
                )
            )
        elif known != url.rstrip("/"):
            connection.execute(
                update(ledger_anchor_target)
                .where(ledger_anchor_target.c.name == name)
                .values(url=url.rstrip("/"))
            )


def anchor_targets(ledger: Ledger) -> list[ChainAnchor]:
    """The chain anchors configured for this log, by name."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(
            select(ledger_anchor_target).order_by(ledger_anchor_target.c.name)
        ).all()
    return [ChainAnchor(row.url, row.name) for row in rows]
