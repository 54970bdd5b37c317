"""Portfolios, positions, transactions and their legs, overrides, daily snapshots.

Transactions are the source of truth: holdings, position amounts, cost basis,
rewards and tax are derived from their legs. A leg is one signed movement of
one asset (``+`` received, ``-`` sent) with its absolute fiat value at that
moment. An LP deposit is ``-ETH -USDC +LP#<position id>``; the synthetic
``LP#<id>`` asset is the position's receipt (1 unit per unit of fiat
deposited), so the tax engine can carry the basis through the position.

Units: token quantities are ``Decimal(48, 18)`` (18 decimals, 30 integer
digits); fiat is ``Decimal(38, 18)`` in the leg's own ``fiat_currency`` (what the
user entered it in; USD for values looked up in the USD price history), converted
with the ECB's rates of the day only when shown or reported (``pools.fx``),
enough to sum 100k rows to the cent and to keep sub-cent values of tiny
rewards. Times are aware UTC datetimes.

Every write goes through ``portfolios.services``; reads through
``portfolios.selectors``. The database guards the invariants (constraints
below, and a composite foreign key that keeps a transaction's position inside
the transaction's portfolio - see migration 0002).
"""

from __future__ import annotations

import uuid
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper

from portfolios.ledger import (
    CATEGORY_KINDS,
    INCOME_TYPE_CHOICES,
    TX_CATEGORY_CHOICES,
    TX_KIND_CHOICES,
    TxKind,
    category_problem,
    lp_asset,
)

__all__ = [
    "FIAT",
    "HIDDEN_IN_POSITION_ERROR",
    "INCOME_TYPES",
    "TRANSACTION_KINDS",
    "QTY",
    "Leg",
    "Portfolio",
    "PortfolioSnapshot",
    "Position",
    "PositionAmountOverride",
    "Transaction",
]

class DecimalSpec(TypedDict):
    """Keyword arguments of a DecimalField, typed so the field stubs accept them."""

    max_digits: int
    decimal_places: int


QTY: DecimalSpec = {"max_digits": 48, "decimal_places": 18}
FIAT: DecimalSpec = {"max_digits": 38, "decimal_places": 18}
PRICE: DecimalSpec = {"max_digits": 38, "decimal_places": 18}
# The database checks list the ledger's values (portfolios.ledger), as plain strings.
TRANSACTION_KINDS = [value for value, _ in TX_KIND_CHOICES]
INCOME_TYPES = [value for value, _ in INCOME_TYPE_CHOICES]
TRANSACTION_SOURCES = ["manual", "import", "api", "chain"]
TRANSACTION_CATEGORIES = [value for value, _ in TX_CATEGORY_CHOICES]
HIDDEN_IN_POSITION_ERROR = (
    "A transaction of a position makes the position's figures and cannot be hidden; "
    "detach it from the position first."
)


