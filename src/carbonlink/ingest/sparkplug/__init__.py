"""Sparkplug B 3.0: payload schema, host application and an edge-node simulator."""

from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.simulator import EdgeNodeSimulator, SimulatedMetric

__all__ = [
    "DataType",
    "EdgeNodeSimulator",
    "Payload",
    "SimulatedMetric",
    "SparkplugHost",
    "SparkplugHostConfig",
]
