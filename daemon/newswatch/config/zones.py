"""Time zones by IANA name (`timezone: Europe/Berlin`), and the system's own."""

from __future__ import annotations

import os
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALTIME = "/etc/localtime"


def zone_named(name: str) -> ZoneInfo:
    """The zone of that IANA name; ValueError (saying how to mend it) for anything else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{name!r} is not a known time zone; write an IANA name such as "
            "Europe/Berlin, America/New_York or UTC"
        ) from None


def system_zone() -> tzinfo:
    """The machine's zone, with its daylight-saving rules: `TZ` if it names one, else
    /etc/localtime, else UTC."""
    name = os.environ.get("TZ", "").removeprefix(":")
    if name:
        try:
            return zone_named(name)
        except ValueError:
            pass
    try:
        with open(LOCALTIME, "rb") as data:
            return ZoneInfo.from_file(data, key="localtime")
    except (OSError, ValueError):
        return UTC
