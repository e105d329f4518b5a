"""IANA time zones: checked where a name comes in, forgiving where a stored one is shown.

Every facility carries an IANA zone name. A name is checked when it is received (a form, an
API body, an inventory file); a name already stored that the zone database does not know (from
before the check, or a zone database that lost it) is shown in UTC rather than breaking a page.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = ZoneInfo("UTC")


def known_zone(name: str) -> str:
    """``name`` if it is an IANA time zone; ValueError naming it otherwise (for validators)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
        ) from None
    return name


@lru_cache(maxsize=256)
def zone_or_utc(name: str | None) -> ZoneInfo:
    """The zone of a stored name, or UTC when the name is empty or unknown."""
    if not name:
        return UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC_ZONE


def usable_zone(name: str | None) -> str:
    """A stored zone name as code may use it: itself when known, else ``"UTC"``."""
    return "UTC" if zone_or_utc(name) is UTC_ZONE and name != "UTC" else str(name)
