"""Foreign-exchange rates and exact conversion (pure: stdlib only, no Django, no I/O).

The European Central Bank publishes, for each TARGET business day, how many
units of a currency one euro buys ("1 EUR = 1.0890 USD"). Every rate in this
module has that form: **units of the currency per 1 EUR**, and EUR itself is 1.

Conversion goes through the euro: an amount in A is ``amount / rate_A`` euros,
which is ``amount / rate_A * rate_B`` in B. We compute ``amount * rate_B``
exactly and divide once in a 40-significant-digit context (:data:`CONTEXT`), so
the only rounding is that division (relative error below 10^-39). Rounding to a
currency's minor unit happens only for display (:func:`round_for_display`).

A day without a published rate (weekend, TARGET holiday) uses the last rate
published before it, up to ``max_age_days`` back; older than that is an error
(:class:`FxRateUnavailable`), never a silent guess. :class:`FxTable` answers
those look-ups from rates loaded once, for bulk work such as a tax report.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from enum import StrEnum
from typing import NamedTuple

EUR = "EUR"
ONE = Decimal(1)

# Every currency the ECB has published a euro reference rate for (the ~30 of
# today and the ones the euro or a redenomination replaced), plus the euro.
CURRENCY_NAMES: dict[str, str] = {
    "EUR": "Euro",
    "USD": "US dollar",
    "JPY": "Japanese yen",
    "GBP": "Pound sterling",
    "CHF": "Swiss franc",
    "CAD": "Canadian dollar",
    "AUD": "Australian dollar",
    "NZD": "New Zealand dollar",
    "SEK": "Swedish krona",
    "NOK": "Norwegian krone",
    "DKK": "Danish krone",
    "ISK": "Icelandic krona",
    "CZK": "Czech koruna",
    "HUF": "Hungarian forint",
    "PLN": "Polish zloty",
    "RON": "Romanian leu",
    "BGN": "Bulgarian lev",
    "TRY": "Turkish lira",
    "BRL": "Brazilian real",
    "CNY": "Chinese yuan renminbi",
    "HKD": "Hong Kong dollar",
    "IDR": "Indonesian rupiah",
    "ILS": "Israeli new shekel",
    "INR": "Indian rupee",
    "KRW": "South Korean won",
    "MXN": "Mexican peso",
    "MYR": "Malaysian ringgit",
    "PHP": "Philippine peso",
    "SGD": "Singapore dollar",
    "THB": "Thai baht",
    "ZAR": "South African rand",
    # No longer published: replaced by the euro, suspended, or redenominated.
    "CYP": "Cyprus pound (until 2007)",
    "EEK": "Estonian kroon (until 2010)",
    "HRK": "Croatian kuna (until 2022)",
    "LTL": "Lithuanian litas (until 2014)",
    "LVL": "Latvian lats (until 2013)",
    "MTL": "Maltese lira (until 2007)",
    "ROL": "Romanian leu, old (until 2005)",
    "RUB": "Russian rouble (suspended in 2022)",
    "SIT": "Slovenian tolar (until 2006)",
    "SKK": "Slovak koruna (until 2008)",
    "TRL": "Turkish lira, old (until 2004)",
}
ECB_CURRENCIES: frozenset[str] = frozenset(CURRENCY_NAMES)

# ISO 4217 minor units where they are not 2 (used for display only).
MINOR_UNITS: dict[str, int] = {"JPY": 0, "KRW": 0, "ISK": 0, "TRL": 0}

# Storage shape of a rate: the ECB publishes at most 6 decimals (the history
# file's finest is 6) and at most 7 integer digits (old Turkish lira).
RATE_MAX_DIGITS = 18
RATE_DECIMAL_PLACES = 6
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)
_RATE_MAX = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)

CONTEXT = Context(prec=40)
# Products are exact: wide enough for any amount we store times any rate, and
# trapping Inexact so that a product that would not fit fails loudly instead.
_EXACT = Context(prec=120, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
DEFAULT_MAX_AGE_DAYS = 7  # longest ECB gap: a 4-day Easter weekend, or Christmas to the next business day
DEFAULT_MAX_DAILY_MOVE = Decimal("0.5")


class FxRejectReason(StrEnum):
    UNKNOWN_CURRENCY = "unknown_currency"
    BAD_RATE = "bad_rate"  # not a number, not finite, zero or negative
    TOO_PRECISE = "too_precise"  # more decimals or digits than we store
    DUPLICATE = "duplicate"  # the same currency twice on one day in one payload
    FUTURE_DAY = "future_day"
    MOVE_TOO_LARGE = "move_too_large"  # beyond the allowed move against the previous accepted rate
    CONFLICTS_WITH_STORED = "conflicts_with_stored"  # a stored rate of that day differs: the stored one stays


@dataclass(frozen=True, slots=True)
class FxQuote:
    """One published rate: ``rate`` units of ``currency`` per 1 EUR on ``day``."""

    currency: str
    day: date
    rate: Decimal


@dataclass(frozen=True, slots=True)
class FxRejection:
    currency: str
    day: date | None
    reason: str  # an FxRejectReason value
    detail: str = ""


class FxRateUnavailable(LookupError):
    """No usable rate: none published on or up to ``max_age_days`` before ``day``.

    ``latest_day`` is the newest rate on or before ``day`` that exists (too old), or None."""

    def __init__(self, currency: str, day: date, *, max_age_days: int, latest_day: date | None = None):
        self.currency, self.day, self.max_age_days, self.latest_day = currency, day, max_age_days, latest_day
        if currency not in ECB_CURRENCIES:
            why = "the ECB publishes no reference rate for it"
        elif latest_day is None:
            why = "no ECB rate is stored on or before that day"
        else:
            why = f"the latest ECB rate before it is from {latest_day.isoformat()}"
        super().__init__(
            f"No {currency} exchange rate for {day.isoformat()} (the last {max_age_days} days are searched): {why}."
        )


@dataclass(frozen=True, slots=True)
class FxRateUsed:
    """The answer to "the rate of ``currency`` on ``day``": ``rate`` was published on
    ``used_day`` (the same day, or the last business day before it)."""

    currency: str
    day: date
    rate: Decimal
    used_day: date

    @property
    def is_fallback(self) -> bool:
        return self.used_day != self.day


class FxConversion(NamedTuple):
    """``amount`` in ``currency``, converted at the rates ``source`` (of the original
    currency) and ``target`` (of ``currency``), with the days they were published.
    (A named tuple: a report builds 100,000 of these, and it is the cheapest to make.)"""

    amount: Decimal
    currency: str
    source: FxRateUsed
    target: FxRateUsed

    @property
    def rate(self) -> Decimal:
        """Units of ``currency`` per 1 unit of the original currency."""
        return cross_rate(self.source.rate, self.target.rate)


# --------------------------------------------------------------------------- conversion
def normalize_currency(code: str) -> str:
    return (code or "").strip().upper()


def cross_rate(rate_from: Decimal, rate_to: Decimal) -> Decimal:
    """Units of the target currency per 1 unit of the source currency, from both EUR
    rates: USD→GBP = GBP per EUR / USD per EUR."""
    if rate_from <= 0 or rate_to <= 0:
        raise ValueError("exchange rates must be positive")
    return CONTEXT.divide(rate_to, rate_from)


def convert(amount: Decimal, *, rate_from: Decimal, rate_to: Decimal) -> Decimal:
    """``amount`` in the source currency, in the target currency: ``amount * rate_to / rate_from``.

    The product is exact; the one division is rounded to 40 significant digits
    (half-even). Not rounded to cents: do that only for display."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if rate_from <= 0 or rate_to <= 0:
        raise ValueError("exchange rates must be positive")
    if rate_from == rate_to:
        return amount
    return CONTEXT.divide(_EXACT.multiply(amount, rate_to), rate_from)


