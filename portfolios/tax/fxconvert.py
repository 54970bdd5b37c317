"""Converting a report's leg values into its currency (pure: no Django, no I/O).

``LedgerConverter`` answers "this value, in this currency, at this moment - in the
report's currency" from one preloaded :class:`pools.fx.FxTable`, and records every
rate it used (:class:`FxUsage`) so the report can say which rate and which ECB day
each transaction date used (a weekend or holiday takes the last rate before it).

Exactly the arithmetic of :func:`pools.fx.convert`: ``value × rate_to`` exact, one
division by ``rate_from`` to 40 significant digits. The two rates of a (currency,
local day) are looked up once and kept, so each further value costs one product and
one division (about 1-3 µs): a 100,000-transaction ledger converts in a fraction of
a second (``benchmarks/bench_tax.py --currency GBP``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from zoneinfo import ZoneInfo

from pools.fx import CONTEXT, FxRateUsed, FxTable, cross_rate

_EXACT = Context(prec=120, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])


@dataclass
class FxUsage:
    """The conversions made into ``currency``: per (source currency, local day), the
    rates used (``FxRateUsed`` of the source and of the target, with the days they
    were published) and how many values used them."""

    currency: str
    timezone: str
    used: dict[tuple[str, date], tuple[FxRateUsed, FxRateUsed]] = field(default_factory=dict)
    legs: dict[tuple[str, date], int] = field(default_factory=dict)

    @property
    def converted_legs(self) -> int:
        return sum(self.legs.values())

    def rows(self) -> list[dict[str, object]]:
        """One row per (source currency, day), in day order: the rate (units of the
        report's currency per unit of the source, 40 significant digits), both EUR
        rates, the ECB day they were published, and whether that is an earlier day."""
        out: list[dict[str, object]] = []
        for (code, day), (source, target) in sorted(self.used.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            out.append({
                "day": day.isoformat(), "from": code, "to": self.currency,
                "rate": format(cross_rate(source.rate, target.rate).normalize(CONTEXT), "f"),
                "eur_rate_from": format(source.rate, "f"), "eur_rate_to": format(target.rate, "f"),
                "rate_day": min(source.used_day, target.used_day).isoformat(),
                "fallback": source.is_fallback or target.is_fallback, "legs": self.legs[(code, day)],
            })
        return out


class LedgerConverter:
    """``converter(value, currency, moment)``: ``value`` of ``currency`` in the report's
    currency at the ECB rates of ``moment``'s date in the report's time zone.
    Raises :class:`pools.fx.FxRateUnavailable` when the table has no usable rate."""

    def __init__(self, table: FxTable, usage: FxUsage):
        self.table, self.usage = table, usage
        self.tz = ZoneInfo(usage.timezone)
        self.target = usage.currency
        self._days: dict[datetime, date] = {}
        self._pairs: dict[tuple[str, date], tuple[Decimal, Decimal]] = {}

    def day_of(self, moment: datetime) -> date:
        day = self._days.get(moment)
        if day is None:
            day = self._days[moment] = moment.astimezone(self.tz).date()
        return day

    def __call__(self, value: Decimal, code: str, moment: datetime) -> Decimal:
        day = self._days.get(moment)
        if day is None:
            day = self._days[moment] = moment.astimezone(self.tz).date()
        key = (code, day)
        pair = self._pairs.get(key)
        if pair is None:
            source = self.table.lookup(code, day)
            target = self.table.lookup(self.target, day)
            pair = self._pairs[key] = (source.rate, target.rate)
            self.usage.used[key] = (source, target)
            self.usage.legs[key] = 0
        self.usage.legs[key] += 1
        rate_from, rate_to = pair
        if rate_from == rate_to:
            return value
        return CONTEXT.divide(_EXACT.multiply(value, rate_to), rate_from)
