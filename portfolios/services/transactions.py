"""Writes of loose and position transactions: record any transaction with signed
legs, change one (its legs replaced as a whole), delete one. Each enqueues the
portfolio's revaluation once the database transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction

from portfolios.ledger import TxKind, category_problem
from portfolios.models import HIDDEN_IN_POSITION_ERROR, Leg, Portfolio, Position, Transaction
from portfolios.services.changes import portfolio_ledger_changed
from portfolios.services.errors import PortfolioError
from portfolios.services.legs import (
    LegInput,
    ResolvedLeg,
    check_shape,
    check_when,
    resolve_legs,
    save_legs,
    save_transaction,
    tokens_track,
)


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
    category: str = "",
    hidden: bool = False,
) -> Transaction:
    """Record any transaction with signed legs (``+`` received, ``-`` sent).

    ``allow_missing_values`` (imports) keeps a leg without a price as ``missing``
    instead of raising ``MissingPrice``. ``category`` (a transfer's, e.g. a gift) and
    ``hidden`` (kept, counted nowhere) follow :func:`check_category_hidden`.
    """
    check_when(occurred_at, "occurred_at")
    if position is not None and position.portfolio_id != portfolio.pk:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    check_category_hidden(kind=kind, category=category or "", hidden=hidden, position=position)
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
                category=category or "",
                hidden=hidden,
            )
        except IntegrityError as exc:  # a concurrent duplicate import or a racing position delete
            raise PortfolioError(f"The transaction could not be saved: {exc.__cause__ or exc}") from exc
        portfolio_ledger_changed(portfolio_id=portfolio.pk)
    return txn


@dataclass
class TransactionDraft:
    """A transaction a sync read from a chain, ready to be saved with its legs."""

    kind: str
    legs: list[ResolvedLeg]
    occurred_at: datetime
    position: Position | None = None
    income_type: str = ""
    description: str = ""
    external_ref: str = ""
    external_url: str = ""
    wallet_address: str = ""
    saved: Transaction | None = field(default=None, repr=False)


def transactions_record_synced(
    *, portfolio: Portfolio, drafts: Sequence[TransactionDraft], revalue: bool = True
) -> list[Transaction]:
    """Save many synced transactions (source ``chain``) at once, in the caller's database
    transaction: the same kind rules as :func:`transaction_record`, bulk inserts (a wallet's
    first sync writes thousands). Legs come resolved: the sync values them itself, and keeps
    an unpriced token's value ``missing`` (unknown, never 0). ``revalue=False``: the caller
    enqueues the portfolio's revaluation once, after its last chunk."""
    for draft in drafts:
        check_shape(draft.kind, draft.legs, draft.income_type)
        if draft.position is not None and draft.position.portfolio_id != portfolio.pk:
            raise ValidationError({"position": "This position belongs to another portfolio."})
    txns = [
        Transaction(
            portfolio=portfolio,
            position=d.position,
            kind=d.kind,
            income_type=d.income_type,
            occurred_at=d.occurred_at,
            description=d.description[:500],
            source=Transaction.Source.CHAIN,
            external_ref=d.external_ref,
            external_url=d.external_url,
            wallet_address=d.wallet_address,
        )
        for d in drafts
    ]
    Transaction.objects.bulk_create(txns)
    Leg.objects.bulk_create([leg.leg(txn) for d, txn in zip(drafts, txns, strict=True) for leg in d.legs])
    for d, txn in zip(drafts, txns, strict=True):
        d.saved = txn
    tokens_track(leg.token.pk for d in drafts for leg in d.legs if leg.token is not None)
    if txns:
        portfolio_ledger_changed(portfolio_id=portfolio.pk, revalue=revalue)
    return txns


TRANSACTION_EDITABLE = frozenset(
    {"kind", "legs", "occurred_at", "income_type", "description", "position", "category", "hidden"}
)
#: A synced transaction (source "chain") states what the chain did: it may be annotated,
#: categorised (a transfer out as a gift, ...) or hidden (a spam airdrop), but its amounts,
#: date and kind stay the chain's.
SYNCED_EDITABLE = frozenset({"description", "income_type", "category", "hidden"})


def check_category_hidden(*, kind: str, category: str, hidden: bool, position: Position | None) -> None:
    """A category only on a transfer (``portfolios.ledger.CATEGORY_KINDS``); a transaction
    of a position cannot be hidden (it makes the position's figures). The database checks both."""
    problems = {}
    problem = category_problem(kind, category)
    if problem is not None:
        problems["category"] = problem
    if hidden and position is not None:
        problems["hidden"] = HIDDEN_IN_POSITION_ERROR
    if problems:
        raise ValidationError(problems)


def transaction_update(*, transaction: Transaction, **fields: Any) -> Transaction:  # noqa: A002 - the entity
    """Change a transaction; ``legs`` (a list of ``LegInput``) replaces all its legs."""
    unknown = set(fields) - TRANSACTION_EDITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if transaction.is_synced:
        _check_synced_edit(transaction, fields)
    occurred_at = fields.get("occurred_at", transaction.occurred_at)
    check_when(occurred_at, "occurred_at")
    kind = fields.get("kind", transaction.kind)
    income_type = fields.get("income_type", transaction.income_type) or ""
    if kind != TxKind.REWARD and "income_type" not in fields:
        income_type = ""
    position = fields.get("position", transaction.position)
    if position is not None and position.portfolio_id != transaction.portfolio_id:
        raise ValidationError({"position": "This position belongs to another portfolio."})
    category = fields.get("category", transaction.category) or ""
    hidden = bool(fields.get("hidden", transaction.hidden))
    check_category_hidden(kind=kind, category=category, hidden=hidden, position=position)
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
        locked.category = category
        locked.hidden = hidden
        if "description" in fields:
            locked.description = fields["description"] or ""
        locked.full_clean()
        locked.save()
        if "legs" in fields:
            locked.legs.all().delete()
            save_legs(locked, resolved)
        portfolio_ledger_changed(portfolio_id=locked.portfolio_id)
    return locked


def _check_synced_edit(txn: Transaction, fields: dict[str, Any]) -> None:
    """Refuse changes that would contradict the chain (unchanged values are fine: forms resend them)."""
    problems = {}
    for name, value in fields.items():
        if name in SYNCED_EDITABLE:
            continue
        if name == "legs":
            problems[name] = "The amounts of a synced transaction are the chain's and cannot be changed."
        elif name == "position":
            if (value.pk if value is not None else None) != txn.position_id:
                problems[name] = "A synced transaction stays with the position the chain gives it."
        elif value != getattr(txn, name):
            problems[name] = "This is read from the chain and cannot be changed; add a note instead."
    if problems:
        raise ValidationError(problems)


def transaction_delete(*, transaction: Transaction) -> None:  # noqa: A002
    if transaction.is_synced:
        raise PortfolioError(
            "A synced transaction happened on the chain and cannot be deleted; add a note to it instead "
            "(removing the wallet removes what it synced)."
        )
    with db_transaction.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        portfolio_id = locked.portfolio_id
        locked.delete()
        portfolio_ledger_changed(portfolio_id=portfolio_id)
