"""The fixed-width timestamp reader agrees with strptime on every string, good or bad."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from carbonlink.ingest.timestamps import parse_fixed_width

PATTERNS = ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M", "%m.%d.%Y"]


def _strptime(text: str, pattern: str) -> np.datetime64:
    try:
        parsed = datetime.strptime(text, pattern)
    except ValueError:
        return np.datetime64("NaT", "us")
    # strptime also takes 1-digit fields; the fast reader leaves those to the slow path
    if parsed.strftime(pattern) != text:
        return np.datetime64("NaT", "us")
    return np.datetime64(parsed, "us")


@given(
    st.sampled_from(PATTERNS),
    st.lists(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))),
)
def test_well_formed_stamps_read_like_strptime(pattern: str, instants: list[datetime]) -> None:
    text = [instant.strftime(pattern) for instant in instants]
    parsed = parse_fixed_width(text, pattern)
    assert parsed is not None
    assert parsed.tolist() == [_strptime(t, pattern).tolist() for t in text]


@given(
    st.sampled_from(PATTERNS),
    st.lists(st.text(alphabet="0123456789/:-. aZ", min_size=0, max_size=20), max_size=30),
)
def test_garbage_is_not_a_time_exactly_where_strptime_fails(pattern: str, text: list[str]) -> None:
    parsed = parse_fixed_width(text, pattern)
    assert parsed is not None
    expected = [_strptime(t, pattern) for t in text]
    assert [str(p) for p in parsed] == [str(e) for e in expected]


def test_patterns_with_other_directives_are_left_to_strptime() -> None:
    assert parse_fixed_width(["Jan 01 2018"], "%b %d %Y") is None
    assert parse_fixed_width(["31/12/2018 00:00"], "%d/%m/%Y %H:%M").tolist() == [
        datetime(2018, 12, 31)
    ]