class Portfolio(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios", db_index=False
    )  # covered by the (owner, lower(name)) unique index
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Latest valuation (portfolios.services.portfolio_revalue), denormalised for lists:
    # the dashboard computes live figures; lists and the API list read these.
    value = models.DecimalField(**FIAT, null=True, blank=True)
    deposited = models.DecimalField(**FIAT, null=True, blank=True)
    pnl = models.DecimalField(**FIAT, null=True, blank=True)
    income_ytd = models.DecimalField(**FIAT, null=True, blank=True)
    valued_at = models.DateTimeField(null=True, blank=True)
    # A new random value whenever what the portfolio's figures are made of changes (its
    # transactions, legs, positions, overrides, name), set by the write services inside their
    # database transaction (services.changes.portfolio_ledger_changed). Cached summaries are
    # keyed on it (selectors.summaries.portfolio_summary_now), so they go stale at the commit.
    ledger_version = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = [Lower("name"), "id"]
        constraints = [
            # Also the index of selectors.portfolio_list_for_user (owner = ?, ordered by name).
            models.UniqueConstraint(
                F("owner"),
                Lower("name"),
                name="portfolios_portfolio_owner_name_uniq",
                violation_error_message="You already have a portfolio with this name.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="portfolios_portfolio_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class Position(models.Model):
    class Kind(models.TextChoices):
        LP = "lp", "Liquidity pool"
        CONCENTRATED_LP = "concentrated_lp", "Concentrated liquidity (range)"
        STAKING = "staking", "Staking"
        LIQUID_STAKING = "liquid_staking", "Liquid staking"
        LENDING = "lending", "Lending"
        FARM = "farm", "Farm"

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="positions", db_index=False
    )  # covered by portfolios_position_list_idx
    # A position on a pool we list; PROTECT: pools are never deleted, only deactivated.
    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    label = models.CharField(max_length=200, blank=True, help_text="Your own name, required when no pool is chosen.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Concentrated liquidity only: price of token0 in token1 (e.g. USDC per ETH).
    range_lower = models.DecimalField(**PRICE, null=True, blank=True)
    range_upper = models.DecimalField(**PRICE, null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pool__isnull=False) | ~Q(label=""),
                name="portfolios_position_pool_or_label",
                violation_error_message="Choose a pool or give the position a label.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["lp", "concentrated_lp", "staking", "liquid_staking", "lending", "farm"]),
                name="portfolios_position_kind_valid",
            ),
            # NULL comparisons pass a CHECK, hence the explicit IS NOT NULL terms.
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="concentrated_lp",
                        range_lower__isnull=False,
                        range_upper__isnull=False,
                        range_lower__gt=0,
                        range_upper__gt=F("range_lower"),
                    )
                    | (~Q(kind="concentrated_lp") & Q(range_lower__isnull=True, range_upper__isnull=True))
                ),
                name="portfolios_position_range_valid",
                violation_error_message="A concentrated position needs a range with 0 < lower < upper; "
                "other positions have no range.",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="portfolios_position_closed_after_opened",
                violation_error_message="A position cannot close before it opened.",
            ),
            # Target of the composite foreign key Transaction(position_id, portfolio_id).
            models.UniqueConstraint(fields=["id", "portfolio"], name="portfolios_position_id_portfolio_uniq"),
        ]
        indexes = [
            # selectors.positions_for_portfolio / dashboard / API ?portfolio=: newest first.
            models.Index(F("portfolio"), F("opened_at").desc(), F("id").desc(), name="portfolios_position_list_idx"),
        ]

    def __str__(self) -> str:
        return self.label or (self.pool.symbol if self.pool is not None else f"Position {self.pk}")

    @property
    def lp_asset(self) -> str:
        """The synthetic receipt asset of this position in transaction legs."""
        return lp_asset(self.pk)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PositionAmountOverride(models.Model):
    """The user's own reading of the position's current token amounts (from their
    wallet), used instead of the AMM model's amounts for the value now."""

    position = models.ForeignKey(
        Position, on_delete=models.CASCADE, related_name="amount_overrides", db_index=False
    )  # covered by the (position, token) unique index
    token = models.ForeignKey("pools.Token", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY)
    as_of = models.DateTimeField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # Also the index of the overrides prefetch (position_id IN ...).
            models.UniqueConstraint(fields=["position", "token"], name="portfolios_override_position_token_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="portfolios_override_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.position_id}: {self.quantity} of token {self.token_id}"


class TransactionQuerySet(models.QuerySet["Transaction"]):
    def counted(self) -> TransactionQuerySet:
        """The transactions that count: every figure (holdings, valuations, income, analytics,
        alerts, tax) reads these; a hidden one is kept but counts nowhere."""
        return self.filter(hidden=False)


class LegQuerySet(models.QuerySet["Leg"]):
    def counted(self) -> LegQuerySet:
        """The legs of the transactions that count (see ``TransactionQuerySet.counted``)."""
        return self.filter(transaction__hidden=False)


