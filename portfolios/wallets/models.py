"""Chains, wallets, sync checkpoints and runs, the chain events a sync stored.

* :class:`Chain` - one EVM chain as configured (admin or ``manage.py chains_load``);
  :meth:`Chain.config` turns it into the pure layer's ``ChainConfig`` with the
  environment's RPC URLs and explorer key applied (secrets stay out of the DB).
* :class:`Wallet` - an address in a portfolio, the chains to scan (none = all).
* :class:`SyncCursor` - per wallet and chain: the last *finalised* block read, and
  the state the next incremental read needs (v3 positions held, principal owed,
  net transfers per token for reconciliation, vault/rebasing measurements).
* :class:`WalletSync` - one run (progress, status, heartbeat for the reaper).
* :class:`ChainEvent` - a log the sync turned into a record: stored once per wallet
  (unique wallet + chain + tx hash + log index), linked to the transaction it produced.
* :class:`SyncedPosition` - the portfolio position a v2 pair or v3 NFT maps to.
* :class:`Reconciliation` - per sync, chain and token: net synced transfers vs ``balanceOf``.

Raw token amounts are integers up to 2**256: ``Decimal(78, 0)`` columns.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from config.heartbeat import HeartbeatFields
from portfolios.models import Portfolio, Position, Transaction

RAW: dict[str, Any] = {"max_digits": 78, "decimal_places": 0}


class Chain(models.Model):
    chain_id = models.PositiveBigIntegerField(unique=True)
    slug = models.SlugField(max_length=40, unique=True, help_text="Also the pools app's chain slug for token prices.")
    name = models.CharField(max_length=64)
    native_symbol = models.CharField(max_length=16)
    native_price_id = models.CharField(max_length=160)
    rpc_urls = models.JSONField(
        default=list, help_text="Public endpoints; WALLETS_RPC_URLS_<SLUG> in the environment replaces them."
    )
    explorer_api = models.URLField(blank=True, help_text="Etherscan v2 compatible API base (key from the env).")
    explorer_url = models.URLField(blank=True, help_text="Block explorer for links: <url>/tx/<hash>.")
    max_log_range = models.PositiveIntegerField(default=10_000)
    confirmations = models.PositiveIntegerField(default=12, help_text="Reorg margin: newer blocks are re-read.")
    batch_size = models.PositiveIntegerField(default=50)
    wrapped_native = models.CharField(max_length=42, blank=True)
    uniswap_v2 = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "factory": "0x..."}]')
    uniswap_v3 = models.JSONField(
        default=list, blank=True, help_text='[{"name": ..., "factory": "0x...", "position_manager": "0x..."}]'
    )
    tokens = models.JSONField(default=dict, blank=True, help_text='{"0x...": {"symbol": ..., "price_id": ...}}')
    rebasing_tokens = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_document(self) -> dict[str, Any]:
        """This chain in the chains file format (``docs/wallets.md``), env overrides not applied."""
        doc: dict[str, Any] = {
            "chain_id": self.chain_id,
            "slug": self.slug,
            "name": self.name,
            "native": {"symbol": self.native_symbol, "price_id": self.native_price_id},
            "rpc_urls": list(self.rpc_urls),
            "max_log_range": self.max_log_range,
            "confirmations": self.confirmations,
            "batch_size": self.batch_size,
            "uniswap_v2": list(self.uniswap_v2),
            "uniswap_v3": list(self.uniswap_v3),
            "tokens": dict(self.tokens),
            "rebasing_tokens": list(self.rebasing_tokens),
        }
        explorer = {k: v for k, v in (("api", self.explorer_api), ("url", self.explorer_url)) if v}
        if explorer:
            doc["explorer"] = explorer
        if self.wrapped_native:
            doc["wrapped_native"] = self.wrapped_native
        return doc


class Wallet(models.Model):
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="wallets", db_index=False)
    # Lower-case; shown checksummed (EIP-55).
    address = models.CharField(max_length=42)
    label = models.CharField(max_length=100, blank=True)
    chains = models.ManyToManyField(Chain, blank=True, related_name="+", help_text="None chosen: every active chain.")
    active = models.BooleanField(default=True, help_text="Re-synced by the beat schedule.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["portfolio", "id"]
        constraints = [
            # Also the index of the portfolio's wallet list and of "is this address one of mine".
            models.UniqueConstraint(
                fields=["portfolio", "address"],
                name="wallets_wallet_portfolio_address_uniq",
                violation_error_message="This wallet is already in the portfolio.",
            ),
            models.CheckConstraint(condition=Q(address__regex=r"^0x[0-9a-f]{40}$"), name="wallets_wallet_address_hex"),
        ]

    def __str__(self) -> str:
        return self.label or self.checksum_address

    @property
    def checksum_address(self) -> str:
        from portfolios.wallets.checksum import to_checksum

        return to_checksum(self.address)


class SyncCursor(models.Model):
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="cursors", db_index=False)
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    last_block = models.BigIntegerField(default=-1, help_text="Last finalised block read (-1: none yet).")
    last_block_hash = models.CharField(max_length=66, blank=True)
    last_block_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Carried between incremental reads: {"owned": [[manager, id]...], "owed": {"manager:id": [o0, o1]},
    # "flows": {token: net raw}, "growth": {token: last measured value}}.
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "chain"], name="wallets_cursor_wallet_chain_uniq")]

    def __str__(self) -> str:
        return f"{self.wallet_id}@{self.chain_id}: block {self.last_block}"


class WalletSync(HeartbeatFields):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="syncs", db_index=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    chains_total = models.PositiveIntegerField(default=0)
    chains_done = models.PositiveIntegerField(default=0)
    blocks_total = models.BigIntegerField(default=0)
    blocks_done = models.BigIntegerField(default=0)
    records_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The wallet page's latest run and "is a run already queued/running?".
            models.Index(fields=["wallet", "-created_at"], name="wallets_sync_wallet_idx"),
            # The reaper: running rows.
            models.Index(fields=["heartbeat_at"], name="wallets_sync_running_idx", condition=Q(status="running")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="wallets_sync_status_valid"
            ),
        ]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class SyncedPosition(models.Model):
    """A portfolio position read from the chain: a v2 pair's LP tokens or a v3 NFT."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+", db_index=False)
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120, help_text='"v2:<pair>" or "v3:<manager>:<token id>"')
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="positions", help_text="Holder now.")
    position = models.OneToOneField(Position, on_delete=models.CASCADE, related_name="synced")
    token0 = models.CharField(max_length=42, blank=True)
    token1 = models.CharField(max_length=42, blank=True)
    # For showing raw amounts in token units (None: the token did not answer decimals()).
    symbol0 = models.CharField(max_length=64, blank=True)
    symbol1 = models.CharField(max_length=64, blank=True)
    decimals0 = models.PositiveSmallIntegerField(null=True, blank=True)
    decimals1 = models.PositiveSmallIntegerField(null=True, blank=True)
    liquidity = models.DecimalField(**RAW, default=0)
    tick_lower = models.IntegerField(null=True, blank=True)
    tick_upper = models.IntegerField(null=True, blank=True)
    fee_tier = models.PositiveIntegerField(null=True, blank=True)
    fees_collected0 = models.DecimalField(**RAW, default=0)
    fees_collected1 = models.DecimalField(**RAW, default=0)
    uncollected0 = models.DecimalField(**RAW, null=True, blank=True)
    uncollected1 = models.DecimalField(**RAW, null=True, blank=True)
    state_block = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # A position moving between the user's wallets stays one position.
            models.UniqueConstraint(fields=["portfolio", "chain", "key"], name="wallets_position_key_uniq"),
        ]

    def __str__(self) -> str:
        return self.key


