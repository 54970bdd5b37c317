"""Numbers as people read them: money, quantities and percentages (pure: standard library only).

One module for every place that turns a number into text: the template tags
(portfolios and pools), the sentences of the analytics and the position page,
the chart labels (``config.charts``) and the exports. It lives in ``config`` so
that ``pools`` can use it without importing ``portfolios``.

The rules, everywhere:

* **Missing** (``None``, blank, not a number) is an em dash, :data:`DASH`, never
  ``0``: an unknown price is not a zero price. Machine-readable forms
  (:func:`money_plain`, :func:`plain_number`) give an empty string instead.
* **Negative** numbers take the minus sign U+2212 (:data:`MINUS`), which lines
  up with digits in tabular figures, before any currency symbol:
  ``−$1,234.50``. A value that rounds to zero has no sign. Machine-readable
  forms use the ASCII hyphen-minus. ``minus="-"`` asks for it in display text
  too (fonts without U+2212, such as the PDF's standard ones).
* **Rounding** is half up (``2.005`` → ``2.01``), on the ``Decimal`` itself;
  nothing goes through ``float``.
* **Money** names its currency: ``$``, ``€``, ``£`` and ``¥`` as symbols, any
  other ISO code as a prefix (``CHF 1,234.50``), with the currency's minor
  units (2 decimals; 0 for JPY, KRW and ISK).

>>> money(Decimal("-1234.5"))
'−$1,234.50'
>>> money(Decimal("1234.5"), "JPY")
'¥1,235'
>>> percent(Decimal("5.125"))
'5.13%'
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Final

__all__ = [
    "DASH",
    "MINUS",
    "currency_symbol",
    "minor_units",
    "money",
    "money_compact",
    "money_plain",
    "normalize_decimal",
    "percent",
    "plain_number",
    "price",
    "quantity",
    "ratio_percent",
    "to_decimal",
]

DASH: Final = "—"  # a missing value
MINUS: Final = "−"  # U+2212 MINUS SIGN

_SYMBOLS: Final = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_MINOR_UNITS: Final = {"JPY": 0, "KRW": 0, "ISK": 0}
_TINY: Final = Decimal("1e-6")  # below this an amount prints as "<$0.000001"
_COMPACT: Final = ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))


def to_decimal(value: object) -> Decimal | None:
    """``value`` as a Decimal; None for None, blank, a bool, NaN/infinity or anything
    that is not a number. Floats (e.g. SQLite aggregates) go through their ``str``."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _grouped(magnitude: Decimal, places: int) -> str:
    return f"{_rounded(magnitude, places):,.{places}f}"


def _sign(value: Decimal, text: str, *, minus: str, signed: bool) -> str:
    """The sign to print before ``text`` (the rounded magnitude): none for zero."""
    if text.strip("0.,") == "":
        return ""
    if value < 0:
        return minus
    return "+" if signed and value > 0 else ""


def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit (ISO 4217): 2, or 0 for JPY, KRW, ISK."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def currency_symbol(currency: str) -> str | None:
    """``"$"`` for USD, ``"€"``, ``"£"``, ``"¥"``; None for a currency shown by its code."""
    return _SYMBOLS.get(currency.upper())


def _with_currency(text: str, currency: str, symbol: bool) -> str:
    if not symbol:
        return text
    sign = currency_symbol(currency)
    return f"{sign}{text}" if sign else f"{currency.upper()} {text}"


def money(
    value: object,
    currency: str = "USD",
    *,
    places: int | None = None,
    signed: bool = False,
    symbol: bool = True,
    minus: str = MINUS,
) -> str:
    """An amount of ``currency`` for people: ``−$1,234.50``, ``CHF 12.00``, ``¥1,235``.

    ``places`` overrides the currency's minor units; ``signed`` adds ``+`` to gains;
    ``symbol=False`` leaves the currency out (a column that names it). A non-zero
    amount smaller than the minor unit keeps two significant digits (``$0.0042``),
    down to ``<$0.000001``."""
    d = to_decimal(value)
    if d is None:
        return DASH
    places = minor_units(currency) if places is None else int(places)
    magnitude = abs(d)
    if 0 < magnitude < Decimal(1).scaleb(-places):
        sign = minus if d < 0 else ("+" if signed else "")
        if magnitude < _TINY:
            return f"{sign}<{_with_currency('0.000001', currency, symbol)}"
        return sign + _with_currency(f"{magnitude:.2g}", currency, symbol)
    text = _grouped(magnitude, places)
    return _sign(d, text, minus=minus, signed=signed) + _with_currency(text, currency, symbol)


