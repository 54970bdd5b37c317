"""Exact quantity arithmetic of the tax engine (standard library only).

Quantities are only ever added, subtracted and compared, never rounded (see
"Rounding" in the package docstring); the one division, re-denominating lots
when a non-taxable move returns a different quantity, is :func:`rescale`.
Money runs at ``PRECISION`` significant digits in the driver's own context.
"""

from __future__ import annotations

from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    InvalidOperation,
    Overflow,
)

ZERO = Decimal(0)
ONE = Decimal(1)
PRECISION = 50
# Quantities re-denominated pro rata (a non-taxable LP/staking move whose
# receipt quantity differs from what went in) are cut to this exponent - far
# finer than any token's smallest unit (1e-18) - or to the receipt leg's own
# exponent when that is finer; the last piece takes the exact remainder.
RESCALE_EXPONENT = -24

# Quantities are only ever added, subtracted and compared (the one division,
# re-denomination, goes through ``rescale``), so they are kept exact: this
# context never rounds (its precision is unbounded) and is used for every
# running quantity total, so a store's ``held`` is always exactly the sum of
# its lots and a "sell everything" always finds exactly what it asks for.
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation],
)
qadd = _EXACT.add
qsub = _EXACT.subtract


def rescale(quantities: list[Decimal], total: Decimal, target: Decimal) -> list[Decimal]:
    """Re-denominate pieces: ``quantities`` (positive, summing exactly to
    ``total``) become quantities summing **exactly** to ``target``.

    Each piece but the last is ``q * target / total`` rounded *down* (exactly,
    in integer arithmetic) to ``10**min(RESCALE_EXPONENT, exponent of
    target)``; the last piece takes the remainder.  Rounding down keeps every
    earlier share at or below its exact value, so the remainder is at least the
    last piece's exact share: always > 0.  An earlier piece may come out 0 (a
    share below the quantum); the caller must carry its cost to another piece.
    """
    if len(quantities) == 1:
        return [target]
    exponent = min(RESCALE_EXPONENT, int(target.as_tuple().exponent))  # finite: an int
    scale = -exponent
    divide_int = _EXACT.divide_int
    out: list[Decimal] = []
    used = ZERO
    for q in quantities[:-1]:
        units = divide_int(_EXACT.multiply(q, target).scaleb(scale, _EXACT), total)
        part = units.scaleb(exponent, _EXACT)
        out.append(part)
        used = qadd(used, part)
    out.append(qsub(target, used))
    return out


def plain(value: Decimal) -> str:
    """A quantity as plain text without trailing zeros: ``1.50`` -> ``"1.5"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
