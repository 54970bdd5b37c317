"""The currency pages show money in (issue 11 item 2).

The analytics value everything in USD, the currency of the price history (legs
entered in other currencies are converted at their day's ECB rate by the
loader). Pages then show the figures in the user's currency at one ECB rate -
the newest published for both currencies - and say which rate and which day:
a display conversion, labelled as such, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pools.fx import EUR, FxRateUnavailable
from pools.selectors_fx import fx_convert, fx_latest_day
from portfolios.selectors.loader import VALUATION_CURRENCY


@dataclass(frozen=True)
class DisplayCurrency:
    """Show USD figures in ``code``: multiply by ``rate`` (units of ``code`` per USD,
    the ECB cross rate of ``day``). ``rate`` is 1 and ``day`` None for USD, or when no
    rate is stored (then ``missing`` is True and figures stay in USD, saying so)."""

    code: str
    rate: Decimal = Decimal(1)
    day: date | None = None
    wanted: str = VALUATION_CURRENCY
    missing: bool = False

    @property
    def converted(self) -> bool:
        return self.code != VALUATION_CURRENCY

    def convert(self, value: Decimal | None) -> Decimal | None:
        return None if value is None else value * self.rate


def display_currency_for(*, user) -> DisplayCurrency:
    """The user's currency with the newest ECB rate against USD (at most three small queries)."""
    wanted = getattr(user, "fiat_currency", VALUATION_CURRENCY) or VALUATION_CURRENCY
    if wanted == VALUATION_CURRENCY:
        return DisplayCurrency(VALUATION_CURRENCY)
    days = [d for d in (fx_latest_day(currency=VALUATION_CURRENCY),
                        None if wanted == EUR else fx_latest_day(currency=wanted)) if d is not None]
    if not days or (wanted != EUR and len(days) < 2):
        return DisplayCurrency(VALUATION_CURRENCY, wanted=wanted, missing=True)
    day = min(days)
    try:
        rate = fx_convert(Decimal(1), VALUATION_CURRENCY, wanted, day).amount
    except FxRateUnavailable:
        return DisplayCurrency(VALUATION_CURRENCY, wanted=wanted, missing=True)
    return DisplayCurrency(wanted, rate, day, wanted)
