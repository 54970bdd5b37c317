"""Break-even fee APR: the fee yield that offsets a given impermanent loss."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Literal

from pools.amm.numbers import CTX, ONE, ZERO, InvalidParameter, Number, dec_arg, int_arg, positive_arg

_DAYS_PER_YEAR = Decimal(365)

Compounding = Literal["simple", "continuous"] | int


def break_even_fee_apr(impermanent_loss: Number, days: Number, *, compounding: Compounding = "simple") -> Decimal:
    """Fee APR (fraction per 365-day year) that offsets ``impermanent_loss`` over ``days``.

    Assumption: fees accrue on the LP position's own value, so break-even means
    ``value_lp * G = value_hodl``, i.e. a fee growth factor ``G = 1 / (1 + IL)`` over the horizon.

    * ``"simple"`` (default, no compounding): ``G = 1 + APR * days / 365`` so
      ``APR = (1 / (1 + IL) - 1) * 365 / days`` (``= -IL/(1+IL) * 365/days``; for small IL this is
      about ``-IL * 365 / days``).
    * an ``int`` ``n`` (fees reinvested ``n`` times a year): ``G = (1 + APR/n) ** (n * days/365)``.
    * ``"continuous"``: ``G = exp(APR * days / 365)`` so ``APR = -ln(1 + IL) * 365 / days``.

    ``impermanent_loss`` must be in ``(-1, 0]``-ish: values >= 0 return 0 (nothing to offset);
    ``<= -1`` is rejected.
    """
    il = dec_arg(impermanent_loss, "impermanent_loss")
    if il <= -1:
        raise InvalidParameter("impermanent_loss", "must be greater than -1")
    t = positive_arg(days, "days")
    if il >= 0:
        return ZERO
    with localcontext(CTX):
        growth = ONE / (ONE + il)
        years = t / _DAYS_PER_YEAR
        if compounding == "simple":
            return (growth - ONE) / years
        if compounding == "continuous":
            return growth.ln() / years
        n = int_arg(compounding, "compounding")
        if n <= 0:
            raise InvalidParameter("compounding", "must be 'simple', 'continuous' or a positive int")
        nd = Decimal(n)
        return nd * ((growth.ln() / (nd * years)).exp() - ONE)
