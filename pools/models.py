"""Chains, protocols, tokens, pools, their daily history, prices, FX rates and refresh runs.

Units: APYs are percent per year (``5`` = 5 %/year), money is USD. Every
amount is a ``DecimalField`` (never float):

* TVL / volume: 20 digits, 2 decimals (up to $10^18 with cents; the sources
  cap TVL at $5·10^10);
* APY and other percentages: 22 digits, 10 decimals (the sources cap APY at
  10^6 %);
* prices: 38 digits, 18 decimals (18+ significant digits for tiny-priced
  tokens, 20 integer digits for anything else).

Writes go through ``pools.services``; reads through ``pools.selectors``.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.db.models import F, OrderBy, Q
from django.db.models.functions import Lower
from django.urls import reverse

from config.heartbeat import HeartbeatFields
from pools.fx import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS
from pools.naming import pool_display_name, pool_label


class DecimalSpec(TypedDict):
    """Keyword arguments of a DecimalField, typed so the field stubs accept them."""

    max_digits: int
    decimal_places: int


TVL: DecimalSpec = {"max_digits": 20, "decimal_places": 2}
PCT: DecimalSpec = {"max_digits": 22, "decimal_places": 10}
PRICE: DecimalSpec = {"max_digits": 38, "decimal_places": 18}
ACTIVE = Q(is_active=True)
POOL_KINDS = ["amm", "concentrated", "weighted", "stableswap", "lending", "staking", "liquid_staking",
              "farm", "vault", "unknown"]


class PortableIndex(models.Index):
    """An index whose NULLS FIRST/LAST modifiers are kept on PostgreSQL and dropped
    elsewhere: SQLite cannot put them in CREATE INDEX (and its DESC already sorts
    NULLs last). Same name and columns on both, so one migration serves both."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql" and self.expressions:
            plain = self.clone()
            plain.expressions = tuple(
                OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e
                for e in self.expressions
            )
            return models.Index.create_sql(plain, model, schema_editor, using, **kwargs)
        return super().create_sql(model, schema_editor, using, **kwargs)


