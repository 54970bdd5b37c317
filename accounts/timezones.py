"""The time-zone list people choose from: common zones first, then every canonical
IANA zone (no aliases like ``US/Eastern``, ``GB-Eire`` or ``Factory``). Pure: no Django."""

from __future__ import annotations

from functools import cache
from pathlib import Path

ZONES_FILE = Path(__file__).with_name("zones.txt")

# Where most of our users are; every name is canonical (and in zones.txt).
COMMON = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Zurich",
    "Europe/Warsaw",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]


@cache
def canonical_zones() -> tuple[str, ...]:
    lines = ZONES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def zone_label(name: str) -> str:
    """``America/New_York`` → ``America/New York``: the name people read, the value kept."""
    return name.replace("_", " ")


def timezone_choices(current: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a <select>: common zones, then all the others A–Z. A saved zone
    that is not in the list (an alias chosen before the list was trimmed) stays selectable."""
    common = list(COMMON)
    if current and current not in common and current not in canonical_zones():
        common.insert(0, current)
    others = [z for z in canonical_zones() if z not in common]
    return [
        ("Common time zones", [(z, zone_label(z)) for z in common]),
        ("All time zones A–Z", [(z, zone_label(z)) for z in others]),
    ]
