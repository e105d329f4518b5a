"""carbonlink's store: schema, migrations, engines and the repositories over them."""

from carbonlink.store.engine import create_store_engine, engine_from_settings
from carbonlink.store.migrate import upgrade
from carbonlink.store.repository import (
    ImportBatch,
    MeterSeries,
    QuarantinedRecord,
    ReadingColumns,
    Store,
)
from carbonlink.store.schema import from_epoch_us, metadata, to_epoch_us

__all__ = [
    "ImportBatch",
    "MeterSeries",
    "QuarantinedRecord",
    "ReadingColumns",
    "Store",
    "create_store_engine",
    "engine_from_settings",
    "from_epoch_us",
    "metadata",
    "to_epoch_us",
    "upgrade",
]
