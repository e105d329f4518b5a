"""China's unified social credit code (统一社会信用代码) and its check characters.

GB 32100-2015 gives every legal entity an 18-character code:

    position 1       registration authority (登记管理部门代码), a code character
    position 2       entity type (机构类别代码), a code character
    positions 3–8    administrative division of the registration authority (GB/T 2260), digits
    positions 9–17   the organization code (主体标识码, GB 11714), its 9th character a check digit
    position 18      check character over positions 1–17

The code characters are the digits and the capital letters without I, O, Z, S and V (31 in all,
valued 0–30 in that order). The check character of position 18 is
``C18 = 31 − (Σ value_i × 3^(i−1) mod 31) mod 31``, taken back to a character (31 → ``0``).
The organization code's check digit (GB 11714-1997) is ``11 − (Σ value_i × w_i mod 11)`` with
weights 3 7 9 10 5 8 4 2 (10 → ``X``, 11 → ``0``), letters valued 10–35.
"""

from __future__ import annotations

import string

__all__ = ["USCC_CHARACTERS", "uscc_check_character", "uscc_problem"]

USCC_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 code characters of GB 32100-2015, in the order of their values 0–30."""

_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {c: i for i, c in enumerate(string.digits + string.ascii_uppercase)}


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) of the first 17 characters of a code."""
    total = sum(USCC_CHARACTERS.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_CHARACTERS[(31 - total % 31) % 31]


def _org_check_digit(first8: str) -> str:
    total = sum(_ORG_VALUES[c] * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_problem(code: str) -> str | None:
    """What is wrong with ``code`` as a unified social credit code; None when it is well-formed."""
    if len(code) != 18:
        return f"has {len(code)} characters, not 18"
    wrong = sorted({c for c in code if c not in USCC_CHARACTERS})
    if wrong:
        return (
            f"contains {', '.join(repr(c) for c in wrong)}: only digits and the capital letters "
            "without I, O, Z, S and V are code characters"
        )
    if not code[2:8].isdigit():
        return f"positions 3–8 ({code[2:8]}) must be the six digits of a division code"
    org = code[8:17]
    if _org_check_digit(org[:8]) != org[8]:
        return (
            f"the organization code {org[:8]}-{org[8]} has a wrong check digit "
            f"(GB 11714 gives {_org_check_digit(org[:8])})"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"its check character is {code[17]}, GB 32100-2015 gives {expected}"
    return None
