"""Wallet API serializers (separate in and out, documented for drf-spectacular)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolios.api.serializers import DecimalOut
from portfolios.wallets.models import Chain, SyncCursor, Wallet, WalletSync


class ChainOut(serializers.ModelSerializer):
    class Meta:
        model = Chain
        fields = ["id", "chain_id", "slug", "name", "native_symbol", "confirmations", "explorer_url"]


class CursorOut(serializers.ModelSerializer):
    chain: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SyncCursor
        fields = ["chain", "last_block", "last_block_at", "synced_at"]


class WalletIn(serializers.Serializer):
    portfolio = serializers.IntegerField(help_text="One of your portfolios.")
    address = serializers.CharField(max_length=42, help_text="0x + 40 hex digits; mixed case must be a valid checksum.")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")  # type: ignore[assignment]  # Field.label is the display name in the stubs
    chains = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list,
        help_text="Chain slugs to scan (empty: every active chain).",
    )  # fmt: skip


class WalletUpdateIn(serializers.Serializer):
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)  # type: ignore[assignment]  # as above
    active = serializers.BooleanField(required=False, help_text="Re-synced by the hourly schedule.")
    chains = serializers.ListField(child=serializers.SlugField(), required=False)


class WalletOut(serializers.ModelSerializer):
    address = serializers.CharField(source="checksum_address", help_text="EIP-55 checksummed.")
    chains: serializers.RelatedField = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    checkpoints = CursorOut(source="cursors", many=True, read_only=True)
    latest_sync = serializers.SerializerMethodField()

    class Meta:
        model = Wallet
        fields = ["id", "portfolio", "address", "label", "chains", "active", "created_at", "checkpoints", "latest_sync"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_latest_sync(self, wallet: Wallet) -> int | None:
        return getattr(wallet, "latest_sync_id", None)


class ReconciliationOut(serializers.Serializer):
    chain = serializers.CharField()
    token = serializers.CharField(help_text="Token contract address.")
    symbol = serializers.CharField()
    block = serializers.IntegerField()
    expected = DecimalOut(help_text="Net synced transfers, in token units (null: decimals unknown).")
    on_chain = DecimalOut(help_text="balanceOf(wallet) at the block, in token units.")
    difference = DecimalOut(help_text="on_chain - expected (null when unknown).")
    ok = serializers.BooleanField()


class WalletSyncOut(serializers.ModelSerializer):
    wallet: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    reconciliation = serializers.SerializerMethodField()

    class Meta:
        model = WalletSync
        fields = [
            "id", "wallet", "status", "chains_total", "chains_done", "blocks_total", "blocks_done",
            "records_created", "error", "created_at", "started_at", "finished_at", "heartbeat_at", "reconciliation",
        ]  # fmt: skip

    @extend_schema_field(ReconciliationOut(many=True))
    def get_reconciliation(self, run: WalletSync) -> list[dict]:
        lines = self.context.get("reconciliation") or []
        return list(ReconciliationOut(lines, many=True).data)