class Chain(models.Model):
    slug = models.SlugField(max_length=64, unique=True)  # "ethereum", "op_bnb"
    name = models.CharField(max_length=64)  # as DeFiLlama spells it: "Ethereum"
    # Chain prefix of DeFiLlama coins ids ("ethereum", "avax", "bsc"...); blank = unknown.
    coins_prefix = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Protocol(models.Model):
    """A DeFi project (DeFiLlama ``project`` slug). Facts below are edited by staff
    in the admin and feed the risk score (audits, launch date)."""

    class Category(models.TextChoices):
        DEX = "dex", "DEX"
        LENDING = "lending", "Lending"
        LIQUID_STAKING = "liquid_staking", "Liquid staking"
        STAKING = "staking", "Staking"
        YIELD = "yield", "Yield aggregator"
        CDP = "cdp", "CDP / stablecoin"
        OTHER = "other", "Other"

    slug = models.CharField(max_length=100, unique=True)  # "uniswap-v3", "ether.fi-stake"
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    url = models.URLField(blank=True, help_text="Official website.")
    # None = unknown (the risk score counts unknown as risky); 0 = known to be unaudited.
    audit_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Number of published security audits; leave empty if unknown."
    )
    audit_links = models.JSONField(default=list, blank=True, help_text="Links to the audit reports.")
    last_audit_date = models.DateField(null=True, blank=True)
    launch_date = models.DateField(null=True, blank=True, help_text="When the protocol went live on mainnet.")
    facts_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who set the facts: "" (nobody yet), "bundled" (pools/data/protocol_facts.json, loaded by
    # services.facts; reloaded when the file changes) or "staff" (an admin edit: never overwritten).
    facts_source = models.CharField(max_length=10, blank=True, editable=False)
    facts_references = models.JSONField(default=list, blank=True,
                                        help_text="Where the facts come from (links), one per line.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(facts_source__in=["", "bundled", "staff"]),
                                   name="pools_protocol_facts_source_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class ProtocolAudit(models.Model):
    """One published security audit of a protocol (staff-edited; seeded from the bundled facts)."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="audits")
    auditor = models.CharField(max_length=100)
    date = models.DateField(null=True, blank=True, help_text="Date of the report; empty if unknown.")
    url = models.URLField(max_length=500, blank=True, help_text="Link to the report.")
    scope = models.CharField(max_length=200, blank=True, help_text="What was audited, e.g. v3-core.")

    class Meta:
        ordering = ["protocol", "-date", "auditor"]

    def __str__(self) -> str:
        return f"{self.auditor} {self.date or ''}".strip()


class Token(models.Model):
    """A token on one chain. ``price_id`` is a DeFiLlama coins id
    (``ethereum:0x…`` or ``coingecko:ethereum``); ``price_symbol`` names the
    series in the bundled daily price file (``ETH`` for WETH)."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="tokens")
    # EVM addresses are stored lower-case (checksummed and plain forms are one token).
    address = models.CharField(max_length=100)
    symbol = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=100, blank=True)
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)
    is_stablecoin = models.BooleanField(default=False)
    price_id = models.CharField(max_length=160, blank=True)
    price_symbol = models.CharField(max_length=32, blank=True)
    # "In use": prices are refreshed for tracked tokens. Set by
    # pools.services.token_set_tracked (the portfolios app calls it for held
    # tokens) so pools never has to import portfolios.
    is_tracked = models.BooleanField(default=False)
    # Latest known price (denormalised from the newest quote; TokenPrice keeps the history).
    last_price_usd = models.DecimalField(**PRICE, null=True, blank=True)
    last_price_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["symbol", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="pools_token_chain_address_uniq"),
            models.CheckConstraint(condition=Q(last_price_usd__gte=0) | Q(last_price_usd__isnull=True),
                                   name="pools_token_price_not_negative"),
        ]
        indexes = [
            # tokens_in_use() and refresh_prices: tracked tokens with a price id.
            models.Index(fields=["price_id"], name="pools_token_tracked_idx", condition=Q(is_tracked=True)),
            # API /tokens/?symbol= and portfolio token lookup by symbol (case-insensitive).
            models.Index(Lower("symbol"), name="pools_token_symbol_lower_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol or self.address[:10]} ({self.chain.name})"


class Pool(models.Model):
    class Kind(models.TextChoices):
        AMM = "amm", "Constant-product AMM"
        CONCENTRATED = "concentrated", "Concentrated liquidity"
        WEIGHTED = "weighted", "Weighted pool"
        STABLESWAP = "stableswap", "Stableswap"
        LENDING = "lending", "Lending"
        STAKING = "staking", "Staking"
        LIQUID_STAKING = "liquid_staking", "Liquid staking"
        FARM = "farm", "Farm"
        VAULT = "vault", "Vault"
        UNKNOWN = "unknown", "Unknown"

    class Exposure(models.TextChoices):
        SINGLE = "single", "Single asset"
        MULTI = "multi", "Multiple assets"

    # DeFiLlama pool uuid; unique through Meta.constraints (a UniqueConstraint, not
    # unique=True, so PostgreSQL gets no extra varchar_pattern_ops index we never use).
    external_id = models.CharField(max_length=200)
    # Indexed by pools_pool_chain_tvl_idx for listings; deleting a chain (PROTECT) may scan.
    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="pools", db_index=False)
    # Indexed by pools_pool_protocol_tvl_idx (protocol first), not by a separate FK index.
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="pools", db_index=False)
    symbol = models.CharField(max_length=200)
    meta = models.CharField(max_length=200, blank=True)  # poolMeta: fee tier, range, lock...
    # The pool's contract address when the source gives it (bundled data: "pool_old").
    address = models.CharField(max_length=100, blank=True)
    # "-WETH-USDC-": the symbol's tokens, upper-case, for the token-symbol filter.
    tokens_key = models.CharField(max_length=400, blank=True, editable=False)
    # The source's underlying and reward token lists as received: ingestion re-links
    # tokens only for pools whose lists changed (services.pools_ingest).
    tokens_signature = models.TextField(blank=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.UNKNOWN)
    underlying_tokens = models.ManyToManyField(Token, through="PoolUnderlyingToken", related_name="pools",
                                               blank=True)
    reward_tokens = models.ManyToManyField(Token, through="PoolRewardToken", related_name="rewarding_pools",
                                           blank=True)
    stablecoin = models.BooleanField(null=True)  # None = unknown
    il_risk = models.BooleanField(null=True)
    exposure = models.CharField(max_length=10, choices=Exposure.choices, blank=True)
    # Which of stablecoin / il_risk / exposure we derived from the symbol (the source did not say).
    derived_fields = models.JSONField(default=list, blank=True)

    # Latest metrics, denormalised for fast lists.
    tvl_usd = models.DecimalField(**TVL, default=0)
    apy = models.DecimalField(**PCT, null=True, blank=True)
    apy_base = models.DecimalField(**PCT, null=True, blank=True)
    apy_reward = models.DecimalField(**PCT, null=True, blank=True)
    apy_mean_30d = models.DecimalField(**PCT, null=True, blank=True)
    apy_base_7d = models.DecimalField(**PCT, null=True, blank=True)
    apy_pct_1d = models.DecimalField(**PCT, null=True, blank=True)
    apy_pct_7d = models.DecimalField(**PCT, null=True, blank=True)
    apy_pct_30d = models.DecimalField(**PCT, null=True, blank=True)
    volume_usd_1d = models.DecimalField(**TVL, null=True, blank=True)
    volume_usd_7d = models.DecimalField(**TVL, null=True, blank=True)
    il_7d = models.DecimalField(**PCT, null=True, blank=True)

    # The source's statistics (DeFiLlama), kept as given.
    mu = models.DecimalField(**PCT, null=True, blank=True)
    sigma = models.DecimalField(**PCT, null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    outlier = models.BooleanField(null=True)
    predicted_class = models.CharField(max_length=32, blank=True)
    predicted_probability = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    binned_confidence = models.SmallIntegerField(null=True, blank=True)

    # Our own statistics from PoolSnapshot (pools.services.pool_stats_refresh).
    apy_sigma_30d = models.DecimalField(**PCT, null=True, blank=True)  # sample σ of daily APY, 30 days
    apy_mean_30d_computed = models.BooleanField(default=False)  # apy_mean_30d is ours, not the source's
    history_start = models.DateField(null=True, blank=True)  # first day with a snapshot

    # Lifecycle.
    first_seen_at = models.DateTimeField()
    # Data time of the stored metrics (the record's timestamp, else the fetch time).
    # Written only when the row changes: an unchanged pool is not rewritten just
    # to move a timestamp; the RefreshRun says when the batch was seen.
    last_seen_at = models.DateTimeField()
    missed_refreshes = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    changed_at = models.DateTimeField(auto_now_add=True)  # last real change (set by the upsert)
    history_backfilled_at = models.DateTimeField(null=True, blank=True)
    # The spike guard's memory (pools.guard): {field: {"value", "since"}} for metrics whose
    # new level is held back; empty for almost every pool.
    spike_hold = models.JSONField(default=dict, blank=True, editable=False)

    # Risk (pools.risk), recomputed after each ingest and on protocol edits; the factor
    # breakdown lives in PoolRisk (out of this row: see there).
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_grade = models.CharField(max_length=1, blank=True)

    class Meta:
        ordering = ["-tvl_usd", "-id"]
        constraints = [
            # Also the index of ingestion's match on the source's id and of pool_get_by_external_id.
            models.UniqueConstraint(fields=["external_id"], name="pools_pool_external_id_uniq"),
            models.CheckConstraint(condition=Q(tvl_usd__gte=0), name="pools_pool_tvl_not_negative"),
            # Negative APYs are stored as 0 (as DeFiLlama does).
            models.CheckConstraint(condition=Q(apy__gte=0) | Q(apy__isnull=True), name="pools_pool_apy_not_negative"),
            models.CheckConstraint(condition=Q(apy_base__gte=0) | Q(apy_base__isnull=True),
                                   name="pools_pool_apy_base_not_negative"),
            models.CheckConstraint(condition=Q(apy_reward__gte=0) | Q(apy_reward__isnull=True),
                                   name="pools_pool_apy_reward_not_negative"),
            models.CheckConstraint(condition=Q(risk_score__lte=100) | Q(risk_score__isnull=True),
                                   name="pools_pool_risk_score_range"),
            models.CheckConstraint(condition=Q(kind__in=POOL_KINDS), name="pools_pool_kind_valid"),
            models.CheckConstraint(condition=Q(exposure__in=["", "single", "multi"]), name="pools_pool_exposure_valid"),
        ]
        indexes = [
            # Explorer / API list orderings over active pools (selectors.pool_list):
            # one partial index per sort key, NULLs last, id as the tie-breaker.
            models.Index(F("tvl_usd").desc(), F("id").desc(), name="pools_pool_active_tvl_idx", condition=ACTIVE),
            PortableIndex(F("apy").desc(nulls_last=True), F("id").desc(), name="pools_pool_active_apy_idx",
                         condition=ACTIVE),
            PortableIndex(F("apy_base").desc(nulls_last=True), F("id").desc(), name="pools_pool_active_apyb_idx",
                         condition=ACTIVE),
            PortableIndex(F("apy_reward").desc(nulls_last=True), F("id").desc(), name="pools_pool_active_apyr_idx",
                         condition=ACTIVE),
            PortableIndex(F("apy_mean_30d").desc(nulls_last=True), F("id").desc(), name="pools_pool_active_mean_idx",
                         condition=ACTIVE),
            PortableIndex(F("risk_score").asc(nulls_last=True), F("id").asc(), name="pools_pool_active_risk_idx",
                         condition=ACTIVE),
            # Explorer filtered by chain or by kind in the default TVL order.
            models.Index(F("chain"), F("tvl_usd").desc(), name="pools_pool_chain_tvl_idx", condition=ACTIVE),
            models.Index(F("kind"), F("tvl_usd").desc(), name="pools_pool_kind_tvl_idx", condition=ACTIVE),
            # Explorer filtered by protocol in the default TVL order (also the FK lookup).
            models.Index(F("protocol"), F("tvl_usd").desc(), name="pools_pool_protocol_tvl_idx"),
            # Ingestion: pools missing from a refresh are counted down (services.pools_ingest).
            models.Index(fields=["missed_refreshes"], name="pools_pool_missed_idx",
                         condition=Q(missed_refreshes__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.external_id})"

    def get_absolute_url(self) -> str:
        return reverse("pools:detail", args=[self.pk])

    @property
    def risk_factors(self) -> list[dict]:
        """The stored risk breakdown (``PoolRisk``): one query unless select_related("risk")."""
        try:
            return self.risk.factors
        except PoolRisk.DoesNotExist:
            return []

    @property
    def label(self) -> str:
        """The pool's own name with its fee tier or meta: "USDC-WETH 0.05 %"."""
        return pool_label(self.symbol, self.meta, self.address)

    @property
    def display_name(self) -> str:
        """"USDC-WETH 0.05 % · Uniswap V3 · Ethereum" (reads chain and protocol: select_related them)."""
        return pool_display_name(self.symbol, self.meta, self.protocol.name, self.chain.name, self.address)


class PoolRisk(models.Model):
    """A pool's risk factors: the breakdown behind ``Pool.risk_score``, one row per pool.

    Kept out of pools_pool on purpose: the factors are ~1 kB of JSON, which made every
    pool row ~1.5 kB (PostgreSQL only moves values out of line above ~2 kB), and the
    lists count, filter and sort pools_pool by sequential scans. Only the pool page and
    the API detail read them."""

    pool = models.OneToOneField(Pool, on_delete=models.CASCADE, primary_key=True, related_name="risk")
    factors = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"risk of {self.pool_id}"


class PoolUnderlyingToken(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="underlying_links", db_index=False)
    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="underlying_links")
    position = models.PositiveSmallIntegerField(default=0)  # order in the source's list

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["pool", "token"], name="pools_underlying_uniq")]
        # (pool, token) unique index serves pool -> tokens; the FK index on token serves token -> pools.

    def __str__(self) -> str:
        return f"{self.pool_id}:{self.token_id}"


