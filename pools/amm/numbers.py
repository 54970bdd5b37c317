"""What every AMM model shares: the 60-digit working context, the error types, the model
names and argument coercion (floats and bools refused, so no binary rounding gets in)."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Literal

#: Working context for every computation in this package (60 significant digits).
CTX = Context(prec=60)

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)

MODELS = ("constant_product", "weighted", "concentrated", "stableswap")
Model = Literal["constant_product", "weighted", "concentrated", "stableswap"]
Number = Decimal | int | str


class InvalidParameter(ValueError):
    """An input parameter is invalid. ``field`` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConvergenceError(ArithmeticError):
    """An iterative solver did not reach its tolerance within the iteration budget."""


def dec_arg(value: object, field: str) -> Decimal:
    """Coerce ``value`` to a finite Decimal; floats and bools are refused (no binary rounding)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidParameter(field, "must be a Decimal, int or numeric string, not float/bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise InvalidParameter(field, f"not a number: {value!r}") from None
    else:
        raise InvalidParameter(field, f"must be a Decimal, int or numeric string, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidParameter(field, "must be finite")
    return result


def positive_arg(value: object, field: str) -> Decimal:
    result = dec_arg(value, field)
    if result <= 0:
        raise InvalidParameter(field, "must be greater than 0")
    return result


def non_negative_arg(value: object, field: str) -> Decimal:
    result = dec_arg(value, field)
    if result < 0:
        raise InvalidParameter(field, "must not be negative")
    return result


def require_arg(value: object, field: str, model: str) -> None:
    if value is None:
        raise InvalidParameter(field, f"required for the {model} model")


def int_arg(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(field, "must be an int")
    return value
