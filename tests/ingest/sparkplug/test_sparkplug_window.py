"""Sparkplug host: metrics dated outside their meter's plausible window are quarantined."""

from __future__ import annotations

from datetime import UTC, datetime

from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.topics import SparkplugTopic
from carbonlink.store import Store

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z
FAR_FUTURE_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
BEFORE_METER_MS = 1_685_577_600_000  # 2023-06-01T00:00:00Z
METER = "g/e/EM-01/Energy"


def _host(store: Store) -> SparkplugHost:
    app = SparkplugHost(SparkplugHostConfig(default_unit="kWh", reorder_timeout=1.0), store)
    app._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    births = [
        ("NBIRTH", None, Payload(timestamp=T0_MS, seq=0)),
        ("DBIRTH", "EM-01", Payload(timestamp=T0_MS, seq=1)),
    ]
    births[0][2].metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=0)
    births[1][2].metrics.add(
        name="Energy", alias=5, datatype=int(DataType.Double), double_value=10.0
    )
    for kind, device, payload in births:
        app.handle(SparkplugTopic("g", kind, "e", device), payload, b"")
    return app


def test_ddata_metrics_outside_the_plausible_window_are_quarantined(store: Store) -> None:
    store.save_reading_window(METER, valid_from=datetime(2024, 1, 1, tzinfo=UTC))
    app = _host(store)
    ddata = Payload(timestamp=T0_MS + 60_000, seq=2)
    for value, stamp in [
        (1.0, 0),  # an edge node whose clock was never set
        (2.0, FAR_FUTURE_MS),
        (3.0, BEFORE_METER_MS),  # inside the default window, before this meter's own
        (4.0, T0_MS + 60_000),
    ]:
        ddata.metrics.add(alias=5, double_value=value, timestamp=stamp)
    app.handle(SparkplugTopic("g", "DDATA", "e", "EM-01"), ddata, b"")

    assert store.series(METER).value.tolist() == [10.0, 4.0]
    kept = store.quarantined()
    assert app.stats.quarantined == len(kept) == 3
    assert {(k.meter_id, k.source_ref) for k in kept} == {(METER, "spBv1.0/g/DDATA/e/EM-01#seq=2")}
    reasons = sorted(k.reason for k in kept)
    assert reasons[0].startswith("timestamp 1970-01-01T00:00:00+00:00 is outside the plausible")
    assert reasons[1].startswith("timestamp 2023-06-01T00:00:00+00:00 is outside the plausible")
    assert "window 2024-01-01 00:00 to " in reasons[1]
    assert reasons[2].startswith("timestamp 2100-01-01T00:00:00+00:00 is outside the plausible")
