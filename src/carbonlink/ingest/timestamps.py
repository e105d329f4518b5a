"""Fast reading of fixed-width timestamps such as ``31/12/2018 23:45``, on whole columns.

Loggers write every stamp in the same fixed-width pattern, so the digits sit at the same
positions in every row: reading them as a matrix of code points is some ten times faster than
``strptime`` row by row. Anything that does not fit the pattern exactly comes back as
not-a-time, and the caller reads those few rows the slow, forgiving way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_FIELDS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
NOT_A_TIME = np.datetime64("NaT", "us")


def _layout(pattern: str) -> tuple[list[tuple[str, int, int]], list[tuple[int, str]], int] | None:
    """Positions of the fields and literal characters of a strftime pattern, or None."""
    fields: list[tuple[str, int, int]] = []
    literals: list[tuple[int, str]] = []
    position = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%":
            if i + 1 >= len(pattern) or pattern[i + 1] not in _FIELDS:
                return None
            code = pattern[i + 1]
            fields.append((code, position, _FIELDS[code]))
            position += _FIELDS[code]
            i += 2
        else:
            literals.append((position, char))
            position += 1
            i += 1
    codes = [code for code, _, _ in fields]
    if len(set(codes)) != len(codes) or not {"Y", "m", "d"} <= set(codes):
        return None
    return fields, literals, position


def parse_fixed_width(text: list[str], pattern: str) -> NDArray[np.datetime64] | None:
    """Naive datetimes (``datetime64[us]``) of ``text`` read with ``pattern``; NaT where a stamp
    does not match. None when the pattern has directives other than %Y %m %d %H %M %S."""
    layout = _layout(pattern)
    if layout is None:
        return None
    fields, literals, width = layout
    n = len(text)
    out = np.full(n, NOT_A_TIME)
    if n == 0:
        return out
    joined = "\n".join(text).encode("ascii", errors="replace")
    codes: NDArray[np.unsignedinteger]
    if len(joined) == n * (width + 1) - 1:
        # every stamp has the pattern's width: one reshape gives the character matrix
        codes = np.frombuffer(joined + b"\n", dtype=np.uint8).reshape(n, width + 1)[:, :width]
        ok = np.ones(n, dtype=bool)
    else:
        strings = np.array(text, dtype=str)
        longest = strings.dtype.itemsize // 4
        if longest < width:
            return out
        ok = np.char.str_len(strings) == width
        codes = strings.view(np.uint32).reshape(n, longest)[:, :width]
    matrix = codes.astype(np.int16)
    for position, char in literals:
        ok &= matrix[:, position] == ord(char)
    values: dict[str, NDArray[np.int64]] = {}
    for code, start, size in fields:
        digits = matrix[:, start : start + size] - 48
        ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
        number = np.zeros(n, dtype=np.int64)
        for k in range(size):
            number = number * 10 + digits[:, k]
        values[code] = number
    zero = np.zeros(n, dtype=np.int64)
    year, month, day = values["Y"], values["m"], values["d"]
    hour, minute, second = values.get("H", zero), values.get("M", zero), values.get("S", zero)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (hour < 24) & (minute < 60) & (second < 60)
    month_index = np.where(ok, (year - 1970) * 12 + month - 1, 0)
    first_day = month_index.astype("datetime64[M]").astype("datetime64[D]")
    next_first = (month_index + 1).astype("datetime64[M]").astype("datetime64[D]")
    ok &= day <= (next_first - first_day).astype(np.int64)
    seconds = (hour * 60 + minute) * 60 + second
    stamps = first_day.astype("datetime64[us]") + (
        ((day - 1) * 86_400 + seconds) * 1_000_000
    ).astype("timedelta64[us]")
    out[ok] = stamps[ok]
    return out