class Transaction(models.Model):
    # Kinds, income types and categories are the ledger's (portfolios.ledger.TxKind, IncomeType, TxCategory).
    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        IMPORT = "import", "CSV import"
        API = "api", "API"
        CHAIN = "chain", "Synced from the chain"

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="transactions", db_index=False
    )  # covered by portfolios_txn_list_idx
    # The database also checks (position_id, portfolio_id) against Position(id, portfolio_id)
    # (composite FK, migration 0002), so a position of another portfolio cannot be attached.
    position = models.ForeignKey(
        Position, on_delete=models.CASCADE, null=True, blank=True, related_name="transactions", db_index=False
    )  # portfolios_txn_position_idx
    kind = models.CharField(max_length=20, choices=TX_KIND_CHOICES)
    income_type = models.CharField(max_length=20, choices=INCOME_TYPE_CHOICES, blank=True)
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    # Content hash (portfolios.csvformats.transaction_key) for idempotent imports; blank otherwise.
    dedupe_key = models.CharField(max_length=64, blank=True)
    # Synced transactions (source "chain"): the on-chain transaction hash and its page on the
    # chain's block explorer (blank when the chain has no explorer configured).
    external_ref = models.CharField(max_length=100, blank=True, default="", db_default="")
    external_url = models.URLField(max_length=300, blank=True, default="", db_default="")
    # The wallet address (lower-case) it happened in: tax lots per wallet (TaxSettings.lots_per_wallet_from).
    wallet_address = models.CharField(max_length=42, blank=True, default="", db_default="")
    # A transfer's category (a gift, a gift between spouses): the tax rules read it; blank otherwise.
    category = models.CharField(
        max_length=20, choices=TX_CATEGORY_CHOICES, blank=True, default="", db_default=""
    )
    # Kept (a resync never brings it back) but counted nowhere: spam airdrops and the like.
    hidden = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TRANSACTION_KINDS), name="portfolios_txn_kind_valid"),
            models.CheckConstraint(condition=Q(source__in=TRANSACTION_SOURCES), name="portfolios_txn_source_valid"),
            models.CheckConstraint(
                condition=(
                    Q(kind=TxKind.REWARD.value, income_type__in=INCOME_TYPES)
                    | (~Q(kind=TxKind.REWARD.value) & Q(income_type=""))
                ),
                name="portfolios_txn_income_type_iff_reward",
                violation_error_message="A reward needs an income type; other transactions have none.",
            ),
            models.CheckConstraint(
                condition=Q(category="")
                | Q(category__in=TRANSACTION_CATEGORIES, kind__in=sorted(k.value for k in CATEGORY_KINDS)),
                name="portfolios_txn_category_transfer",
                violation_error_message="Only a transfer out or a transfer in can be categorised (as a gift).",
            ),
            models.CheckConstraint(
                condition=Q(hidden=False) | Q(position__isnull=True),
                name="portfolios_txn_hidden_not_in_position",
                violation_error_message=HIDDEN_IN_POSITION_ERROR,
            ),
            # Re-importing a file finds these and skips them (also the lookup index).
            models.UniqueConstraint(
                fields=["portfolio", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="portfolios_txn_dedupe_uniq",
                violation_error_message="This transaction was already imported.",
            ),
        ]
        indexes = [
            # API /transactions/?portfolio=, web transaction list, CSV export, analytics loads:
            # a portfolio's transactions newest first.
            models.Index(F("portfolio"), F("occurred_at").desc(), F("id").desc(), name="portfolios_txn_list_idx"),
            # Position page and analytics: a position's transactions in time order (and ?position=).
            models.Index(
                F("position"), F("occurred_at"), name="portfolios_txn_position_idx", condition=Q(position__isnull=False)
            ),
            # Income this year (selectors.portfolio_summary) and ?kind=reward: rewards by date.
            models.Index(
                F("portfolio"),
                F("occurred_at"),
                name="portfolios_txn_rewards_idx",
                condition=Q(kind=TxKind.REWARD.value),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

    @property
    def is_synced(self) -> bool:
        """Read from a chain by wallet sync: its amounts and date are the chain's, not editable."""
        return self.source == self.Source.CHAIN

    def clean(self) -> None:
        # Mirrors the composite foreign key (PostgreSQL) for every backend, with a message.
        if self.position is not None and self.portfolio_id is not None:
            if self.position.portfolio_id != self.portfolio_id:
                raise ValidationError({"position": "This position belongs to another portfolio."})
        # The two checks below mirror the database's, naming the field.
        problem = category_problem(self.kind, self.category)
        if problem is not None:
            raise ValidationError({"category": problem})
        if self.hidden and self.position_id is not None:
            raise ValidationError({"hidden": HIDDEN_IN_POSITION_ERROR})


class Leg(models.Model):
    class ValueSource(models.TextChoices):
        ENTERED = "entered", "Entered"
        LOOKED_UP = "looked_up", "From price history"
        MISSING = "missing", "Missing"
        PEG = "peg", "Stablecoin peg (no price that day)"

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="legs")
    # Tax-lot key: upper-case symbol ("ETH", "USDC", "USD") or a synthetic "LP#<position id>".
    asset = models.CharField(max_length=80)
    # For pricing and valuation; null for fiat and synthetic assets (and unknown imported tokens).
    token = models.ForeignKey("pools.Token", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(**QTY)  # signed: + received, - sent
    fiat_value = models.DecimalField(**FIAT, null=True, blank=True)  # absolute value at that moment
    # The currency fiat_value is in, kept as entered (ISO 4217, an ECB reference currency or EUR).
    fiat_currency = models.CharField(max_length=3, default="USD", db_default="USD")
    value_source = models.CharField(max_length=10, choices=ValueSource.choices, default=ValueSource.ENTERED)
    is_fee = models.BooleanField(default=False)

    objects = LegQuerySet.as_manager()

    class Meta:
        ordering = ["transaction", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(quantity=0),
                name="portfolios_leg_quantity_not_zero",
                violation_error_message="A leg's quantity cannot be zero.",
            ),
            models.CheckConstraint(
                condition=Q(fiat_value__gte=0) | Q(fiat_value__isnull=True),
                name="portfolios_leg_fiat_not_negative",
                violation_error_message="A fiat value is an absolute amount, never negative.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(value_source="missing", fiat_value__isnull=True)
                    | Q(value_source__in=["entered", "looked_up", "peg"], fiat_value__isnull=False)
                ),
                name="portfolios_leg_value_source_consistent",
                violation_error_message="A leg's value is missing exactly when it has no fiat value.",
            ),
            models.CheckConstraint(
                condition=~Q(asset="") & Q(asset=Upper("asset")),
                name="portfolios_leg_asset_upper",
                violation_error_message="The asset is an upper-case symbol such as ETH.",
            ),
            models.CheckConstraint(
                condition=Q(fiat_currency__regex=r"^[A-Z]{3}$"),
                name="portfolios_leg_fiat_currency_code",
                violation_error_message="A fiat currency is a three-letter upper-case ISO code such as GBP.",
            ),
            models.CheckConstraint(
                condition=Q(is_fee=False) | Q(quantity__lt=0),
                name="portfolios_leg_fee_is_outgoing",
                violation_error_message="A fee leg is an amount paid: its quantity is negative.",
            ),
        ]
        # The FK index on transaction serves the legs prefetch; the one on token serves PROTECT.

    def __str__(self) -> str:
        return f"{self.quantity:+f} {self.asset}"


class PortfolioSnapshot(models.Model):
    """A portfolio's value at the close of one UTC day (the value history chart)."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="snapshots", db_index=False
    )  # covered by the (portfolio, day) unique index
    day = models.DateField()
    value = models.DecimalField(**FIAT)
    deposited = models.DecimalField(**FIAT)
    pnl = models.DecimalField(**FIAT)
    income_ytd = models.DecimalField(**FIAT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["portfolio", "day"]
        constraints = [
            # Also the index of selectors.portfolio_value_history and of the snapshot upsert.
            models.UniqueConstraint(fields=["portfolio", "day"], name="portfolios_snapshot_portfolio_day_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.day}: {self.value}"
