"""Errors of the portfolio services: their message is meant for the user (the API
and the web forms show it as it is); ``field`` names the input at fault."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from pools.models import Token


class PortfolioError(Exception):
    """A domain error whose message is meant for the user. ``field`` names the input at fault."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class MissingPrice(PortfolioError):
    """No price is known for ``token`` at ``when``: the user can enter the value instead."""

    field = "fiat_value"

    def __init__(self, token: Token | str, when: datetime) -> None:
        self.token = token
        self.when = when
        symbol = token.symbol if isinstance(token, Token) else str(token)
        super().__init__(
            f"No {symbol} price is known for {when:%Y-%m-%d}. Enter the value of this {symbol} amount "
            "(in USD at that moment) and try again."
        )


class InsufficientPosition(PortfolioError):
    """A withdrawal larger than what the position holds."""

    field = "withdrawals"


class PositionClosed(PortfolioError):
    field = "position"


#: What a service raises on bad input: views and the API turn these into messages.
SERVICE_ERRORS = (ValidationError, PortfolioError)