def round_for_display(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit (cents; whole yen)."""
    places = MINOR_UNITS.get(normalize_currency(currency), 2)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=CONTEXT)


# --------------------------------------------------------------------------- validation
def parse_rate(text: str) -> Decimal:
    """A published rate as Decimal; ``ValueError`` (with the reason as its first
    argument) when it is not a positive finite number we can store exactly."""
    try:
        rate = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(FxRejectReason.BAD_RATE, f"not a number: {text!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(FxRejectReason.BAD_RATE, f"not a positive finite number: {text!r}")
    exponent = rate.as_tuple().exponent  # an int for a finite Decimal
    fits = isinstance(exponent, int) and exponent >= -RATE_DECIMAL_PLACES  # the usual case, cheaply
    if not (fits or rate == rate.quantize(_RATE_QUANTUM, context=CONTEXT)) or rate >= _RATE_MAX:
        raise ValueError(FxRejectReason.TOO_PRECISE, f"beyond {RATE_DECIMAL_PLACES} decimals or too large: {text!r}")
    return rate


def quote_from_text(currency: str, day: date, text: str) -> FxQuote | FxRejection:
    """Parse one published figure: a quote, or the reason it cannot be one."""
    code = normalize_currency(currency)
    if code not in ECB_CURRENCIES or code == EUR:
        return FxRejection(code, day, FxRejectReason.UNKNOWN_CURRENCY, f"unknown currency code {currency!r}")
    try:
        return FxQuote(code, day, parse_rate(text))
    except ValueError as exc:
        reason, detail = exc.args
        return FxRejection(code, day, reason, detail)


def move_allowed(previous: Decimal, new: Decimal, max_move: Decimal) -> bool:
    """True when ``new`` is within ``max_move`` (0.5 = 50 %) of ``previous`` either way,
    symmetrically in ratio: up to ×1.5 or down to ÷1.5, so a currency's limit is the
    same whichever side of the pair it is on."""
    limit = ONE + max_move
    return previous / limit <= new <= previous * limit


@dataclass
class FxScreen:
    """What :func:`screen_quotes` decided: rates to store, how many were already
    stored identically, and what was rejected."""

    new: list[FxQuote] = field(default_factory=list)
    unchanged: int = 0
    rejections: list[FxRejection] = field(default_factory=list)

    @property
    def rejection_counts(self) -> dict[str, int]:
        return dict(Counter(str(r.reason) for r in self.rejections))


def screen_quotes(
    quotes: Iterable[FxQuote],
    *,
    stored: Iterable[FxQuote],
    latest_day: date,
    max_move: Decimal = DEFAULT_MAX_DAILY_MOVE,
) -> FxScreen:
    """Guard a fetched batch against what we already hold.

    ``stored`` holds, per currency, the accepted rates from the last one before
    the batch's first day up to its last day. Per currency, in day order:

    * a day already stored keeps its stored rate (a published ECB rate is never
      revised): equal -> ``unchanged``, different -> rejected (``conflicts_with_stored``);
    * a day after ``latest_day`` (normally tomorrow in UTC) is rejected;
    * a new day must be within ``max_move`` of the previous accepted rate (stored
      or accepted earlier in this batch), else rejected and the last good rate
      stays in force; a currency with no previous rate is accepted as published.
    """
    result = FxScreen()
    accepted: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for q in stored:
        accepted[q.currency][q.day] = q.rate
    accepted_days = {c: sorted(rates) for c, rates in accepted.items()}
    seen: set[tuple[str, date]] = set()
    for q in sorted(quotes, key=lambda q: (q.currency, q.day)):
        key = (q.currency, q.day)
        if key in seen:
            result.rejections.append(FxRejection(q.currency, q.day, FxRejectReason.DUPLICATE, "given twice"))
            continue
        seen.add(key)
        if q.currency not in ECB_CURRENCIES or q.currency == EUR:
            result.rejections.append(FxRejection(q.currency, q.day, FxRejectReason.UNKNOWN_CURRENCY))
            continue
        if q.day > latest_day:
            result.rejections.append(
                FxRejection(q.currency, q.day, FxRejectReason.FUTURE_DAY, f"after {latest_day.isoformat()}")
            )
            continue
        rates = accepted[q.currency]
        if q.day in rates:
            if rates[q.day] == q.rate:
                result.unchanged += 1
            else:
                result.rejections.append(
                    FxRejection(
                        q.currency,
                        q.day,
                        FxRejectReason.CONFLICTS_WITH_STORED,
                        f"stored {rates[q.day]}, received {q.rate}",
                    )
                )
            continue
        days = accepted_days.setdefault(q.currency, [])
        i = bisect.bisect_left(days, q.day)
        if i:
            previous_day = days[i - 1]
            previous = rates[previous_day]
            if not move_allowed(previous, q.rate, max_move):
                result.rejections.append(
                    FxRejection(
                        q.currency,
                        q.day,
                        FxRejectReason.MOVE_TOO_LARGE,
                        f"{q.rate} against {previous} on {previous_day.isoformat()} (limit {max_move * 100:.0f} %)",
                    )
                )
                continue
        rates[q.day] = q.rate
        days.insert(i, q.day)
        result.new.append(q)
    return result


# --------------------------------------------------------------------------- look-ups
class FxTable:
    """Rates held in memory for many look-ups (built by ``pools.selectors_fx.fx_table``
    from one query): :meth:`rate_on` and :meth:`convert` cost a dictionary hit or a
    binary search, never a query.

    ``start``/``end`` bound the days the table may be asked about: the loader
    fetched every rate from ``start - max_age_days`` to ``end``, so an answer
    outside that range could be wrong and raises ``ValueError`` instead.
    """

    def __init__(
        self,
        rows: Iterable[tuple[str, date, Decimal]],
        *,
        start: date,
        end: date,
        max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    ):
        series: dict[str, dict[date, Decimal]] = defaultdict(dict)
        for currency, day, rate in rows:
            series[currency][day] = rate
        self._days: dict[str, list[date]] = {c: sorted(s) for c, s in series.items()}
        self._rates: dict[str, list[Decimal]] = {c: [series[c][d] for d in self._days[c]] for c in series}
        self.start, self.end, self.max_age_days = start, end, max_age_days
        self._memo: dict[tuple[str, date], FxRateUsed] = {}

    def __len__(self) -> int:
        return sum(len(days) for days in self._days.values())

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(self._days)

    def lookup(self, currency: str, day: date) -> FxRateUsed:
        """The rate in force on ``day`` and the day it was published (see the module docstring)."""
        key = (currency, day)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if type(day) is not date:  # a datetime's calendar day depends on a zone the caller must choose
            raise TypeError(f"expected a date, got {type(day).__name__}")
        code = normalize_currency(currency)
        if code == EUR:
            used = FxRateUsed(EUR, day, ONE, day)
        else:
            if not self.start <= day <= self.end:
                raise ValueError(
                    f"{day.isoformat()} is outside this table's range {self.start.isoformat()}..{self.end.isoformat()}"
                )
            days = self._days.get(code, [])
            i = bisect.bisect_right(days, day) - 1
            if i < 0 or (day - days[i]).days > self.max_age_days:
                raise FxRateUnavailable(
                    code, day, max_age_days=self.max_age_days, latest_day=days[i] if i >= 0 else None
                )
            used = FxRateUsed(code, day, self._rates[code][i], days[i])
        self._memo[key] = used
        return used

    def rate_on(self, currency: str, day: date) -> tuple[Decimal, date]:
        """``(rate, used_day)``: units of ``currency`` per 1 EUR in force on ``day``."""
        used = self.lookup(currency, day)
        return used.rate, used.used_day

    def convert(self, amount: Decimal, from_currency: str, to_currency: str, day: date) -> FxConversion:
        """``amount`` in ``from_currency`` expressed in ``to_currency`` at ``day``'s rates
        (through the euro; see :func:`convert`)."""
        source = self.lookup(from_currency, day)
        target = self.lookup(to_currency, day)
        return FxConversion(
            convert(amount, rate_from=source.rate, rate_to=target.rate), target.currency, source, target
        )
