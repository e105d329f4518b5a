"""Sparkplug B topic names: ``spBv1.0/<group>/<type>/<edge node>[/<device>]`` and host STATE."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "spBv1.0"
NODE_TYPES = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD"})
DEVICE_TYPES = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})
REBIRTH_METRIC = "Node Control/Rebirth"
BDSEQ_METRIC = "bdSeq"


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    """A parsed Sparkplug topic; `device` is None for node-level messages."""

    group: str
    message_type: str
    edge_node: str
    device: str | None = None

    @property
    def node_key(self) -> tuple[str, str]:
        """(group, edge node): the unit that shares one `seq` counter."""
        return (self.group, self.edge_node)

    def __str__(self) -> str:
        parts = [NAMESPACE, self.group, self.message_type, self.edge_node]
        if self.device is not None:
            parts.append(self.device)
        return "/".join(parts)


def parse_topic(topic: str) -> SparkplugTopic | None:
    """The Sparkplug topic, or None for anything else (STATE, foreign topics, malformed)."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
        return None
    _, group, message_type, edge_node, *rest = parts
    if len(parts) == 4 and message_type in NODE_TYPES:
        return SparkplugTopic(group, message_type, edge_node)
    if len(parts) == 5 and message_type in DEVICE_TYPES:
        return SparkplugTopic(group, message_type, edge_node, rest[0])
    return None


def state_topic(host_id: str) -> str:
    """Topic of a host application's STATE (Sparkplug 3.0 §7.5: no group level)."""
    return f"{NAMESPACE}/STATE/{host_id}"
