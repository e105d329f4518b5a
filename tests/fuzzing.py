"""Hypothesis strategies shared by the parser fuzz tests: arbitrary JSON and mutated documents.

A mutated document starts from a valid one and changes one place in its tree — a value replaced
by any JSON value, a key removed, a key added — so the parser is driven deep into its checks,
not only turned away at the first brace.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _places(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            places.extend(_places(value, (*path, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            places.extend(_places(value, (*path, index)))
    return places


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one place replaced, removed or given an extra key."""
    tree = copy.deepcopy(document)
    path = draw(st.sampled_from(_places(tree)))
    if not path:
        return draw(json_values)
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(json_values)
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = draw(json_values)
    else:
        parent.append(draw(json_values))
    return tree


@st.composite
def byte_mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one byte changed, inserted or removed."""
    buffer = bytearray(data)
    position = draw(st.integers(0, len(buffer) - 1))
    action = draw(st.sampled_from(["flip", "insert", "remove"]))
    if action == "flip":
        buffer[position] ^= draw(st.integers(1, 255))
    elif action == "insert":
        buffer.insert(position, draw(st.integers(0, 255)))
    else:
        del buffer[position]
    return bytes(buffer)
