"""Tables of the verifiable ledger (SQLAlchemy Core; SQLite and PostgreSQL).

- ``ledger_tree``: one row, the log's size (the only row ever updated) and origin.
- ``ledger_entry``: each entry's canonical bytes exactly as hashed, by log index.
- ``ledger_hash``: per leaf, its leaf hash followed by the hashes of the complete subtrees it
  completes (see `carbonlink.ledger.merkle`): about two 32-byte hashes per leaf.
- ``ledger_checkpoint``: every signed checkpoint as issued, one per size.
- ``ledger_cosignature``: witness cosignatures of those checkpoints.
- ``ledger_anchor``: where a checkpoint's hash was posted by an external anchor.
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