class PoolRewardToken(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="reward_links", db_index=False)
    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="reward_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        # (pool, token) unique index serves pool -> tokens; the FK index on token serves token -> pools.
        constraints = [models.UniqueConstraint(fields=["pool", "token"], name="pools_reward_uniq")]

    def __str__(self) -> str:
        return f"{self.pool_id}:{self.token_id}"


class PoolSnapshot(models.Model):
    """One pool's metrics on one UTC day (the last value seen that day)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    day = models.DateField()
    tvl_usd = models.DecimalField(**TVL, null=True, blank=True)
    apy = models.DecimalField(**PCT, null=True, blank=True)
    apy_base = models.DecimalField(**PCT, null=True, blank=True)
    apy_reward = models.DecimalField(**PCT, null=True, blank=True)

    class Meta:
        ordering = ["pool", "day"]
        constraints = [
            # Also the index of the history reads (pool detail charts, /history/) and of the upsert.
            models.UniqueConstraint(fields=["pool", "day"], name="pools_snapshot_pool_day_uniq"),
            models.CheckConstraint(condition=Q(apy__gte=0) | Q(apy__isnull=True),
                                   name="pools_snapshot_apy_not_negative"),
        ]
        indexes = [
            # services.pool_stats_refresh: the last 30 days of every pool.
            models.Index(fields=["day"], name="pools_snapshot_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.day}"


class TokenPrice(models.Model):
    """A USD price. Daily history is one row per UTC day (timestamp at 00:00 UTC,
    the day's close, or for today the latest quote); ``quoted_at`` is when the
    price was actually observed."""

    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="prices", db_index=False)
    timestamp = models.DateTimeField()
    price_usd = models.DecimalField(**PRICE)
    quoted_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["token", "timestamp"]
        constraints = [
            # Also the index of selectors.token_price_row_at (token, timestamp <= t, newest first)
            # and of /tokens/{id}/prices/.
            models.UniqueConstraint(fields=["token", "timestamp"], name="pools_tokenprice_token_ts_uniq"),
            models.CheckConstraint(condition=Q(price_usd__gte=0), name="pools_tokenprice_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id} {self.timestamp:%Y-%m-%d} {self.price_usd}"


class FxRate(models.Model):
    """A euro foreign exchange reference rate as the ECB publishes it: ``rate`` units
    of ``currency`` per 1 EUR on ``day`` (a TARGET business day). EUR itself is
    implied (1) and never stored. Written by ``pools.services.fx``; read through
    ``pools.selectors_fx`` (which applies the weekend/holiday fallback)."""

    class Source(models.TextChoices):
        ECB = "ecb", "ECB daily feed"
        ECB_HISTORY = "ecb_history", "ECB history file"
        MANUAL = "manual", "Entered by staff"

    currency = models.CharField(max_length=3)  # ISO 4217, upper-case
    day = models.DateField()
    rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES)
    source = models.CharField(max_length=16, choices=Source.choices)
    fetched_at = models.DateTimeField()

    class Meta:
        db_table = "pools_fxrate"  # named in pools.services.fx's bulk SQL
        ordering = ["currency", "-day"]
        constraints = [
            # Also the index of every read: fx_rate_on (currency, day <= d, newest first),
            # fx_table (currency IN …, day BETWEEN …) and the loaders' ON CONFLICT.
            models.UniqueConstraint(fields=["currency", "day"], name="pools_fxrate_currency_day_uniq"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="pools_fxrate_rate_positive",
                                   violation_error_message="A rate must be positive."),
            models.CheckConstraint(condition=~Q(currency="EUR"), name="pools_fxrate_not_eur",
                                   violation_error_message="EUR is the base: its rate is always 1."),
        ]
        # No index on day alone: its readers (the newest stored day, once per refresh;
        # the history loader's per-day counts; the admin's date drill-down) scan the
        # ~220,000 narrow rows in tens of milliseconds, while maintaining it cost a
        # quarter of the history load's time (benchmarks/bench_fx.py).

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} 1 EUR = {self.rate} {self.currency}"


class RefreshRun(HeartbeatFields, models.Model):
    """One refresh. While ``running`` its worker heartbeats (``heartbeat_at``); a run whose
    heartbeat stops is reaped (``pools.services.runs.refresh_runs_reap``)."""

    class Kind(models.TextChoices):
        POOLS = "pools", "Pools"
        PRICES = "prices", "Prices"
        HISTORY = "history", "Pool history"
        FX = "fx", "FX rates"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    data_as_of = models.DateTimeField(null=True, blank=True)  # the payload's own time (bundled: its newest record)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    reactivated = models.PositiveIntegerField(default=0)
    spike_skipped = models.PositiveIntegerField(default=0)
    snapshots_written = models.PositiveIntegerField(default=0)
    rejection_reasons = models.JSONField(default=dict, blank=True)  # {"tvl_out_of_range": 3, ...}
    spike_pools = models.JSONField(default=list, blank=True)  # [{"pool": uuid, "field": "apy", "old": .., "new": ..}]
    kept_fields = models.JSONField(default=dict, blank=True)  # {"apy_base": {"negative": 10}}: last good value kept
    error = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)  # timings, pool id for history runs...

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["pools", "prices", "history", "fx"]),
                                   name="pools_run_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=["running", "succeeded", "failed", "skipped"]),
                                   name="pools_run_status_valid"),
        ]
        indexes = [
            # selectors.data_freshness: last succeeded run of a kind; admin list.
            models.Index(fields=["kind", "status", "-finished_at"], name="pools_run_kind_status_idx"),
            # The reaper: runs still marked running.
            models.Index(fields=["heartbeat_at"], name="pools_run_running_idx", condition=Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.started_at:%Y-%m-%d %H:%M}"