class ChainEvent(models.Model):
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="events", db_index=False)
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    tx_hash = models.CharField(max_length=66)
    log_index = models.IntegerField(help_text="-1 for records not tied to one log (gas, growth).")
    block_number = models.BigIntegerField()
    kind = models.CharField(max_length=30)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="chain_events"
    )

    class Meta:
        constraints = [
            # Idempotency: a re-read (or a resumed, killed sync) finds the event and skips it.
            models.UniqueConstraint(fields=["wallet", "chain", "tx_hash", "log_index"], name="wallets_event_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.tx_hash}:{self.log_index}"


class Reconciliation(models.Model):
    sync = models.ForeignKey(WalletSync, on_delete=models.CASCADE, related_name="reconciliations")
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=42)
    symbol = models.CharField(max_length=64, blank=True)
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)
    block = models.BigIntegerField()
    expected = models.DecimalField(**RAW, help_text="Net synced transfers (raw units).")
    on_chain = models.DecimalField(**RAW, null=True, help_text="balanceOf at the block (null: the call failed).")

    class Meta:
        ordering = ["sync", "chain", "token"]
        constraints = [
            models.UniqueConstraint(fields=["sync", "chain", "token"], name="wallets_reconciliation_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol or self.token} at {self.block}"

    @property
    def difference(self) -> Any:
        return None if self.on_chain is None else self.on_chain - self.expected

    @property
    def ok(self) -> bool:
        return self.on_chain is not None and self.on_chain == self.expected
