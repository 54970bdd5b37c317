"""Which of our CSV formats a file is, from its header line (pure: stdlib only)."""

from __future__ import annotations

import csv
import io

from portfolios.csvformats.koinly import _KOINLY_ALIASES, _label
from portfolios.csvformats.native import NATIVE_REQUIRED

KOINLY_SIGNATURE = ("Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency")


def header_of(text: str) -> list[str]:
    """The first line's cells, stripped ("" cells dropped); [] when unreadable."""
    first = text.removeprefix("\ufeff").splitlines()[0] if text.strip() else ""
    try:
        row = next(csv.reader(io.StringIO(first)), [])
    except csv.Error:
        return []
    return [cell.strip() for cell in row if cell.strip()]


def detect_format(text: str) -> str | None:
    """``"native"`` or ``"koinly"`` when the header has every column that format needs,
    else None (the caller asks the user to choose)."""
    header = header_of(text)
    if all(column in header for column in NATIVE_REQUIRED):
        return "native"
    koinly = {_KOINLY_ALIASES.get(_label(h), h) for h in header}
    if all(column in koinly for column in KOINLY_SIGNATURE):
        return "koinly"
    return None
