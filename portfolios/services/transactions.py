"""Writes of loose and position transactions: record any transaction with signed
legs, change one (its legs replaced as a whole), delete one. Each enqueues the
portfolio's revaluation once the database transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction

from portfolios.ledger import TxKind
from portfolios.models import Portfolio, Position, Transaction
from portfolios.services.errors import PortfolioError
from portfolios.services.legs import (
    LegInput,
    ResolvedLeg,
    check_shape,
    check_when,
    resolve_legs,
    save_legs,
    save_transaction,
)
from portfolios.tasks import revalue_portfolio as revalue_portfolio_task


def transaction_record(
    *,
    portfolio: Portfolio,
    kind: str,
    legs: Sequence[LegInput],
    occurred_at: datetime,
    position: Position | None = None,
    income_type: str | None = None,
    description: str = "",
    source: str = "manual",
    dedupe_key: str = "",
    allow_missing_values: bool = False,
) -> Transaction:
    """Record any transaction with signed legs (``+`` received, ``-`` sent).

    ``allow_missing_values`` (imports) keeps a leg without a price as ``missing``
    instead of raising ``MissingPrice``.
    """
    check_when(occurred_at, "occurred_at")
    if position is not None and position.portfolio_id != portfolio.pk:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    resolved = resolve_legs(
        legs, when=occurred_at, field="legs", portfolio=portfolio, allow_missing=allow_missing_values
    )
    check_shape(kind, resolved, income_type or "")
    with db_transaction.atomic():
        try:
            txn = save_transaction(
                portfolio=portfolio,
                kind=kind,
                legs=resolved,
                occurred_at=occurred_at,
                position=position,
                income_type=income_type or "",
                description=description,
                source=source,
                dedupe_key=dedupe_key,
            )
        except IntegrityError as exc:  # a concurrent duplicate import or a racing position delete
            raise PortfolioError(f"The transaction could not be saved: {exc.__cause__ or exc}") from exc
        revalue_portfolio_task.delay_on_commit(portfolio_id=portfolio.pk)
    return txn


TRANSACTION_EDITABLE = frozenset({"kind", "legs", "occurred_at", "income_type", "description", "position"})


def transaction_update(*, transaction: Transaction, **fields: Any) -> Transaction:  # noqa: A002 - the entity
    """Change a transaction; ``legs`` (a list of ``LegInput``) replaces all its legs."""
    unknown = set(fields) - TRANSACTION_EDITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    occurred_at = fields.get("occurred_at", transaction.occurred_at)
    check_when(occurred_at, "occurred_at")
    kind = fields.get("kind", transaction.kind)
    income_type = fields.get("income_type", transaction.income_type) or ""
    if kind != TxKind.REWARD and "income_type" not in fields:
        income_type = ""
    position = fields.get("position", transaction.position)
    if position is not None and position.portfolio_id != transaction.portfolio_id:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    if "legs" in fields:
        resolved = resolve_legs(fields["legs"], when=occurred_at, field="legs", portfolio=transaction.portfolio)
    else:
        resolved = [ResolvedLeg.of(leg) for leg in transaction.legs.select_related("token").order_by("id")]
    check_shape(kind, resolved, income_type)
    with db_transaction.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        locked.kind = kind
        locked.income_type = income_type
        locked.occurred_at = occurred_at
        locked.position = position
        if "description" in fields:
            locked.description = fields["description"] or ""
        locked.full_clean()
        locked.save()
        if "legs" in fields:
            locked.legs.all().delete()
            save_legs(locked, resolved)
        revalue_portfolio_task.delay_on_commit(portfolio_id=locked.portfolio_id)
    return locked


def transaction_delete(*, transaction: Transaction) -> None:  # noqa: A002
    with db_transaction.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        portfolio_id = locked.portfolio_id
        locked.delete()
        revalue_portfolio_task.delay_on_commit(portfolio_id=portfolio_id)
