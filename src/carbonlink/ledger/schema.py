"""Tables of the verifiable ledger (SQLAlchemy Core; SQLite and PostgreSQL).

- ``ledger_tree``: one row, the log's size (the only row ever updated) and origin.
- ``ledger_entry``: each entry's canonical bytes exactly as hashed, by log index.
- ``ledger_hash``: per leaf, its leaf hash followed by the hashes of the complete subtrees it
  completes (see `carbonlink.ledger.merkle`): about two 32-byte hashes per leaf.
- ``ledger_checkpoint``: every signed checkpoint as issued, one per size.
- ``ledger_cosignature``: witness cosignatures of those checkpoints.
- ``ledger_anchor``: where a checkpoint's hash was posted by an external anchor.
- ``ledger_witness``: the witnesses this log asks to cosign its checkpoints (c2sp.org/tlog-witness),
  with the size each one last cosigned.
- ``ledger_anchor_target``: the external chains this log posts checkpoint hashes to.
- ``witnessed_log``: the partners' logs this workspace itself witnesses, with the latest
  checkpoint it cosigned for each (the witness's whole state, per c2sp.org/tlog-witness).
- ``witness_evidence``: checkpoints signed by a witnessed log's own key that the witness refused
  as inconsistent (a fork or a false proof): signed evidence that the log misbehaved.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# INTEGER PRIMARY KEY makes SQLite use the key as the rowid: appends go to the end of one B-tree.
LogIndex = BigInteger().with_variant(Integer(), "sqlite")

ledger_tree = Table(
    "ledger_tree",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("origin", String(255), nullable=True),
)

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("idx", LogIndex, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(255), nullable=True, index=True),
    Column("body", LargeBinary, nullable=False),
)

ledger_hash = Table(
    "ledger_hash",
    metadata,
    Column("leaf", LogIndex, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

ledger_checkpoint = Table(
    "ledger_checkpoint",
    metadata,
    Column("size", LogIndex, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", LargeBinary, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)

ledger_cosignature = Table(
    "ledger_cosignature",
    metadata,
    Column(
        "checkpoint_size",
        LogIndex,
        ForeignKey("ledger_checkpoint.size"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("witness", String(255), primary_key=True),
    Column("key_id", LargeBinary, primary_key=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

ledger_anchor = Table(
    "ledger_anchor",
    metadata,
    Column(
        "checkpoint_size",
        LogIndex,
        ForeignKey("ledger_checkpoint.size"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("anchor", String(255), primary_key=True),
    Column("reference", Text, nullable=False),
    Column("anchored_at", DateTime(timezone=True), nullable=False),
)

ledger_witness = Table(
    "ledger_witness",
    metadata,
    Column("name", String(255), primary_key=True, comment="the witness key's name"),
    Column("vkey", Text, nullable=False, comment="its cosignature/v1 verifier key"),
    Column("url", Text, nullable=False, comment="submission prefix of its add-checkpoint"),
    Column("size", BigInteger, nullable=False, comment="size it last cosigned (0: none known)"),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("cosigned_at", DateTime(timezone=True), nullable=True),
)

ledger_anchor_target = Table(
    "ledger_anchor_target",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("url", Text, nullable=False, comment="base URL of the chain adapter"),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

witnessed_log = Table(
    "witnessed_log",
    metadata,
    Column("origin", String(255), primary_key=True, comment="the log's checkpoint origin line"),
    Column("vkeys", Text, nullable=False, comment="the log's verifier keys, one a line"),
    Column("size", BigInteger, nullable=False, comment="size last cosigned (0: none yet)"),
    Column("root_hash", LargeBinary, nullable=True),
    Column("note", LargeBinary, nullable=True, comment="that checkpoint with our cosignature"),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("cosigned_at", DateTime(timezone=True), nullable=True),
)

witness_evidence = Table(
    "witness_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(255), nullable=False, index=True),
    Column("old_size", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("request", LargeBinary, nullable=False, comment="the add-checkpoint body, as received"),
    Column("reason", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