def money_compact(value: object, currency: str = "USD", *, minus: str = MINUS) -> str:
    """Large amounts in short form for lists and chart axes: ``$1.2bn``, ``$45.6M``,
    ``$789.0k``; below a thousand, :func:`money`."""
    d = to_decimal(value)
    if d is None:
        return DASH
    magnitude = abs(d)
    for limit, suffix in _COMPACT:
        if _rounded(magnitude, 2) >= limit:
            text = f"{_rounded(magnitude / limit, 1):,.1f}{suffix}"
            return _sign(d, text, minus=minus, signed=False) + _with_currency(text, currency, True)
    return money(d, currency, minus=minus)


def money_plain(value: object, currency: str = "USD") -> str:
    """Machine-readable money for CSV files: ``-1234.50`` (the currency's minor units,
    ASCII minus, no symbol, no grouping); an empty string when missing."""
    d = to_decimal(value)
    if d is None:
        return ""
    rounded = _rounded(d, minor_units(currency))
    return str(abs(rounded) if rounded == 0 else rounded)  # never "-0.00"


def price(value: object, currency: str = "USD") -> str:
    """A unit price: minor units from 1 up (``$3,012.45``), six significant digits
    below (``$0.000123457``)."""
    d = to_decimal(value)
    if d is None:
        return DASH
    if abs(d) >= 1 or d == 0:
        return money(d, currency)
    sign = MINUS if d < 0 else ""
    return sign + _with_currency(f"{abs(d):.6g}", currency, True)


def quantity(value: object, *, minus: str = MINUS) -> str:
    """A token quantity, grouped, without trailing zeros: 2 decimals from 1,000 up,
    6 from 1, 10 below (``1,234.5``, ``0.0001234``); what still rounds to zero keeps
    three significant digits (``1.23e-12``)."""
    d = to_decimal(value)
    if d is None:
        return DASH
    if d == 0:
        return "0"
    magnitude = abs(d)
    places = 2 if magnitude >= 1000 else 6 if magnitude >= 1 else 10
    text = _grouped(magnitude, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", ""):
        text = f"{magnitude:.3g}"
    return (minus if d < 0 else "") + text


def percent(value: object, places: int = 2, *, signed: bool = False, minus: str = MINUS) -> str:
    """A number already in percent units: ``5`` → ``5.00%``, ``-0.5`` → ``−0.50%``."""
    d = to_decimal(value)
    if d is None:
        return DASH
    text = _grouped(abs(d), int(places))
    return _sign(d, text, minus=minus, signed=signed) + text + "%"


def ratio_percent(value: object, places: int = 2, *, signed: bool = False, minus: str = MINUS) -> str:
    """A fraction as a percentage: ``Decimal("-0.0572")`` → ``−5.72%``."""
    d = to_decimal(value)
    if d is None:
        return DASH
    return percent(d * 100, places, signed=signed, minus=minus)


def normalize_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and without an exponent: ``2000.000`` → ``2000``
    (not ``2E+3``), ``1.50`` → ``1.5``, ``-0`` → ``0``. Exactly the same number."""
    return Decimal(plain_number(value))


def plain_number(value: object) -> str:
    """Full precision for files, hashes and the API: ``-1.5``, ``2000``,
    ``0.000000000000000001`` (no grouping, no exponent, no trailing zeros, ASCII
    minus, ``0`` for zero); an empty string when missing. Every digit is kept: a
    48-digit token quantity is not rounded to the 28 of the default context."""
    d = to_decimal(value)
    if d is None:
        return ""
    if d == 0:
        return "0"
    return format(d.normalize(Context(prec=max(28, len(d.as_tuple().digits)))), "f")
